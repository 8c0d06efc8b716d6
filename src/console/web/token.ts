/**
 * The admin token of the console page: taken once from the address
 * (`#token=` or `?token=`), then dropped from it with `history.replaceState`
 * so that it is neither bookmarked nor shared; kept for the tab in
 * sessionStorage.
 */
const STORAGE_KEY = 'roomstate-console-token';

/** Takes a token from the address (removing it) or from this tab's storage. */
export function takeToken(): string | null {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const fromUrl = hash.get('token') ?? query.get('token');
  if (fromUrl !== null) {
    query.delete('token');
    const search = query.toString();
    history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
    if (fromUrl !== '') rememberToken(fromUrl);
  }
  return sessionStorage.getItem(STORAGE_KEY);
}

/** Keeps a token for this tab. */
export function rememberToken(token: string): void {
  sessionStorage.setItem(STORAGE_KEY, token);
}

/** Forgets the token (it was refused). */
export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
