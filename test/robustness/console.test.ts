/**
 * The console cannot be used to sink the server (issue 24, case 4), over
 * real sockets: its websockets obey `allowedOrigins` like the rooms; one
 * admin identity holds at most `maxConnectionsPerIdentity` console
 * connections; what an inspector makes the server hold is bounded in
 * actors, log entries and bytes, per connection and per identity, and goes
 * when it disconnects; a viewer that stops reading is cut like a slow
 * participant; and the feed sends what changed, not the whole state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintAdminToken } from '../../src/auth/token.js';
import { CloseReason } from '../../src/protocol/close-codes.js';
import { CLIENT_LOG_LENGTH, MAX_CLIENT_ACTORS, MAX_INSPECTOR_BYTES, MAX_INSPECTOR_BYTES_PER_IDENTITY } from '../../src/server/console/inspected-clients.js';
import { MAX_VIEWER_BACKLOG } from '../../src/server/console/console-server.js';
import { requireTcpSocket } from '../../src/ws-internals.js';
import { noopObserver } from '../../src/server/core/observer.js';
import { waitUntil } from '../helpers/recorder.js';
import { expectUpgradeRefused } from '../helpers/raw-client.js';
import { uniqueRoom, useServers, type TestServer } from '../helpers/server.js';
import { closeConsoleSockets, openConsole, openedConsole, type ConsoleSocket } from '../console/helpers/console-socket.js';

const DEADLINE = { timeoutMs: 60_000 };

const servers = useServers();
let fx: TestServer | undefined;
afterEach(closeConsoleSockets);

/** Sends inspection messages as JSON text. */
function inspect(socket: ConsoleSocket, ...messages: object[]): void {
  for (const message of messages) socket.ws.send(JSON.stringify(message));
}

/** `count` actor announcements of the `connection` machine, ids `${prefix}${i}`, labels `label`. */
function actors(prefix: string, count: number, label = ''): object[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'actor', id: `${prefix}${i}`, machine: 'connection', label }));
}

describe('console origin check', () => {
  it('refuses the feed and the inspector from a foreign Origin, as the rooms are refused', async () => {
    fx = await servers.start({ console: true, allowedOrigins: ['https://good.example'] });
    const admin = await mintAdminToken({ secret: fx.secret });
    const inspectOnly = await mintAdminToken({ secret: fx.secret, scope: 'inspect' });
    const evil = { Origin: 'https://evil.example' };
    const refused = { status: 403, reason: 'origin not allowed' };
    expect(await openConsole(`${fx.url}/console/feed`, admin, evil)).toEqual(refused);
    expect(await openConsole(`${fx.url}/console/inspect`, inspectOnly, evil)).toEqual(refused);
    const room = uniqueRoom();
    expect((await expectUpgradeRefused(fx.url, room, await fx.token(room, 'mallory'), { headers: evil })).status).toBe(403);
    // The allowed origin gets in.
    await openedConsole(`${fx.url}/console/feed`, admin, { Origin: 'https://good.example' });
    await openedConsole(`${fx.url}/console/inspect`, inspectOnly, { Origin: 'https://good.example' });
  });
});

describe('console connections per identity', () => {
  it('refuses one more than maxConnectionsPerIdentity with 429, per admin name, and counts a closed one back', async () => {
    fx = await servers.start({ console: true, limits: { maxConnectionsPerIdentity: 3 } });
    const admin = await mintAdminToken({ secret: fx.secret, name: 'ops' });
    const open = await Promise.all(Array.from({ length: 3 }, () => openedConsole(`${fx!.url}/console/inspect`, admin)));
    expect(await openConsole(`${fx.url}/console/inspect`, admin)).toEqual({ status: 429, reason: 'too many console connections for this identity' });
    expect(await openConsole(`${fx.url}/console/feed`, admin)).toEqual({ status: 429, reason: 'too many console connections for this identity' });
    // Another admin name has its own count.
    await openedConsole(`${fx.url}/console/feed`, await mintAdminToken({ secret: fx.secret, name: 'other' }));
    open[0].ws.close();
    await open[0].closed;
    await waitUntil(async () => 'ws' in (await openConsole(`${fx!.url}/console/inspect`, admin)), { what: 'a place for ops again', ...DEADLINE });
  });
});

