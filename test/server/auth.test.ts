/**
 * The upgrade: where the token is read from, what is refused with 403/404,
 * the subprotocol echo and the Origin allow-list.
 */
import { SignJWT, base64url } from 'jose';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { connectRaw, expectUpgradeRefused } from '../helpers/raw-client.js';
import { uniqueRoom, useServer, useServers } from '../helpers/server.js';

const fx = useServer({ allowedOrigins: ['https://app.example'] }, 'test');
const servers = useServers();

const encoder = new TextEncoder();

/** Signs an arbitrary payload with HS256 and the fixture secret. */
function sign(payload: Record<string, unknown>, secret = fx.secret): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(encoder.encode(secret));
}

function grants(room: string): unknown[] {
  return [{ name: 'room', scope: room }, { name: 'api', scope: { messaging: {} } }];
}

describe('logging', () => {
  it('logs refusals and connections with the reason, never the token', async () => {
    const lines: string[] = [];
    const logged = await servers.start({ logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }) });
    const room = uniqueRoom();
    const bad = await mintToken({ secret: 'wrong-secret', room, name: 'mallory' });
    expect((await expectUpgradeRefused(logged.url, room, bad)).status).toBe(403);
    const good = await logged.token(room, 'alice');
    const client = await connectRaw(logged.url, room, good, { via: 'bearer' });
    await client.close();
    await client.closed;
    const text = lines.join('');
    expect(text).toContain('"reason":"invalid signature"');
    expect(text).toContain('participant connected');
    for (const token of [bad, good]) {
      for (const part of token.split('.')) expect(text).not.toContain(part);
    }
  });
});

describe('token carriers', () => {
  it('accepts the token in the query string (npm 0.39.9), keeping other parameters', async () => {
    const room = uniqueRoom();
    const client = await connectRaw(fx.url, room, await fx.token(room, 'q'), { via: 'query', query: 'v=0.39.9' });
    expect(client.connected.attributes).toEqual({ name: 'q' });
    await client.close();
  });

  it('accepts Authorization: Bearer (Python, TS HEAD on Node)', async () => {
    const room = uniqueRoom();
    const client = await connectRaw(fx.url, room, await fx.token(room, 'b'), { via: 'bearer' });
    expect(client.connected.attributes).toEqual({ name: 'b' });
    await client.close();
  });

  it('accepts the meshagent-room.<jwt> subprotocol and echoes it back (browsers)', async () => {
    const room = uniqueRoom();
    const token = await fx.token(room, 's');
    const client = await connectRaw(fx.url, room, token, { via: 'subprotocol', protocols: ['other'] });
    expect(client.ws.protocol).toBe(`meshagent-room.${token}`);
    expect(client.connected.attributes).toEqual({ name: 's' });
    await client.close();
  });

  it('prefers the query token over the header', async () => {
    const room = uniqueRoom();
    const good = await fx.token(room, 'good');
    const client = await connectRaw(fx.url, room, good, { headers: { Authorization: 'Bearer not-a-token' } });
    expect(client.connected.attributes).toEqual({ name: 'good' });
    await client.close();
  });

  it('reads the role from the grants and decodes the room name from the path', async () => {
    const room = `my room/ü ${uniqueRoom()}`;
    const client = await connectRaw(fx.url, room, await mintToken({ secret: fx.secret, room, name: 'a', role: 'agent' }));
    expect(client.roomReady.room_name).toBe(room);
    await client.invoke('enable', {});
    const other = await fx.connect(room, 'o');
    await other.invoke('enable', {});
    expect((await other.waitForPush('messaging.enabled')).message).toEqual({ participants: [{ id: client.participantId, role: 'agent', attributes: { name: 'a' } }] });
    await client.close();
  });
});

