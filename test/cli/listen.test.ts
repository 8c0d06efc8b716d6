/**
 * `roomstate room messaging listen` as a real process: NDJSON for messages
 * and presence, a `send` from another CLI process, a `listen | send --data -`
 * pipeline, and a clean leave on SIGINT.
 */
import { describe, expect, it } from 'vitest';
import { expectExitCode, runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { useCliRoom } from '../helpers/cli-room.js';
import { uniqueRoom, useServers } from '../helpers/server.js';

/** Servers of the tests' own, closed after each test. */
const servers = useServers();

const WAIT = 60_000;
const READY = /listening in room ".*" as participant (\S+) \(Ctrl-C to stop\)\./;

const room$ = useCliRoom();
const { enabled, conn } = room$;

/** Starts `listen` and resolves with its participant id once it is enabled. */
async function listen(room: string, name: string, extra: string[] = []): Promise<{ cli: CliProcess; id: string }> {
  const cli = startCli(['room', 'messaging', 'listen', ...conn(room, name), ...extra]);
  const id = READY.exec(await cli.waitForStderr(READY, WAIT))![1];
  return { cli, id };
}

/** The parsed NDJSON line matching `predicate`, waiting for it. */
async function event(cli: CliProcess, predicate: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const line = await cli.waitForLine((l) => predicate(JSON.parse(l) as Record<string, unknown>), WAIT);
  return JSON.parse(line) as Record<string, unknown>;
}

describe('room messaging listen', () => {
  it('prints presence and messages as NDJSON, and leaves cleanly on SIGINT', async () => {
    const room = uniqueRoom();
    const early = await enabled(room, 'early');
    const { cli, id } = await listen(room, 'listener');

    // Already present participants arrive first, as participant_added.
    expect(await event(cli, (e) => e.event === 'participant_added' && e.id === early.participantId)).toEqual({
      event: 'participant_added',
      id: early.participantId,
      role: 'user',
      attributes: { name: 'early' },
    });
    // The listener's presence reached the others.
    await early.waitForPush('participant.enabled', (p) => (p.message as { id?: string }).id === id, WAIT);

    const bob = await enabled(room, 'bob');
    expect(await event(cli, (e) => e.event === 'participant_added' && e.id === bob.participantId)).toMatchObject({ attributes: { name: 'bob' } });

    await bob.invoke('send', { to_participant_id: id, type: 'chat', message_json: '{"text":"hi"}', attachment_base64: Buffer.from('raw bytes').toString('base64') });
    expect(await event(cli, (e) => e.event === 'message')).toEqual({
      event: 'message',
      from: bob.participantId,
      from_name: 'bob',
      type: 'chat',
      message: { text: 'hi' },
      attachment_base64: Buffer.from('raw bytes').toString('base64'),
    });

    bob.notify('set_attributes', { status: 'away' });
    expect(await event(cli, (e) => e.event === 'participant_attributes_updated')).toEqual({
      event: 'participant_attributes_updated',
      id: bob.participantId,
      role: 'user',
      changed: { status: 'away' },
      attributes: { name: 'bob', status: 'away' },
    });

    await bob.invoke('disable', {});
    expect(await event(cli, (e) => e.event === 'participant_removed')).toEqual({
      event: 'participant_removed',
      id: bob.participantId,
      role: 'user',
      attributes: { name: 'bob', status: 'away' },
    });

    cli.kill('SIGINT');
    const exit = await cli.exited(WAIT);
    expectExitCode(exit, 0);
    // Left the room: the others were told.
    await early.waitForPush('participant.disabled', (p) => (p.message as { id?: string }).id === id, WAIT);
    // Every stdout line is one JSON object.
    for (const line of exit.stdout.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('sees a send from another CLI process, and SIGTERM also exits 0', async () => {
    const room = uniqueRoom();
    const { cli, id } = await listen(room, 'alice');
    const send = await runCli(['room', 'messaging', 'send', ...conn(room, 'bob'), '--to-participant-name', 'alice', '--type', 'chat', '--data', '{"text":"from another process"}']);
    expectExitCode(send, 0);
    expect(send.stderr).toContain(`to participant ${id} ("alice")`);
    const message = await event(cli, (e) => e.event === 'message');
    expect(message).toMatchObject({ event: 'message', from_name: 'bob', type: 'chat', message: { text: 'from another process' } });
    expect(message).not.toHaveProperty('attachment_base64');
    cli.kill('SIGTERM');
    expectExitCode(await cli.exited(WAIT), 0);
  });

  it('filters messages with --type (repeatable) and hides presence with --no-presence', async () => {
    const room = uniqueRoom();
    const { cli, id } = await listen(room, 'picky', ['--type', 'a', '--type', 'c', '--no-presence']);
    const peer = await enabled(room, 'peer');
    for (const type of ['a', 'b', 'c']) {
      await peer.invoke('send', { to_participant_id: id, type, message_json: JSON.stringify({ type }) });
    }
    await event(cli, (e) => e.type === 'c');
    cli.kill('SIGINT');
    const exit = await cli.exited(WAIT);
    expectExitCode(exit, 0);
    expect(exit.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['a', 'c']);
  });

  it('listen | send --data - relays every event as a message (pipeline)', async () => {
    const room = uniqueRoom();
    const sink = await enabled(room, 'sink');
    const relay = await listen(room, 'relay', ['--type', 'ping', '--no-presence']);
    const send = startCli(['room', 'messaging', 'send', ...conn(room, 'forwarder'), '--to-participant-name', 'sink', '--type', 'relayed', '--data', '-'], {
      stdin: relay.cli.child.stdout!,
    });
    const source = await enabled(room, 'source');
    for (const n of [1, 2]) await source.invoke('send', { to_participant_id: relay.id, type: 'ping', message_json: JSON.stringify({ n }) });
    for (const n of [1, 2]) {
      const push = await sink.waitForPush('relayed', () => true, WAIT);
      expect(push.message).toEqual({ event: 'message', from: source.participantId, from_name: 'source', type: 'ping', message: { n } });
    }
    // Stopping the listener ends the sender's stdin, and so the sender.
    relay.cli.kill('SIGINT');
    expectExitCode(await relay.cli.exited(WAIT), 0);
    const sent = await send.exited(WAIT);
    expectExitCode(sent, 0);
    expect(sent.stderr).toContain('sent 2 messages');
  });

  it('leaves cleanly and exits 0 when its stdout reader goes away (listen | head -1)', async () => {
    const room = uniqueRoom();
    const { cli, id } = await listen(room, 'short');
    const peer = await enabled(room, 'peer');
    await event(cli, (e) => e.event === 'participant_added');
    cli.child.stdout!.destroy();
    // The next lines hit a closed pipe.
    await peer.invoke('send', { to_participant_id: id, type: 'a', message_json: '{}' });
    await peer.invoke('send', { to_participant_id: id, type: 'b', message_json: '{}' });
    expectExitCode(await cli.exited(WAIT), 0);
    await peer.waitForPush('participant.disabled', (p) => (p.message as { id?: string }).id === id, WAIT);
  });

  it('with --reconnect-timeout, comes back after a server restart and keeps listening', async () => {
    const first = await servers.start();
    const room = uniqueRoom();
    const cli = startCli(['room', 'messaging', 'listen', '--url', first.url, '--room', room, '--secret', first.secret, '--name', 'steady', '--reconnect-timeout', '30s']);
    await cli.waitForStderr(READY, WAIT);
    await first.close();
    await cli.waitForStderr(/connection lost, reconnecting\.\.\./, WAIT);
    // Same port, same secret: the listener's own retries find it.
    const second = await servers.start({ port: first.port, secret: first.secret });
    await cli.waitForStderr(/reconnected as participant \S+\./, WAIT);
    const peer = await second.connect(room, 'peer');
    await peer.invoke('enable', {});
    const snapshot = await peer.waitForPush('messaging.enabled', () => true, WAIT);
    // The listener re-enables messaging on its own; it may do so just after the peer.
    const present = (snapshot.message as { participants: Array<{ attributes: { name?: string } }> }).participants;
    if (!present.some((p) => p.attributes.name === 'steady')) {
      await peer.waitForPush('participant.enabled', (p) => (p.message as { attributes?: { name?: string } }).attributes?.name === 'steady', WAIT);
    }
    await peer.invoke('broadcast', { type: 'after-restart', message_json: '{"ok":true}' });
    expect(await event(cli, (e) => e.event === 'message')).toMatchObject({ type: 'after-restart', message: { ok: true } });
    cli.kill('SIGINT');
    expectExitCode(await cli.exited(WAIT), 0);
  });

  it('exits 2 with one line when the server goes away', async () => {
    const own = await servers.start();
    const room = uniqueRoom();
    const cli = startCli(['room', 'messaging', 'listen', '--url', own.url, '--room', room, '--secret', own.secret]);
    await cli.waitForStderr(READY, WAIT);
    await own.close();
    const exit = await cli.exited(WAIT);
    expectExitCode(exit, 2);
    expect(exit.stderr).toMatch(/\nroomstate: the room connection was lost while listening \(code 1012: server shutting down\)\.\n$/);
  });
});