describe('inspector bounds', () => {
  it(`keeps ${MAX_CLIENT_ACTORS} actors and ${CLIENT_LOG_LENGTH} log entries per actor, and forgets the client when it disconnects`, async () => {
    fx = await servers.start({ console: true });
    const admin = await mintAdminToken({ secret: fx.secret });
    const viewer = await openedConsole(`${fx.url}/console/feed`, admin);
    const inspector = await openedConsole(`${fx.url}/console/inspect`, admin);
    inspect(inspector, { type: 'client', name: 'bounded' }, ...actors('a', MAX_CLIENT_ACTORS + 200));
    for (let i = 0; i < 3 * CLIENT_LOG_LENGTH; i++) inspect(inspector, { type: 'snapshot', id: 'a0', event: `e${i}`, value: 'disconnected', label: '', stopped: false });
    const last = `e${3 * CLIENT_LOG_LENGTH - 1}`;
    const view = await viewer.views.waitFor((v) => v.clients.some((c) => c.actors.find((a) => a.id === 'a0')?.log.at(-1)?.event === last), { what: 'the last entry', ...DEADLINE });
    const client = view.clients.find((c) => c.name === 'bounded')!;
    expect(client.actors).toHaveLength(MAX_CLIENT_ACTORS);
    expect(client.actors.find((a) => a.id === 'a0')!.log.map((entry) => entry.event)).toEqual(
      Array.from({ length: CLIENT_LOG_LENGTH }, (_, i) => `e${2 * CLIENT_LOG_LENGTH + i}`),
    );
    inspector.ws.close();
    await viewer.views.waitFor((v) => v.clients.length === 0, { what: 'the client to be forgotten', ...DEADLINE });
  });

  it(`closes an inspector over ${MAX_INSPECTOR_BYTES} bytes with 1008, and one identity over ${MAX_INSPECTOR_BYTES_PER_IDENTITY}; the budget comes back at disconnect`, async () => {
    fx = await servers.start({ console: true });
    const admin = await mintAdminToken({ secret: fx.secret, name: 'ops' });
    const viewer = await openedConsole(`${fx.url}/console/feed`, admin);
    // Each actor holds ~1 KB (200-character id and label): 1,000 of them pass one connection's budget.
    const long = (i: number) => `${String(i).padStart(6, '0')}${'i'.repeat(194)}`;
    const heavy = (count: number) => Array.from({ length: count }, (_, i) => ({ type: 'actor', id: long(i), machine: 'connection', label: 'l'.repeat(200) }));
    const greedy = await openedConsole(`${fx.url}/console/inspect`, admin);
    inspect(greedy, ...heavy(1000));
    const greedyClose = await greedy.closed;
    expect(greedyClose.code).toBe(1008);
    expect(greedyClose.reason).toContain(`inspection data over ${MAX_INSPECTOR_BYTES} bytes for one connection`);

    // Under the connection budget each (850 actors), but five of them pass the identity's.
    const fill = async () => {
      const inspector = await openedConsole(`${fx!.url}/console/inspect`, admin);
      inspect(inspector, ...heavy(850), { type: 'client', name: 'filled' });
      return inspector;
    };
    const four = [];
    for (let i = 0; i < 4; i++) {
      four.push(await fill());
      await viewer.views.waitFor((v) => v.clients.filter((c) => c.name === 'filled').length === i + 1, { what: `inspector ${i + 1} held`, ...DEADLINE });
    }
    const fifth = await fill();
    const fifthClose = await fifth.closed;
    expect(fifthClose.code).toBe(1008);
    expect(fifthClose.reason).toContain(`over ${MAX_INSPECTOR_BYTES_PER_IDENTITY} bytes for one admin identity`);
    // Disconnecting gives the identity its budget back: four more fill it again.
    for (const inspector of four) inspector.ws.close();
    await viewer.views.waitFor((v) => v.clients.length === 0, { what: 'every client forgotten', ...DEADLINE });
    for (let i = 0; i < 4; i++) {
      await fill();
      await viewer.views.waitFor((v) => v.clients.filter((c) => c.name === 'filled').length === i + 1, { what: `inspector ${i + 1} held again`, ...DEADLINE });
    }
  });
});

