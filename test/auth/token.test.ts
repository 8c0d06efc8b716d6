import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { TOKEN_VERSION, TokenError, messagingFromGrants, mintToken, roleFromGrants, verifyToken, type TokenRefusal } from '../../src/auth/token.js';
import { RoomStateError } from '../../src/errors.js';

const secret = 'test-secret-0123456789';
const key = new TextEncoder().encode(secret);
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function sign(payload: Record<string, unknown>, signingSecret = secret): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(signingSecret));
}

async function refusal(token: string | undefined, room = 'lobby', extra: { maxTokenLength?: number } = {}): Promise<TokenRefusal> {
  try {
    await verifyToken(token, { secret, room, ...extra });
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toBeInstanceOf(RoomStateError);
    expect((error as TokenError).code).toBe('ROOM_ERR_AUTH');
    expect((error as TokenError).message).toBe(`${(error as TokenError).reason}.`);
    return (error as TokenError).reason;
  }
  throw new Error('verifyToken accepted the token');
}

describe('mintToken', () => {
  it('writes the MeshAgent claims shape with an HS256/JWT header', async () => {
    const token = await mintToken({ secret, room: 'lobby', name: 'alice' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims.name).toBe('alice');
    expect(claims.version).toBe(TOKEN_VERSION);
    expect(claims.grants).toEqual([
      { name: 'room', scope: 'lobby' },
      { name: 'api', scope: { messaging: {} } },
    ]);
    // Default TTL is an hour.
    expect(claims.exp).toBeGreaterThanOrEqual(nowSeconds() + 3599);
    expect(claims.exp).toBeLessThanOrEqual(nowSeconds() + 3601);
  });

  it('adds a role grant for roles other than user', async () => {
    const claims = decodeJwt(await mintToken({ secret, room: 'r', name: 'bot', role: 'agent' }));
    expect(claims.grants).toContainEqual({ name: 'role', scope: 'agent' });
  });

  it('writes only turned-off messaging actions, or no api grant with messaging: false', async () => {
    const some = decodeJwt(await mintToken({ secret, room: 'r', name: 'n', messaging: { send: false, list: true } }));
    expect(some.grants).toContainEqual({ name: 'api', scope: { messaging: { send: false } } });
    const none = decodeJwt(await mintToken({ secret, room: 'r', name: 'n', messaging: false }));
    expect((none.grants as Array<{ name: string }>).some((g) => g.name === 'api')).toBe(false);
  });

  it('leaves exp out with ttlSeconds 0 and honours a custom ttl', async () => {
    expect(decodeJwt(await mintToken({ secret, room: 'r', name: 'n', ttlSeconds: 0 })).exp).toBeUndefined();
    const exp = decodeJwt(await mintToken({ secret, room: 'r', name: 'n', ttlSeconds: 90 })).exp!;
    expect(exp - nowSeconds()).toBeGreaterThanOrEqual(89);
    expect(exp - nowSeconds()).toBeLessThanOrEqual(91);
  });

  it('keeps extra claims but never lets them override name or grants', async () => {
    const claims = decodeJwt(await mintToken({ secret, room: 'r', name: 'n', extraClaims: { sub: 'project', kid: 'key', name: 'evil', grants: [] } }));
    expect(claims.sub).toBe('project');
    expect(claims.kid).toBe('key');
    expect(claims.name).toBe('n');
    expect(claims.grants).toContainEqual({ name: 'room', scope: 'r' });
  });

  it.each([
    { options: { secret: '', room: 'r', name: 'n' }, message: 'a token needs a non-empty secret.' },
    { options: { secret, room: 'r', name: '' }, message: 'a token needs a non-empty participant name.' },
    { options: { secret, room: '', name: 'n' }, message: 'a token needs a non-empty room name.' },
  ])('refuses $message', async ({ options, message }) => {
    await expect(mintToken(options)).rejects.toThrow(new RoomStateError('ROOM_ERR_AUTH', message));
  });
});

describe('mint then verify', () => {
  it('round-trips name, role, room and messaging permissions', async () => {
    const token = await mintToken({ secret, room: 'lobby', name: 'bot', role: 'tool', messaging: { broadcast: false } });
    const verified = await verifyToken(token, { secret, room: 'lobby' });
    expect(verified.name).toBe('bot');
    expect(verified.role).toBe('tool');
    expect(verified.room).toBe('lobby');
    expect(verified.messaging).toEqual({ send: true, broadcast: false, list: true });
    expect(verified.claims.name).toBe('bot');
  });

  it('accepts the secret as bytes', async () => {
    const token = await mintToken({ secret, room: 'lobby', name: 'a' });
    expect((await verifyToken(token, { secret: key, room: 'lobby' })).name).toBe('a');
  });

  it('reports messaging undefined for a token without an api grant', async () => {
    const token = await mintToken({ secret, room: 'lobby', name: 'a', messaging: false });
    expect((await verifyToken(token, { secret, room: 'lobby' })).messaging).toBeUndefined();
  });

  it('property: any name, room and role survive', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        fc.constantFrom('user', 'agent', 'tool', 'member'),
        async (name, room, role) => {
          const verified = await verifyToken(await mintToken({ secret, room, name, role }), { secret, room });
          expect(verified.name).toBe(name);
          expect(verified.room).toBe(room);
          expect(verified.role).toBe(role);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('verifyToken refusals', () => {
  it('missing token', async () => {
    expect(await refusal(undefined)).toBe('missing token');
    expect(await refusal('')).toBe('missing token');
  });

  it('token too large', async () => {
    expect(await refusal('x'.repeat(8193))).toBe('token too large');
    const token = await mintToken({ secret, room: 'lobby', name: 'a' });
    expect(await refusal(token, 'lobby', { maxTokenLength: token.length - 1 })).toBe('token too large');
  });

  it('expired', async () => {
    expect(await refusal(await sign({ name: 'a', grants: [{ name: 'room', scope: 'lobby' }], exp: nowSeconds() - 10 }))).toBe('token expired');
  });

  it('not yet valid', async () => {
    expect(await refusal(await sign({ name: 'a', grants: [{ name: 'room', scope: 'lobby' }], nbf: nowSeconds() + 600 }))).toBe('token not yet valid');
  });

  it('wrong room', async () => {
    expect(await refusal(await mintToken({ secret, room: 'other', name: 'a' }))).toBe('token is not for this room');
  });

  it('no room grant at all, or grants that are not an array', async () => {
    expect(await refusal(await sign({ name: 'a', grants: [] }))).toBe('token is not for this room');
    expect(await refusal(await sign({ name: 'a', grants: { room: 'lobby' } }))).toBe('token is not for this room');
  });

  it('bad signature (another secret)', async () => {
    expect(await refusal(await mintToken({ secret: 'another-secret', room: 'lobby', name: 'a' }))).toBe('invalid signature');
  });

  it('bad signature (tampered payload)', async () => {
    const [header, , signature] = (await mintToken({ secret, room: 'lobby', name: 'a' })).split('.');
    const forged = Buffer.from(JSON.stringify({ name: 'admin', grants: [{ name: 'room', scope: 'lobby' }] })).toString('base64url');
    expect(await refusal(`${header}.${forged}.${signature}`)).toBe('invalid signature');
  });

  it('alg none', async () => {
    const unsecured = new UnsecuredJWT({ name: 'a', grants: [{ name: 'room', scope: 'lobby' }] }).encode();
    expect(unsecured.endsWith('.')).toBe(true);
    expect(await refusal(unsecured)).toBe('invalid token');
  });

  it('another algorithm (HS512) with the right secret', async () => {
    const hs512 = await new SignJWT({ name: 'a', grants: [{ name: 'room', scope: 'lobby' }] })
      .setProtectedHeader({ alg: 'HS512' })
      .sign(new TextEncoder().encode(secret.repeat(4)));
    expect(await refusal(hs512)).toBe('invalid token');
  });

  it('garbage', async () => {
    expect(await refusal('not.a.jwt')).toBe('invalid token');
    expect(await refusal('abc')).toBe('invalid token');
  });

  it('missing or empty name', async () => {
    expect(await refusal(await sign({ grants: [{ name: 'room', scope: 'lobby' }] }))).toBe('token has no name');
    expect(await refusal(await sign({ name: '', grants: [{ name: 'room', scope: 'lobby' }] }))).toBe('token has no name');
    expect(await refusal(await sign({ name: 42, grants: [{ name: 'room', scope: 'lobby' }] }))).toBe('token has no name');
  });

  it('never echoes the token in the message', async () => {
    const token = await mintToken({ secret: 'x', room: 'lobby', name: 'a' });
    await expect(verifyToken(token, { secret, room: 'lobby' })).rejects.not.toThrow(token);
  });
});

describe('grant helpers', () => {
  it('roleFromGrants takes the first non-user role grant', () => {
    expect(roleFromGrants([])).toBe('user');
    expect(roleFromGrants([{ name: 'role', scope: 'user' }, { name: 'role', scope: 'agent' }, { name: 'role', scope: 'tool' }])).toBe('agent');
    expect(roleFromGrants([{ name: 'role', scope: 42 }])).toBe('user');
  });

  it('messagingFromGrants defaults every action to allowed', () => {
    expect(messagingFromGrants([{ name: 'api', scope: { messaging: {} } }])).toEqual({ send: true, broadcast: true, list: true });
    expect(messagingFromGrants([{ name: 'api', scope: { messaging: { send: false, list: false } } }])).toEqual({ send: false, broadcast: true, list: false });
    expect(messagingFromGrants([{ name: 'api', scope: {} }])).toBeUndefined();
    expect(messagingFromGrants([{ name: 'api', scope: 'all' }])).toBeUndefined();
    expect(messagingFromGrants([])).toBeUndefined();
  });
});