describe('refusals at the upgrade', () => {
  it.each([
    ['no token', async (_room: string) => undefined, 'missing token'],
    ['a bad signature', async (room: string) => mintToken({ secret: 'another-secret', room, name: 'x' }), 'invalid signature'],
    ['another room', async (_room: string) => mintToken({ secret: fx.secret, room: 'elsewhere', name: 'x' }), 'token is not for this room'],
    ['an expired token', async (room: string) => sign({ name: 'x', grants: grants(room), exp: Math.floor(Date.now() / 1000) - 60 }), 'token expired'],
    ['a token not yet valid', async (room: string) => sign({ name: 'x', grants: grants(room), nbf: Math.floor(Date.now() / 1000) + 600 }), 'token not yet valid'],
    ['a token without a name', async (room: string) => sign({ grants: grants(room) }), 'token has no name'],
    ['a token without grants', async (_room: string) => sign({ name: 'x' }), 'token is not for this room'],
    ['garbage', async (_room: string) => 'not.a.jwt', 'invalid token'],
    ['an oversized token', async (_room: string) => 'x'.repeat(9000), 'token too large'],
    [
      'alg none',
      async (room: string) => `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify({ name: 'x', grants: grants(room) }))}.`,
      'invalid token',
    ],
    [
      'HS512',
      async (room: string) => new SignJWT({ name: 'x', grants: grants(room) }).setProtectedHeader({ alg: 'HS512' }).sign(encoder.encode(fx.secret)),
      'invalid token',
    ],
    [
      'a tampered payload',
      async (room: string) => {
        const [header, , signature] = (await mintToken({ secret: fx.secret, room, name: 'x' })).split('.');
        const forged = base64url.encode(JSON.stringify({ name: 'admin', grants: [...grants(room), { name: 'role', scope: 'agent' }] }));
        return `${header}.${forged}.${signature}`;
      },
      'invalid signature',
    ],
  ])('refuses %s with 403 and a short reason, touching no room', async (_what, makeToken, reason) => {
    const room = uniqueRoom();
    const refused = await expectUpgradeRefused(fx.url, room, await makeToken(room));
    expect(refused.status).toBe(403);
    expect(refused.statusText).toBe(reason);
    expect(JSON.parse(refused.body)).toEqual({ error: reason });
    expect(fx.server.stats()).toEqual({ rooms: 0, participants: 0, enabled: 0 });
  });

  it('refuses a bad Bearer and a bad subprotocol token with 403 too', async () => {
    const room = uniqueRoom();
    const wrong = await mintToken({ secret: 'nope', room, name: 'x' });
    expect((await expectUpgradeRefused(fx.url, room, wrong, { via: 'bearer' })).status).toBe(403);
    expect((await expectUpgradeRefused(fx.url, room, wrong, { via: 'subprotocol' })).status).toBe(403);
  });

  it('refuses an Origin outside the allow-list with 403, and allows listed or absent origins', async () => {
    const room = uniqueRoom();
    const token = await fx.token(room, 'x');
    const refused = await expectUpgradeRefused(fx.url, room, token, { headers: { Origin: 'https://evil.example' } });
    expect(refused).toMatchObject({ status: 403, statusText: 'origin not allowed' });
    const listed = await connectRaw(fx.url, room, token, { headers: { Origin: 'https://app.example' } });
    const absent = await connectRaw(fx.url, room, token);
    expect(fx.server.stats().participants).toBe(2);
    await listed.close();
    await absent.close();
  });

  it.each([
    ['a name longer than 256 characters', 'r'.repeat(257)],
    ['a control character', 'bad\u0001room'],
    ['a malformed percent escape', '%E0%A4%A'],
  ])('refuses a room with %s with 404 "invalid room name"', async (_what, room) => {
    const token = await fx.token(room, 'x');
    // Build the URL by hand so the raw (possibly malformed) name reaches the server.
    const raw = room.startsWith('%') ? room : encodeURIComponent(room);
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${fx.url}/rooms/${raw}?token=${token}`);
    const status = await new Promise<{ code: number; text: string }>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => resolve({ code: res.statusCode ?? 0, text: res.statusMessage ?? '' }));
      ws.once('open', () => reject(new Error('accepted')));
      ws.once('error', () => undefined);
    });
    ws.terminate();
    expect(status).toEqual({ code: 404, text: 'invalid room name' });
  });

  it('answers other upgrade paths with 404', async () => {
    const { WebSocket } = await import('ws');
    for (const path of ['/', '/rooms', '/rooms/', '/rooms/a/b', '/other/x']) {
      const ws = new WebSocket(`${fx.url}${path}`);
      const code = await new Promise<number>((resolve, reject) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error(`accepted ${path}`)));
        ws.once('error', () => undefined);
      });
      ws.terminate();
      expect(code).toBe(404);
    }
  });
});