describe('console feed', () => {
  it('sends deltas: a tiny snapshot every 50 ms beside a large state costs a tiny push', async () => {
    fx = await servers.start({ console: true });
    const admin = await mintAdminToken({ secret: fx.secret });
    const inspector = await openedConsole(`${fx.url}/console/inspect`, admin);
    // A large state: 500 actors with a full log each.
    inspect(inspector, { type: 'client', name: 'big' }, ...actors('a', 500, 'x'.repeat(100)));
    for (let i = 0; i < 500; i++) for (let n = 0; n < CLIENT_LOG_LENGTH; n++) inspect(inspector, { type: 'snapshot', id: `a${i}`, event: `fill${n}`, value: 'disconnected', label: 'x'.repeat(100), stopped: false });
    inspect(inspector, { type: 'client', name: 'full' });
    const viewer = await openedConsole(`${fx.url}/console/feed`, admin);
    await viewer.views.waitFor((v) => v.clients.some((c) => c.name === 'full'), { what: 'the full state', ...DEADLINE });
    const stateBytes = Math.max(...viewer.sizes);
    for (let i = 0; i < 20; i++) {
      inspect(inspector, { type: 'snapshot', id: 'a0', event: `tick${i}`, value: 'disconnected', label: 'x'.repeat(100), stopped: false });
      await viewer.views.waitFor((v) => v.clients.some((c) => c.actors.find((a) => a.id === 'a0')?.log.at(-1)?.event === `tick${i}`), { what: `tick ${i}`, ...DEADLINE });
    }
    const states = viewer.messages.filter((m) => m.type === 'state');
    const ticks = viewer.sizes.slice(-20);
    console.log(`[console feed] whole state ${stateBytes} bytes; the 20 pushes after it: max ${Math.max(...ticks)} bytes, total ${ticks.reduce((a, b) => a + b, 0)} bytes`);
    expect(states).toHaveLength(1);
    expect(stateBytes).toBeGreaterThan(500_000);
    for (const size of ticks) expect(size).toBeLessThan(4096);
  });

  it('cuts a viewer that stops reading like a slow participant, and keeps feeding the others', async () => {
    let cuts = 0;
    const observer = { ...noopObserver, slowConsumerCut: () => void cuts++ };
    fx = await servers.start({ console: true, limits: { slowConsumerTimeoutMs: 300 }, observer });
    const admin = await mintAdminToken({ secret: fx.secret });
    const reader = await openedConsole(`${fx.url}/console/feed`, admin);
    const stalled = await openedConsole(`${fx.url}/console/feed`, admin);
    await stalled.messages.waitFor((m) => m.type === 'state', { what: 'the first state', ...DEADLINE });
    const stalledSocket = requireTcpSocket(stalled.ws);
    stalledSocket.pause();
    // Participants whose attributes change keep the feed busy: ~600 KB of changes per push.
    const room = uniqueRoom();
    const busy = await Promise.all(Array.from({ length: 10 }, (_, i) => fx!.connect(room, `busy-${i}`)));
    await Promise.all(busy.map((member) => member.invoke('enable', {})));
    const blob = 'b'.repeat(60_000);
    let round = 0;
    // The server gives up once its backlog for the viewer stayed over MAX_VIEWER_BACKLOG for the timeout.
    while (cuts === 0 && round < 2_000) {
      for (const member of busy) member.notify('set_attributes', { blob, round });
      round++;
      await reader.views.waitFor((v) => v.rooms.some((r) => r.participants.some((p) => p.attributes.round === round - 1)), { what: `round ${round - 1}`, ...DEADLINE });
    }
    expect(cuts).toBe(1);
    stalledSocket.resume();
    const closed = await stalled.closed;
    // The close frame may be stuck behind the unread feed; then the server terminates (1006).
    expect([1008, 1006]).toContain(closed.code);
    if (closed.code === 1008) expect(closed.reason).toBe(CloseReason.SlowConsumer);
    console.log(`[console slow viewer] cut after ${round} rounds of attribute changes (~${Math.round((round * 10 * blob.length) / 1e6)} MB of feed), backlog limit ${MAX_VIEWER_BACKLOG} bytes`);
    // The reader is still fed.
    busy[0].notify('set_attributes', { after: true });
    await reader.views.waitFor((v) => v.rooms.some((r) => r.participants.some((p) => p.attributes.after === true)), { what: 'the change after the cut', ...DEADLINE });
  });
});
