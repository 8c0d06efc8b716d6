/**
 * Tokens interoperate with the official client (@meshagent/meshagent 0.39.9):
 * ours parse with its ParticipantToken.fromJwt, and its toJwt output passes
 * our verifyToken.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, verifyToken, TokenError } from '../../src/auth/token.js';

interface OfficialGrant {
  name: string;
  scope: unknown;
}
interface OfficialToken {
  name: string;
  role: string;
  grants: OfficialGrant[];
  projectId?: string;
  apiKeyId?: string;
  version: string;
  extra: Record<string, unknown>;
  addRoomGrant(room: string): void;
  addRoleGrant(role: string): void;
  addApiGrant(scope: unknown): void;
  grantScope(name: string): unknown;
  getApiGrant(): { messaging?: { send: boolean; broadcast: boolean; list: boolean } } | undefined;
  toJwt(options: { token?: string; expiration?: Date }): Promise<string>;
}
interface OfficialModule {
  ParticipantToken: {
    new (options: { name: string; projectId?: string; apiKeyId?: string }): OfficialToken;
    fromJwt(jwt: string, options?: { token?: string; verify?: boolean }): Promise<OfficialToken>;
  };
  ApiScope: { agentDefault(): unknown; userDefault(): unknown };
  MessagingGrant: new (options?: { send?: boolean; broadcast?: boolean; list?: boolean }) => unknown;
}

const official = createRequire(import.meta.url)('@meshagent/meshagent') as OfficialModule;
const secret = 'interop-secret-abcdef';

// MESHAGENT_API_KEY overrides an explicit secret in 0.39.9; MESHAGENT_SECRET is a fallback.
const savedEnv: Record<string, string | undefined> = {};
beforeAll(() => {
  for (const name of ['MESHAGENT_API_KEY', 'MESHAGENT_SECRET']) {
    savedEnv[name] = process.env[name];
    delete process.env[name];
  }
});
afterAll(() => {
  for (const [name, value] of Object.entries(savedEnv)) if (value !== undefined) process.env[name] = value;
});

describe('roomstate tokens in the official client', () => {
  it('fromJwt verifies the signature with the secret and reads name, role and grants', async () => {
    const jwt = await mintToken({ secret, room: 'lobby', name: 'alice', role: 'agent' });
    const token = await official.ParticipantToken.fromJwt(jwt, { token: secret });
    expect(token.name).toBe('alice');
    expect(token.role).toBe('agent');
    expect(token.grantScope('room')).toBe('lobby');
    expect(token.getApiGrant()?.messaging).toMatchObject({ send: true, broadcast: true, list: true });
    expect(token.version).toBe('0.36.3');
    expect(typeof token.extra.exp).toBe('number');
  });

  it('fromJwt refuses our token under another secret', async () => {
    const jwt = await mintToken({ secret, room: 'lobby', name: 'alice' });
    await expect(official.ParticipantToken.fromJwt(jwt, { token: 'wrong-secret' })).rejects.toThrow(/signature/i);
  });

  it('a user token reads as role user with turned-off actions kept', async () => {
    const jwt = await mintToken({ secret, room: 'lobby', name: 'bob', messaging: { broadcast: false } });
    const token = await official.ParticipantToken.fromJwt(jwt, { token: secret });
    expect(token.role).toBe('user');
    expect(token.getApiGrant()?.messaging).toMatchObject({ send: true, broadcast: false, list: true });
  });
});

describe('official tokens in roomstate', () => {
  async function officialJwt(options: { room?: string; role?: string; name?: string; expiration?: Date; api?: unknown; signWith?: string }): Promise<string> {
    const token = new official.ParticipantToken({ name: options.name ?? 'client1', projectId: 'fc1e793c-b556-496b-bf07-8182b844e058', apiKeyId: 'fa3f839c' });
    token.addRoomGrant(options.room ?? 'lobby');
    if (options.role) token.addRoleGrant(options.role);
    token.addApiGrant(options.api ?? official.ApiScope.agentDefault());
    return token.toJwt({ token: options.signWith ?? secret, expiration: options.expiration });
  }

  it('verifyToken accepts an agentDefault token and reads name, role, messaging and extra claims', async () => {
    const verified = await verifyToken(await officialJwt({ role: 'agent', expiration: new Date(Date.now() + 60_000) }), { secret, room: 'lobby' });
    expect(verified.name).toBe('client1');
    expect(verified.role).toBe('agent');
    expect(verified.room).toBe('lobby');
    expect(verified.messaging).toEqual({ send: true, broadcast: true, list: true });
    expect(verified.claims.sub).toBe('fc1e793c-b556-496b-bf07-8182b844e058');
    expect(verified.claims.kid).toBe('fa3f839c');
  });

  it('verifyToken honours a MessagingGrant with an action turned off', async () => {
    const api = official.ApiScope.userDefault() as { messaging: unknown };
    api.messaging = new official.MessagingGrant({ send: false });
    const verified = await verifyToken(await officialJwt({ api }), { secret, room: 'lobby' });
    expect(verified.role).toBe('user');
    expect(verified.messaging).toEqual({ send: false, broadcast: true, list: true });
  });

  it.each([
    { name: 'expired', options: { expiration: new Date(Date.now() - 60_000) }, reason: 'token expired' },
    { name: 'wrong room', options: { room: 'elsewhere' }, reason: 'token is not for this room' },
    { name: 'signed with another secret', options: { signWith: 'other' }, reason: 'invalid signature' },
  ])('verifyToken refuses an official token that is $name', async ({ options, reason }) => {
    const jwt = await officialJwt(options);
    await expect(verifyToken(jwt, { secret, room: 'lobby' })).rejects.toMatchObject({ name: 'TokenError', reason });
    await expect(verifyToken(jwt, { secret, room: 'lobby' })).rejects.toBeInstanceOf(TokenError);
  });
});
