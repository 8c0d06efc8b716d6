/**
 * API keys: what the official `meshagent` CLI sends (`MESHAGENT_API_KEY`) to
 * the accounts endpoint, which answers with a participant token for a room.
 * A key is an HS256 JWT signed with the server's secret, so the server
 * verifies it without storing anything. It is a token of its own kind: its
 * only grant is `api_key`, so no room admits it (it has no `room` grant) and
 * the console refuses it (no `admin` grant); a participant or admin token is
 * refused as a key (no `api_key` grant). See docs/interop.md.
 */
import { RoomStateError, RoomStateErrorCode } from '../errors.js';
import { API_KEY_GRANT, DEFAULT_API_KEY_PROJECT } from '../protocol/accounts.js';
import { TOKEN_VERSION, TokenError, asGrants, sign, verifiedPayload, type ParticipantGrant, type VerifyTokenOptions } from './token.js';

/** Options of {@link mintApiKey}. */
export interface MintApiKeyOptions {
  /** The server's HS256 secret. */
  secret: string;
  /** The participant name of the room tokens the key obtains (the `name` attribute in the room). */
  name: string;
  /**
   * The project id the key is for; the accounts endpoint refuses others.
   * @defaultValue 'roomstate'
   */
  project?: string;
  /**
   * Lifetime in seconds; 0 for a key without `exp`.
   * @defaultValue 3600
   */
  ttlSeconds?: number;
}

/** A verified API key. */
export interface VerifiedApiKey {
  /** The participant name of the room tokens it obtains. */
  readonly name: string;
  /** The project id it is for. */
  readonly project: string;
  /** When it expires, in milliseconds since the epoch; `undefined` without `exp`. */
  readonly expiresAt: number | undefined;
}

/**
 * Mints an API key for the official `meshagent` CLI: a JWT whose only grant
 * is `api_key` with scope `{ project }`.
 *
 * @example
 * ```ts
 * const key = await mintApiKey({ secret, name: 'cli' }); // MESHAGENT_API_KEY
 * ```
 */
export async function mintApiKey(options: MintApiKeyOptions): Promise<string> {
  if (!options.secret) throw new RoomStateError(RoomStateErrorCode.Auth, 'an API key needs a non-empty secret.');
  if (!options.name) throw new RoomStateError(RoomStateErrorCode.Auth, 'an API key needs a non-empty participant name.');
  const project = options.project ?? DEFAULT_API_KEY_PROJECT;
  if (!project) throw new RoomStateError(RoomStateErrorCode.Auth, 'an API key needs a non-empty project id.');
  const grants: ParticipantGrant[] = [{ name: API_KEY_GRANT, scope: { project } }];
  return sign({ name: options.name, grants, version: TOKEN_VERSION }, options.secret, options.ttlSeconds);
}

/**
 * Verifies an API key for `project`: signature, `exp`/`nbf`, a non-empty
 * `name`, an `api_key` grant for that project and no `room` or `admin`
 * grant. Throws a {@link TokenError}: "token is not an API key" for any other
 * kind of token, "API key is not for this project" for another project.
 */
export async function verifyApiKey(key: string | undefined, project: string, options: Omit<VerifyTokenOptions, 'room'>): Promise<VerifiedApiKey> {
  const payload = await verifiedPayload(key, options);
  const grants = asGrants(payload.grants);
  const scope = grants.find((grant) => grant.name === API_KEY_GRANT)?.scope;
  const keyProject = scope !== null && typeof scope === 'object' ? (scope as { project?: unknown }).project : undefined;
  // A key is one kind of token only: one that also admits to a room or the console is not a key.
  if (typeof keyProject !== 'string' || grants.some((grant) => grant.name === 'room' || grant.name === 'admin')) {
    throw new TokenError('token is not an API key');
  }
  if (typeof payload.name !== 'string' || payload.name.length === 0) throw new TokenError('token has no name');
  if (keyProject !== project) throw new TokenError('API key is not for this project');
  return { name: payload.name, project: keyProject, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined };
}
