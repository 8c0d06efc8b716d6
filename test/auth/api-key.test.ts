/**
 * API keys (src/auth/api-key.ts): their claims, and that a key and a room or
 * admin token are never mistaken for one another.
 */
import { describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt } from 'jose';
import { mintApiKey, verifyApiKey } from '../../src/auth/api-key.js';
import { TokenError, mintAdminToken, mintToken, verifyAdminToken, verifyToken, type TokenRefusal } from '../../src/auth/token.js';
import { API_KEY_GRANT, DEFAULT_API_KEY_PROJECT } from '../../src/protocol/accounts.js';

const secret = 'test-secret-0123456789';
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function refusal(attempt: Promise<unknown>): Promise<TokenRefusal> {
  try {
    await attempt;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).code).toBe('ROOM_ERR_AUTH');
    return (error as TokenError).reason;
  }
  throw new Error('the token was accepted');
}

function sign(payload: Record<string, unknown>, signingSecret = secret): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(signingSecret));
}

describe('mintApiKey', () => {
  it('writes one api_key grant with the project, the name and a one-hour expiry', async () => {
    const key = await mintApiKey({ secret, name: 'cli' });
    const claims = decodeJwt(key);
    expect(claims.name).toBe('cli');
    expect(claims.grants).toEqual([{ name: API_KEY_GRANT, scope: { project: DEFAULT_API_KEY_PROJECT } }]);
    expect(claims.exp).toBeGreaterThanOrEqual(nowSeconds() + 3590);
    expect(claims.exp).toBeLessThanOrEqual(nowSeconds() + 3601);
    expect(decodeJwt(await mintApiKey({ secret, name: 'cli', project: 'p1', ttlSeconds: 0 })).exp).toBeUndefined();
  });

  it('refuses an empty secret, name or project', async () => {
    await expect(mintApiKey({ secret: '', name: 'cli' })).rejects.toThrow('an API key needs a non-empty secret.');
    await expect(mintApiKey({ secret, name: '' })).rejects.toThrow('an API key needs a non-empty participant name.');
    await expect(mintApiKey({ secret, name: 'cli', project: '' })).rejects.toThrow('an API key needs a non-empty project id.');
  });
});

describe('verifyApiKey', () => {
  it('accepts a key for its project and returns its name and expiry', async () => {
    const key = await mintApiKey({ secret, name: 'cli', project: 'p1', ttlSeconds: 60 });
    const verified = await verifyApiKey(key, 'p1', { secret });
    expect(verified).toMatchObject({ name: 'cli', project: 'p1' });
    expect(verified.expiresAt).toBe((decodeJwt(key).exp as number) * 1000);
  });

  it('refuses another project, another secret, an expired key and no key', async () => {
    const key = await mintApiKey({ secret, name: 'cli', project: 'p1' });
    expect(await refusal(verifyApiKey(key, 'p2', { secret }))).toBe('API key is not for this project');
    expect(await refusal(verifyApiKey(key, 'p1', { secret: 'another-secret' }))).toBe('invalid signature');
    const expired = await sign({ name: 'cli', grants: [{ name: API_KEY_GRANT, scope: { project: 'p1' } }], exp: nowSeconds() - 10 });
    expect(await refusal(verifyApiKey(expired, 'p1', { secret }))).toBe('token expired');
    expect(await refusal(verifyApiKey(undefined, 'p1', { secret }))).toBe('missing token');
    const nameless = await sign({ grants: [{ name: API_KEY_GRANT, scope: { project: 'p1' } }] });
    expect(await refusal(verifyApiKey(nameless, 'p1', { secret }))).toBe('token has no name');
  });

  it('refuses room and admin tokens, and a token that mixes a key with a room or admin grant', async () => {
    const room = await mintToken({ secret, room: 'lobby', name: 'alice' });
    expect(await refusal(verifyApiKey(room, DEFAULT_API_KEY_PROJECT, { secret }))).toBe('token is not an API key');
    const admin = await mintAdminToken({ secret });
    expect(await refusal(verifyApiKey(admin, DEFAULT_API_KEY_PROJECT, { secret }))).toBe('token is not an API key');
    for (const extra of [{ name: 'room', scope: 'lobby' }, { name: 'admin', scope: 'console' }]) {
      const mixed = await sign({ name: 'x', grants: [{ name: API_KEY_GRANT, scope: { project: 'p1' } }, extra] });
      expect(await refusal(verifyApiKey(mixed, 'p1', { secret }))).toBe('token is not an API key');
    }
    const scopeless = await sign({ name: 'x', grants: [{ name: API_KEY_GRANT, scope: 'p1' }] });
    expect(await refusal(verifyApiKey(scopeless, 'p1', { secret }))).toBe('token is not an API key');
  });

  it('is refused as a room token and as an admin token', async () => {
    const key = await mintApiKey({ secret, name: 'cli' });
    expect(await refusal(verifyToken(key, { secret, room: 'lobby' }))).toBe('token is not for this room');
    expect(await refusal(verifyAdminToken(key, 'inspect', { secret }))).toBe('token has no admin grant');
  });
});
