/**
 * `roomstate token` as a real process: its JWT is accepted by a roomstate
 * server and by the official client's ParticipantToken.fromJwt; its API key
 * by the accounts route.
 */
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { expectExitCode, killAllClis, runCli } from '../helpers/cli.js';
import { connectRaw, expectUpgradeRefused } from '../helpers/raw-client.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import { verifyAdminToken, verifyToken } from '../../src/auth/token.js';
import { verifyApiKey } from '../../src/auth/api-key.js';
import { DEFAULT_API_KEY_PROJECT, connectPath } from '../../src/protocol/accounts.js';

interface OfficialToken {
  name: string;
  role: string;
  grantScope(name: string): unknown;
  getApiGrant(): { messaging?: { send: boolean; broadcast: boolean; list: boolean } } | undefined;
}
const official = createRequire(import.meta.url)('@meshagent/meshagent') as {
  ParticipantToken: { fromJwt(jwt: string, options?: { token?: string }): Promise<OfficialToken> };
};

const fx = useServer();
const savedApiKey = process.env.MESHAGENT_API_KEY;
beforeAll(() => {
  delete process.env.MESHAGENT_API_KEY;
});
afterAll(() => {
  if (savedApiKey !== undefined) process.env.MESHAGENT_API_KEY = savedApiKey;
});
afterEach(killAllClis);

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('roomstate token', () => {
  it('prints one JWT that the server accepts, with the name published as an attribute', async () => {
    const room = uniqueRoom();
    const exit = await runCli(['token', '--room', room, '--name', 'alice', '--secret', fx.secret]);
    expectExitCode(exit, 0);
    expect(exit.stderr).toBe('');
    expect(exit.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const client = await connectRaw(fx.url, room, exit.stdout.trim());
    fx.defer(() => client.terminate());
    expect(client.connected.attributes).toMatchObject({ name: 'alice' });
  });

  it('is accepted by the official client ParticipantToken.fromJwt (signature verified)', async () => {
    const exit = await runCli(['token', '--room', 'lobby', '--name', 'bot', '--role', 'agent'], { env: { ROOMSTATE_SECRET: fx.secret } });
    expectExitCode(exit, 0);
    const token = await official.ParticipantToken.fromJwt(exit.stdout.trim(), { token: fx.secret });
    expect(token.name).toBe('bot');
    expect(token.role).toBe('agent');
    expect(token.grantScope('room')).toBe('lobby');
    expect(token.getApiGrant()?.messaging).toMatchObject({ send: true, broadcast: true, list: true });
    await expect(official.ParticipantToken.fromJwt(exit.stdout.trim(), { token: 'another-secret' })).rejects.toThrow();
  });

  it('takes the room from ROOMSTATE_ROOM and a role of tool', async () => {
    const exit = await runCli(['token', '--name', 't', '--role', 'tool'], { env: { ROOMSTATE_SECRET: fx.secret, ROOMSTATE_ROOM: 'env-room' } });
    expectExitCode(exit, 0);
    const verified = await verifyToken(exit.stdout.trim(), { secret: fx.secret, room: 'env-room' });
    expect(verified.role).toBe('tool');
  });

  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
    ['120', 120],
  ])('--ttl %s expires in %i seconds', async (ttl, seconds) => {
    const before = nowSeconds();
    const exit = await runCli(['token', '--room', 'r', '--name', 'n', '--secret', 's', '--ttl', ttl]);
    expectExitCode(exit, 0);
    const exp = decodeJwt(exit.stdout.trim()).exp!;
    expect(exp).toBeGreaterThanOrEqual(before + seconds);
    expect(exp).toBeLessThanOrEqual(nowSeconds() + seconds + 1);
  });

  it('--ttl 0 mints a token without exp; the default is one hour', async () => {
    const forever = await runCli(['token', '--room', 'r', '--name', 'n', '--secret', 's', '--ttl', '0']);
    expect(decodeJwt(forever.stdout.trim()).exp).toBeUndefined();
    const before = nowSeconds();
    const standard = await runCli(['token', '--room', 'r', '--name', 'n', '--secret', 's']);
    expect(decodeJwt(standard.stdout.trim()).exp).toBeGreaterThanOrEqual(before + 3600);
  });

  it('a token for another room is refused by the server with 403', async () => {
    const exit = await runCli(['token', '--room', 'a', '--name', 'n', '--secret', fx.secret]);
    const refused = await expectUpgradeRefused(fx.url, 'b', exit.stdout.trim());
    expect(refused.status).toBe(403);
  });

  it('--admin mints an admin token that verifies as such and that no room admits', async () => {
    const exit = await runCli(['token', '--admin', '--secret', fx.secret]);
    expectExitCode(exit, 0);
    const token = exit.stdout.trim();
    expect(decodeJwt(token).grants).toEqual([{ name: 'admin', scope: 'console' }]);
    await expect(verifyAdminToken(token, 'console', { secret: fx.secret })).resolves.toEqual({ name: 'admin', scope: 'console' });
    const refused = await expectUpgradeRefused(fx.url, uniqueRoom(), token);
    expect([refused.status, refused.statusText]).toEqual([403, 'token is not for this room']);
  });

  it('--inspect mints a token for inspection events only; participant tokens have no admin grant', async () => {
    const inspect = (await runCli(['token', '--inspect', '--secret', fx.secret])).stdout.trim();
    await expect(verifyAdminToken(inspect, 'inspect', { secret: fx.secret })).resolves.toEqual({ name: 'admin', scope: 'inspect' });
    await expect(verifyAdminToken(inspect, 'console', { secret: fx.secret })).rejects.toThrow('token has no admin grant.');
    const participant = (await runCli(['token', '--room', 'r', '--name', 'n', '--secret', fx.secret])).stdout.trim();
    await expect(verifyAdminToken(participant, 'inspect', { secret: fx.secret })).rejects.toThrow('token has no admin grant.');
  });

  it('--api-key mints a key that the accounts route takes for its project and that no room admits', async () => {
    const exit = await runCli(['token', '--api-key', '--name', 'cli', '--project', 'p1', '--ttl', '7d', '--secret', fx.secret]);
    expectExitCode(exit, 0);
    expect(exit.stderr).toBe('');
    const key = exit.stdout.trim();
    expect(decodeJwt(key)).toMatchObject({ name: 'cli', grants: [{ name: 'api_key', scope: { project: 'p1' } }] });
    await expect(verifyApiKey(key, 'p1', { secret: fx.secret })).resolves.toMatchObject({ name: 'cli', project: 'p1' });
    const response = await fetch(`${fx.httpUrl}${connectPath('p1', 'lobby')}`, { method: 'POST', headers: { Authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    const refused = await expectUpgradeRefused(fx.url, 'lobby', key);
    expect([refused.status, refused.statusText]).toEqual([403, 'token is not for this room']);
    const standard = decodeJwt((await runCli(['token', '--api-key', '--name', 'cli', '--secret', 's'])).stdout.trim());
    expect(standard.grants).toEqual([{ name: 'api_key', scope: { project: DEFAULT_API_KEY_PROJECT } }]);
  });

  it.each([
    [['--room', 'r', '--name', 'n'], 'roomstate: no secret: pass --secret or set ROOMSTATE_SECRET (the secret the server was started with).\n'],
    [['--name', 'n', '--secret', 's'], 'roomstate: no room: pass --room or set ROOMSTATE_ROOM.\n'],
    [['--room', 'r', '--secret', 's'], 'roomstate: no name: pass --name (or --admin for a console token).\n'],
    [['--api-key', '--secret', 's'], 'roomstate: no name: pass --name, the participant name the key connects as.\n'],
    [['--room', 'r', '--name', 'n', '--secret', 's', '--project', 'p'], 'roomstate: --project goes with --api-key.\n'],
    [['--room', 'r', '--name', 'n', '--secret', 's', '--ttl', '1y'], 'roomstate: --ttl "1y" is not a duration; use a number of seconds or a number with a unit, e.g. 30s, 15m, 1h, 7d.\n'],
  ])('exits 1 with one line for %j', async (args, stderr) => {
    const exit = await runCli(['token', ...args]);
    expectExitCode(exit, 1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toBe(stderr);
  });

  it.each([
    [['--admin', '--room', 'r', '--secret', 's'], /option '--admin' cannot be used with option '--room <room>'/],
    [['--api-key', '--room', 'r', '--name', 'n', '--secret', 's'], /option '--api-key' cannot be used with option '--room <room>'/],
    [['--room', 'r', '--name', 'n', '--secret', 's', '--role', 'admin'], /argument 'admin' is invalid.*user, agent, tool/],
  ])('exits 1 on commander usage errors %j', async (args, stderr) => {
    const exit = await runCli(['token', ...args]);
    expectExitCode(exit, 1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toMatch(stderr);
  });
});
