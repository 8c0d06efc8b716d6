/**
 * Resumable participants end to end, on one node: roomstate's RoomClient
 * behind a TCP proxy that the test cuts mid-stream, a real roomstate
 * server, and an official npm client (@meshagent/meshagent 0.39.9) in the
 * room watching presence.
 */
import { describe, expect, it } from 'vitest';
import type { RoomServerOptions } from '../../src/server/index.js';
import type { RoomMessage } from '../../src/client/node.js';
import { noopObserver } from '../../src/server/core/observer.js';
import { ResumeRefusal } from '../../src/protocol/resume.js';
import { TEST_SECRET, uniqueRoom, useServers } from '../helpers/server.js';
import { waitUntil } from '../helpers/recorder.js';
import { manualTime } from '../helpers/manual-time.js';
import { OfficialPeer, clearMeshagentEnv } from '../helpers/official-client.js';
import { ClientPool, record } from './helpers/clients.js';
import { runCutScenario } from './helpers/cut-scenario.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

// The fixture runs the deferred cleanups (newest first: officials, pools, the proxy), then closes the test's servers.
const servers = useServers();

/** A server, a proxy in front of it, and client pools for both roads; all closed after the test. */
async function setUp(options: Partial<RoomServerOptions> = {}): Promise<{ direct: ClientPool; cut: ClientPool; proxy: TcpProxy; url: string }> {
  const { url, port } = await servers.start(options);
  const proxy = await startTcpProxy(port);
  servers.defer(() => proxy.close());
  const direct = new ClientPool({ url, secret: TEST_SECRET });
  const cut = new ClientPool({ url: proxy.url, secret: TEST_SECRET });
  servers.defer(() => Promise.all([direct.close(), cut.close()]));
  return { direct, cut, proxy, url };
}

const fast = { retryDelay: () => 20 };
const WAIT = { timeoutMs: 120_000 };

function numbers(messages: readonly RoomMessage[], type: string): number[] {
  return messages.filter((m) => m.type === type).map((m) => (m.message as { n: number }).n);
}

describe('RoomClient resumes after a dropped connection (one node)', () => {
  it('comes back as the same participant with what it missed; resumed$ and resumed say so', async () => {
    const { direct, cut, proxy } = await setUp();
    const room = uniqueRoom();
    const alice = await cut.enabled(room, 'alice', fast);
    const bob = await direct.enabled(room, 'bob');
    await waitUntil(() => alice.messaging.getParticipantByName('bob') !== null, { what: 'alice to see bob' });
    const aliceId = alice.localParticipant.id;
    const outcomes = record(alice.resumed$);
    const got = record(alice.messaging.messages$);
    const bobSeesLeave = record(bob.messaging.participantRemoved$);
    expect(alice.resumed).toBe(false);

    proxy.pause();
    proxy.drop();
    await waitUntil(() => alice.connectionState === 'reconnecting', { what: 'alice to reconnect' });
    // Sent to alice while she is away: held for her, so they succeed.
    await Promise.all([1, 2, 3].map((n) => bob.messaging.sendMessage({ to: aliceId, type: 'away', message: { n } })));
    proxy.resume();
    const [outcome] = await outcomes.waitForCount(() => true, 1, WAIT);
    expect(outcome).toEqual({ resumed: true, recovered: 3 });
    await got.waitForCount((m) => m.type === 'away', 3, WAIT);
    expect(numbers(got.items, 'away')).toEqual([1, 2, 3]);
    expect(alice.localParticipant.id).toBe(aliceId);
    expect(alice.resumed).toBe(true);
    await waitUntil(() => alice.connectionState === 'connected' && alice.messaging.state === 'enabled', { what: 'alice enabled again' });
    // She is live again; bob never saw her leave.
    const atBob = record(bob.messaging.messages$);
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'back', message: { n: 0 } });
    await atBob.waitFor((m) => m.type === 'back');
    expect(bobSeesLeave.items).toEqual([]);
  });

  it('a client that never reconnects asks for no key: its drop ends it at once, and nothing is held for it', async () => {
    const { direct, cut, proxy } = await setUp();
    const room = uniqueRoom();
    const carol = await cut.enabled(room, 'carol', { reconnectTimeout: 0 });
    const bob = await direct.enabled(room, 'bob');
    await waitUntil(() => bob.messaging.getParticipantByName('carol') !== null, { what: 'bob to see carol' });
    const carolId = carol.localParticipant.id;
    const bobSeesLeave = record(bob.messaging.participantRemoved$);
    proxy.drop();
    // Not detached for the recovery window (120 s): she leaves as an official client would.
    await bobSeesLeave.waitFor((p) => p.id === carolId, WAIT);
    await expect(bob.messaging.sendMessage({ to: carolId, type: 'late', message: {} })).rejects.toThrow();
  });

  it('refused once the window passed: resumed$ says why, and the client joins as a new participant', async () => {
    const time = manualTime();
    const detached: string[] = [];
    const { direct, cut, proxy } = await setUp({
      clock: time.clock,
      timers: time.timers,
      limits: { recoveryWindowMs: 5000 },
      observer: { ...noopObserver, participantDetached: (_room, id) => detached.push(id) },
    });
    const room = uniqueRoom();
    const alice = await cut.enabled(room, 'alice', fast);
    const bob = await direct.enabled(room, 'bob');
    await waitUntil(() => bob.messaging.getParticipantByName('alice') !== null, { what: 'bob to see alice' });
    const aliceId = alice.localParticipant.id;
    const outcomes = record(alice.resumed$);
    const bobSeesLeave = record(bob.messaging.participantRemoved$);
    proxy.pause();
    proxy.drop();
    await waitUntil(() => detached.includes(aliceId), { what: 'the server to detach alice' });
    time.advance(5000);
    await bobSeesLeave.waitFor((p) => p.id === aliceId, WAIT);
    proxy.resume();
    const [outcome] = await outcomes.waitForCount(() => true, 1, WAIT);
    expect(outcome).toEqual({ resumed: false, recovered: 0, reason: ResumeRefusal.Expired });
    await waitUntil(() => alice.messaging.state === 'enabled', { what: 'alice enabled as new' });
    expect(alice.localParticipant.id).not.toBe(aliceId);
    expect(alice.resumed).toBe(false);
    await waitUntil(() => bob.messaging.getParticipantByName('alice')?.id === alice.localParticipant.id, { what: 'bob to see the new alice' });
  });

  it('thousands of direct messages and hundreds of broadcasts through five cuts: exactly once, in order, no flap, every send resolved', async () => {
    clearMeshagentEnv();
    const { direct, cut, proxy, url } = await setUp({ limits: { messagesPerSecond: Infinity, bytesPerSecond: Infinity } });
    const room = uniqueRoom();
    const receiver = await cut.enabled(room, 'receiver', fast);
    const sender = await direct.enabled(room, 'sender');
    const broadcaster = await direct.enabled(room, 'broadcaster');
    const official = await OfficialPeer.connect({ baseUrl: url, room, name: 'observer', secret: TEST_SECRET });
    servers.defer(() => official.leave());
    await official.enable();
    await runCutScenario({ receiver, sender, broadcaster, official, proxy }, { direct: 3000, broadcasts: 300, cuts: 5, backPerStep: 100 });
  }, 240_000);
});
