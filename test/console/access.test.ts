/**
 * The console's access rules and its feeds, over real sockets: off unless
 * asked for; admin tokens only (participant tokens get 403); inspection
 * events need a token and bad ones close only their connection; the feed
 * shows what the server holds and takes no participant actions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintAdminToken } from '../../src/auth/token.js';
import { CONSOLE_WHOAMI_PATH } from '../../src/console/feed-protocol.js';
import { uniqueRoom, useServers } from '../helpers/server.js';
import { closeConsoleSockets, openConsole as open, openedConsole as opened } from './helpers/console-socket.js';

const servers = useServers();
afterEach(closeConsoleSockets);

describe('console access', () => {
  it('is off unless asked for', async () => {
    const fx = await servers.start();
    expect((await fetch(`${fx.httpUrl}/console`)).status).toBe(404);
    expect(await open(`${fx.url}/console/feed`, await mintAdminToken({ secret: fx.secret }))).toMatchObject({ status: 404 });
  });

  it('refuses participant tokens, other secrets and no token with 403; inspect-only tokens may only inspect', async () => {
    const fx = await servers.start({ console: true });
    const participant = await fx.token(uniqueRoom(), 'mallory');
    const foreign = await mintAdminToken({ secret: 'another-secret' });
    const inspectOnly = await mintAdminToken({ secret: fx.secret, scope: 'inspect' });
    expect(await open(`${fx.url}/console/feed`, participant)).toEqual({ status: 403, reason: 'token has no admin grant' });
    expect(await open(`${fx.url}/console/inspect`, participant)).toEqual({ status: 403, reason: 'token has no admin grant' });
    expect(await open(`${fx.url}/console/feed`, foreign)).toEqual({ status: 403, reason: 'invalid signature' });
    expect(await open(`${fx.url}/console/feed`, undefined)).toEqual({ status: 403, reason: 'missing token' });
    expect(await open(`${fx.url}/console/feed`, inspectOnly)).toEqual({ status: 403, reason: 'token has no admin grant' });
    expect(await open(`${fx.url}/console/inspect`, inspectOnly)).toHaveProperty('ws');
    const whoami = await fetch(`${fx.httpUrl}${CONSOLE_WHOAMI_PATH}`, { headers: { Authorization: `Bearer ${participant}` } });
    expect([whoami.status, await whoami.json()]).toEqual([403, { error: 'token has no admin grant' }]);
    // The page itself holds no data; it asks for a token.
    const page = await fetch(`${fx.httpUrl}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});

describe('console feed', () => {
  it("shows the server's participants and the events their session took; viewers cannot act", async () => {
    const fx = await servers.start({ console: true });
    const admin = await mintAdminToken({ secret: fx.secret });
    const viewer = await opened(`${fx.url}/console/feed`, admin);
    const room = uniqueRoom();
    const alice = await fx.connect(room, 'alice');
    const bob = await fx.connect(room, 'bob');
    await bob.invoke('enable', {});
    const state = await viewer.views.waitFor((v) => v.rooms.some((r) => r.participants.some((p) => p.name === 'bob' && p.enabled)), { what: 'bob enabled in the feed', timeoutMs: 60_000 });
    const shown = state.rooms.find((r) => r.name === room);
    expect(shown!.participants.map((p) => [p.name, p.role, p.id, p.enabled, p.attributes, p.states])).toEqual([
      ['alice', 'user', alice.participantId, false, { name: 'alice' }, ['participantSession.connected.disabled']],
      ['bob', 'user', bob.participantId, true, { name: 'bob' }, ['participantSession.connected.enabled']],
    ]);

    viewer.ws.send(JSON.stringify({ type: 'select', participantId: bob.participantId }));
    const log = await viewer.messages.waitFor((m) => m.type === 'log' && m.reset, { what: "bob's log", timeoutMs: 60_000 });
    expect(log.type === 'log' && log.entries.map((e) => e.event)).toEqual(['xstate.init', 'messaging.enable']);
    // The feed has no message that acts in a room: anything else is ignored, and the feed goes on.
    viewer.ws.send(JSON.stringify({ type: 'broadcast', room, message: 'spoof' }));
    await alice.invoke('enable', {});
    await viewer.views.waitFor((v) => v.rooms.some((r) => r.participants.some((p) => p.name === 'alice' && p.enabled)), { what: 'alice enabled', timeoutMs: 60_000 });
    // After the first push, every push is a delta.
    expect(viewer.messages.filter((m) => m.type === 'state')).toHaveLength(1);

    await bob.close();
    const gone = await viewer.views.waitFor((v) => !v.rooms.some((r) => r.participants.some((p) => p.name === 'bob')), { what: 'bob gone', timeoutMs: 60_000 });
    expect(gone.rooms.find((r) => r.name === room)!.participants.map((p) => p.name)).toEqual(['alice']);
  });

  it('closes an inspector that sends invalid events with 1008 and keeps serving the rest', async () => {
    const fx = await servers.start({ console: true });
    const admin = await mintAdminToken({ secret: fx.secret });
    for (const bad of ['not json', JSON.stringify({ type: 'actor', id: 'x'.repeat(1000), machine: 'connection', label: '' }), JSON.stringify({ type: 'nope' })]) {
      const inspector = await opened(`${fx.url}/console/inspect`, admin);
      inspector.ws.send(bad);
      expect((await inspector.closed).code).toBe(1008);
    }
    const viewer = await opened(`${fx.url}/console/feed`, admin);
    await viewer.messages.waitFor((m) => m.type === 'state', { what: 'a state', timeoutMs: 60_000 });
    expect((await fetch(`${fx.httpUrl}/`)).status).toBe(200);
  });
});
