/**
 * The official MeshAgent Python SDK 0.56.0 across a restart of `roomstate
 * serve` (the CLI server, as users run it) on the same port.
 *
 * After a crash (the process killed, connections dropped without a close
 * frame) the RoomClient reconnects by itself, gets a new participant id,
 * re-enables messaging, re-sends its attributes, and messaging works again.
 * After a graceful shutdown (SIGTERM: close code 1012) the SDK treats the
 * server's close frame as final, whatever its code, and does not reconnect;
 * docs/interop.md lists this among the compatibility notes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { pythonAvailability } from '../helpers/python.js';
import { PythonPeer, sees, stopAllPythonPeers } from '../helpers/python-peer.js';
import { uniqueRoom } from '../helpers/server.js';
import { spawnCliServer, type SpawnedServer } from '../helpers/spawned-server.js';

const availability = pythonAvailability();
const SECRET = 'python-restart-secret-0123456789';

describe.skipIf(!availability.run)('the Python SDK 0.56.0 across a roomstate restart', () => {
  const venv = availability.run ? availability.venv : (undefined as never);
  const servers: SpawnedServer[] = [];

  afterEach(async () => {
    await stopAllPythonPeers();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function serve(port?: number): Promise<SpawnedServer> {
    const server = await spawnCliServer({ secret: SECRET, port });
    servers.push(server);
    return server;
  }

  /** Two enabled Python participants that see each other. */
  async function pair(url: string, room: string): Promise<[PythonPeer, PythonPeer]> {
    const peers = await Promise.all(['alice', 'bob'].map(async (name) => PythonPeer.start(venv, { url, room, token: await mintToken({ secret: SECRET, room, name }) })));
    await Promise.all(peers.map((peer) => peer.command('enable')));
    await Promise.all([sees(peers[0], peers[1].id), sees(peers[1], peers[0].id)]);
    return peers as [PythonPeer, PythonPeer];
  }

  it('reconnects after a crash, re-enables messaging with its attributes, and messages again', async () => {
    const first = await serve();
    const port = Number(new URL(first.url).port);
    const room = uniqueRoom('py-crash');
    const [alice, bob] = await pair(first.url, room);
    await alice.command('set_attribute', { name: 'status', value: 'before-restart' });
    await bob.waitFor('attributes', (e) => e.id === alice.id);
    const before = { alice: alice.id, bob: bob.id };

    first.child.kill('SIGKILL');
    await first.close();
    await Promise.all([alice.waitFor('disconnected'), bob.waitFor('disconnected')]);
    await serve(port);
    const [aliceBack, bobBack] = await Promise.all([alice.waitFor('reconnected'), bob.waitFor('reconnected')]);
    expect(aliceBack.id).not.toBe(before.alice);
    expect(bobBack.id).not.toBe(before.bob);

    // Both re-enabled by themselves; bob sees the new alice with the attribute she re-sent.
    const reconnectedAt = bob.events.items.indexOf(bobBack);
    await bob.events.waitFor(
      (e) =>
        bob.events.items.indexOf(e) > reconnectedAt &&
        ((e.event === 'added' && e.id === alice.id && (e.attributes as Record<string, unknown>).status === 'before-restart') ||
          (e.event === 'enabled' && (e.participants as { id: string; attributes: Record<string, unknown> }[]).some((p) => p.id === alice.id && p.attributes.status === 'before-restart')) ||
          (e.event === 'attributes' && e.id === alice.id && (e.attributes as Record<string, unknown>).status === 'before-restart')),
      { timeoutMs: 60_000, what: 'bob to see the reconnected alice with her attribute' },
    );
    await sees(alice, bob.id);
    await alice.command('send', { to: bob.id, type: 'after-restart', message: { ok: true } });
    expect(await bob.waitFor('message', (e) => e.type === 'after-restart')).toMatchObject({ from: alice.id, message: { ok: true } });
    expect(await Promise.all([alice.close(), bob.close()])).toEqual([0, 0]);
  });

  it('ends the room client on a graceful shutdown (1012), as the SDK treats every server close as final', async () => {
    const first = await serve();
    const port = Number(new URL(first.url).port);
    const room = uniqueRoom('py-graceful');
    const [alice, bob] = await pair(first.url, room);
    await first.close();
    expect(await alice.waitFor('disconnected')).toMatchObject({ reason: 'websocket closed with code 1012' });
    await bob.waitFor('disconnected');
    await serve(port);
    const send = await alice.tryCommand('send', { to: bob.id, type: 'after-shutdown', message: {} });
    expect(send.ok).toBe(false);
    expect(alice.events.find((e) => e.event === 'reconnected')).toBeUndefined();
  });
});
