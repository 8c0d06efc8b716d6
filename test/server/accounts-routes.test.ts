/**
 * The accounts connect route (src/server/accounts-routes.ts) over real HTTP:
 * an API key gets a room token and URL that open the room; every bad request
 * gets a JSON error with the right status, and the server keeps serving.
 */
import { describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt } from 'jose';
import { pino } from 'pino';
import { mintApiKey } from '../../src/auth/api-key.js';
import { mintAdminToken } from '../../src/auth/token.js';
import { API_KEY_GRANT, connectPath, type RoomConnectionInfo } from '../../src/protocol/accounts.js';
import { connectRaw, expectUpgradeRefused } from '../helpers/raw-client.js';
import { uniqueRoom, useServer, useServers } from '../helpers/server.js';

const fx = useServer();
/** Servers with options of their own, closed after the test. */
const servers = useServers();

const key = (options: { name?: string; project?: string; ttlSeconds?: number } = {}) => mintApiKey({ secret: fx.secret, name: 'cli', ...options });

function connect(path: string, init: { key?: string; authorization?: string; method?: string; body?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (init.key !== undefined) headers.Authorization = `Bearer ${init.key}`;
  if (init.authorization !== undefined) headers.Authorization = init.authorization;
  const method = init.method ?? 'POST';
  return fetch(`${fx.httpUrl}${path}`, { method, headers, body: method === 'POST' ? (init.body ?? '{}') : undefined });
}

async function expectError(response: Response, status: number, error: string | RegExp): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: string };
  if (typeof error === 'string') expect(body.error).toBe(error);
  else expect(body.error).toMatch(error);
}

describe('POST /accounts/projects/{project}/rooms/{room}/connect', () => {
  it('answers a room token and URL for the key\'s name that open the room', async () => {
    const room = `${uniqueRoom('accounts')} é/?#`;
    const response = await connect(connectPath('roomstate', room), { key: await key() });
    expect(response.status).toBe(200);
    const info = (await response.json()) as RoomConnectionInfo;
    expect(info).toEqual({ jwt: expect.any(String), room_name: room, project_id: 'roomstate', room_url: `${fx.url}/rooms/${encodeURIComponent(room)}` });
    const claims = decodeJwt(info.jwt);
    expect(claims.name).toBe('cli');
    expect(claims.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3601);
    const client = await connectRaw(fx.url, room, info.jwt);
    fx.defer(() => client.terminate());
    expect(client.connected.attributes).toEqual({ name: 'cli' });
  });

  it('issues room tokens that end no later than the key', async () => {
    const info = (await (await connect(connectPath('roomstate', 'r'), { key: await key({ ttlSeconds: 120 }) })).json()) as RoomConnectionInfo;
    expect(decodeJwt(info.jwt).exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 121);
  });

  it('accepts the key of another project only for that project, and an empty body', async () => {
    const ok = await connect(connectPath('p 1', 'lobby'), { key: await key({ project: 'p 1' }), body: '' });
    expect(((await ok.json()) as RoomConnectionInfo).project_id).toBe('p 1');
    await expectError(await connect(connectPath('roomstate', 'lobby'), { key: await key({ project: 'p 1' }) }), 403, /^API key is not for this project: .*MESHAGENT_PROJECT_ID/);
  });

  it('answers 401 for no key, "Bearer None", another secret, an expired key or garbage', async () => {
    const path = connectPath('roomstate', 'lobby');
    const missing = await connect(path);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    await expectError(missing, 401, /^missing API key: .*roomstate token --api-key/);
    await expectError(await connect(path, { authorization: 'Bearer None' }), 401, /^missing API key/);
    await expectError(await connect(path, { authorization: 'Basic abc' }), 401, /^missing API key/);
    const foreign = await mintApiKey({ secret: 'another-secret-0123456789', name: 'cli' });
    await expectError(await connect(path, { key: foreign }), 401, /^invalid signature: /);
    const expired = await new SignJWT({ name: 'cli', grants: [{ name: API_KEY_GRANT, scope: { project: 'roomstate' } }] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(fx.secret));
    await expectError(await connect(path, { key: expired }), 401, /^token expired: /);
    await expectError(await connect(path, { key: 'not-a-jwt' }), 401, /^invalid token: /);
  });

  it('answers 403 for a room token or an admin token used as a key', async () => {
    const path = connectPath('roomstate', 'lobby');
    await expectError(await connect(path, { key: await fx.token('lobby', 'alice') }), 403, /^token is not an API key: /);
    await expectError(await connect(path, { key: await mintAdminToken({ secret: fx.secret }) }), 403, /^token is not an API key: /);
  });

  it('answers 400 for a body that is not a JSON object and for a bad room name, 413 for a huge body', async () => {
    const k = await key();
    await expectError(await connect(connectPath('roomstate', 'lobby'), { key: k, body: '[1]' }), 400, /^request body: expected empty or a JSON object/);
    await expectError(await connect(connectPath('roomstate', 'lobby'), { key: k, body: '{' }), 400, /^request body/);
    await expectError(await connect('/accounts/projects/roomstate/rooms/%0A/connect', { key: k }), 400, /^invalid room name/);
    await expectError(await connect('/accounts/projects/roomstate/rooms/%E0%A4%A/connect', { key: k }), 400, /^invalid room name/);
    await expectError(await connect(connectPath('roomstate', 'x'.repeat(300)), { key: k }), 400, /^invalid room name/);
    await expectError(await connect(connectPath('roomstate', 'lobby'), { key: k, body: `{"email":"${'a'.repeat(70_000)}"}` }), 413, /^request body larger than 65536 bytes/);
  });

  it('answers 405 for another method and a JSON 404 naming the route for other accounts paths', async () => {
    const get = await connect(connectPath('roomstate', 'lobby'), { method: 'GET', key: await key() });
    expect(get.headers.get('allow')).toBe('POST');
    await expectError(get, 405, /^method not allowed: POST \/accounts\/projects\/\{project\}\/rooms\/\{room\}\/connect/);
    await expectError(await connect('/accounts/projects', { method: 'GET' }), 404, /^not found: roomstate serves only POST /);
    await expectError(await connect('/accounts/projects/roomstate/rooms/lobby', {}), 404, /^not found/);
  });

  it('is not a way into a room: the API key itself is refused at the upgrade', async () => {
    const refused = await expectUpgradeRefused(fx.url, 'lobby', await key());
    expect(refused).toMatchObject({ status: 403, statusText: 'token is not for this room' });
    const status = await fetch(`${fx.httpUrl}/`);
    expect(status.status).toBe(200);
  });
});

describe('logs', () => {
  it('say why a key was refused and who got a token, never the key or the token', async () => {
    const lines: string[] = [];
    const logged = await servers.start({ logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
    const good = await mintApiKey({ secret: logged.secret, name: 'cli' });
    const foreign = await mintApiKey({ secret: 'another-secret-0123456789', name: 'cli' });
    const post = (k: string) => fetch(`${logged.httpUrl}${connectPath('roomstate', 'lobby')}`, { method: 'POST', headers: { Authorization: `Bearer ${k}` } });
    const jwt = ((await (await post(good)).json()) as RoomConnectionInfo).jwt;
    expect((await post(foreign)).status).toBe(401);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toContainEqual(expect.objectContaining({ msg: 'accounts connect: room token issued', room: 'lobby', project: 'roomstate', participantName: 'cli' }));
    expect(records).toContainEqual(expect.objectContaining({ msg: 'accounts connect refused', reason: 'invalid signature' }));
    for (const secret of [good, foreign, jwt]) expect(lines.join('\n')).not.toContain(secret.split('.')[2]);
  });
});

describe('the room_url behind a proxy', () => {
  it('uses publicUrl', async () => {
    const proxied = await servers.start({ publicUrl: 'wss://rooms.example.com/base' });
    const response = await fetch(`${proxied.httpUrl}${connectPath('roomstate', 'lobby')}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await mintApiKey({ secret: proxied.secret, name: 'cli' })}` },
    });
    expect(((await response.json()) as RoomConnectionInfo).room_url).toBe('wss://rooms.example.com/base/rooms/lobby');
  });
});
