/**
 * `roomstate room messaging list|send|broadcast` as real processes against a
 * real in-process server; the other participants are raw protocol clients,
 * so every assertion is on what actually crossed the wire.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExitCode, runCli, startCli } from '../helpers/cli.js';
import { useCliRoom } from '../helpers/cli-room.js';
import { waitUntil } from '../helpers/recorder.js';
import { uniqueRoom, useServers } from '../helpers/server.js';

/** Servers of the tests' own, closed after each test. */
const servers = useServers();

const WAIT = 60_000;

const room$ = useCliRoom();
const { enabled, conn } = room$;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roomstate-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once `condition()` holds, or rejects at the deadline. */
const until = (condition: () => boolean, what: string, timeoutMs = WAIT): Promise<void> => waitUntil(condition, { what, timeoutMs });

describe('room messaging list', () => {
  it('prints the messaging-enabled participants as a JSON array of { id, role, attributes }, without itself', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const bot = await enabled(room, 'bot', { token: { role: 'agent' } });
    // Connected but not messaging-enabled: not listed.
    await room$.connect(room, 'lurker');

    const exit = await runCli(['room', 'messaging', 'list', ...conn(room)]);
    expectExitCode(exit, 0);
    const list = JSON.parse(exit.stdout) as unknown[];
    expect(list).toHaveLength(2);
    expect(list).toEqual(
      expect.arrayContaining([
        { id: alice.participantId, role: 'user', attributes: { name: 'alice' } },
        { id: bot.participantId, role: 'agent', attributes: { name: 'bot' } },
      ]),
    );
    // Indented like MeshAgent's CLI.
    expect(exit.stdout).toContain('\n  {\n    "id": ');
  });

  it('prints [] for an empty room once --wait has passed, and says so on stderr', async () => {
    const room = uniqueRoom('lobyy');
    const exit = await runCli(['room', 'messaging', 'list', ...conn(room), '--wait', '200ms']);
    expectExitCode(exit, 0);
    expect(exit.stdout).toBe('[]\n');
    expect(exit.stderr).toBe(`roomstate: nobody in room ${JSON.stringify(room)} has messaging enabled (waited 0.2s); is the room name right?\n`);
  });

  it('waits for presence instead of printing an early empty list', async () => {
    // A server of its own, so that its enabled count is this test's alone.
    const own = await servers.start();
    const room = uniqueRoom();
    const list = startCli(['room', 'messaging', 'list', '--url', own.url, '--room', room, '--secret', own.secret, '--wait', '60s']);
    // Once the CLI itself is enabled, a participant arrives.
    await until(() => own.server.stats().enabled === 1, 'the list command to enable messaging');
    const late = await own.connect(room, 'late');
    await late.invoke('enable', {});
    const exit = await list.exited(WAIT);
    expectExitCode(exit, 0);
    expect(JSON.parse(exit.stdout)).toEqual([{ id: late.participantId, role: 'user', attributes: { name: 'late' } }]);
  });
});

describe('room messaging send', () => {
  it('sends to --to-participant-id with type, JSON body and attachment', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const file = join(dir, 'attachment.bin');
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await writeFile(file, bytes);
    const exit = await runCli([
      'room', 'messaging', 'send', ...conn(room, 'bob'),
      '--to-participant-id', alice.participantId, '--type', 'chat', '--data', '{"text":"hi","n":[1,2]}', '--attachment-file', file,
    ]);
    expectExitCode(exit, 0);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toBe(`roomstate: sent 1 message to participant ${alice.participantId} ("alice").\n`);
    const push = await alice.waitForPush('chat', () => true, WAIT);
    expect(push.message).toEqual({ text: 'hi', n: [1, 2] });
    expect(Buffer.from(push.attachment).equals(bytes)).toBe(true);
  });

  it('resolves --to-participant-name by the name attribute', async () => {
    const room = uniqueRoom();
    await enabled(room, 'alice');
    const carol = await enabled(room, 'carol');
    const exit = await runCli(['room', 'messaging', 'send', ...conn(room), '--to-participant-name', 'carol', '--type', 'note', '--data', '{"x":1}']);
    expectExitCode(exit, 0);
    const push = await carol.waitForPush('note', () => true, WAIT);
    expect(push.message).toEqual({ x: 1 });
    expect(push.attachment.byteLength).toBe(0);
  });

  it('waits up to --wait for the recipient to enable messaging', async () => {
    const own = await servers.start();
    const room = uniqueRoom();
    const send = startCli(['room', 'messaging', 'send', '--url', own.url, '--room', room, '--secret', own.secret, '--to-participant-name', 'slow', '--type', 't', '--data', '{}', '--wait', '60s']);
    await until(() => own.server.stats().enabled === 1, 'the send command to enable messaging');
    const slow = await own.connect(room, 'slow');
    await slow.invoke('enable', {});
    expectExitCode(await send.exited(WAIT), 0);
    expect((await slow.waitForPush('t', () => true, WAIT)).message).toEqual({});
  });

  it('with --data - sends every JSON object read from stdin, in order', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'send', ...conn(room), '--to-participant-name', 'alice', '--type', 'seq', '--data', '-'], {
      stdin: '{"n":1}\n{"n":2}\n{\n  "n": 3\n}\n',
    });
    expectExitCode(exit, 0);
    expect(exit.stderr).toContain('sent 3 messages');
    for (const n of [1, 2, 3]) expect((await alice.waitForPush('seq', () => true, WAIT)).message).toEqual({ n });
  });

  it('sends any JSON value as --data, as MeshAgent\'s CLI does', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    for (const [index, data] of ['"hello"', '[1,2]', '42', 'null', 'true'].entries()) {
      const exit = await runCli(['room', 'messaging', 'broadcast', ...conn(room), '--type', `v${index}`, '--data', data]);
      expectExitCode(exit, 0);
      expect((await alice.waitForPush(`v${index}`, () => true, WAIT)).message).toEqual(JSON.parse(data));
    }
  });

  it('runs a meshagent script unchanged: --project-id is accepted and ignored, MESHAGENT_API_URL is the base URL', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'send', '--project-id', 'proj-1', '--to-participant-name', 'alice', '--type', 'api', '--data', '{}'], {
      env: { MESHAGENT_API_URL: room$.fx.httpUrl, MESHAGENT_ROOM: room, MESHAGENT_TOKEN: await room$.fx.token(room, 'meshagent-user') },
    });
    expectExitCode(exit, 0);
    expect(exit.stderr).toContain('roomstate: --project-id "proj-1" is ignored: a self-hosted roomstate server has no projects.\n');
    await alice.waitForPush('api', () => true, WAIT);
  });

  it('prefers MESHAGENT_ROOM_URL over MESHAGENT_API_URL', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'send', '--to-participant-name', 'alice', '--type', 'order', '--data', '{}'], {
      env: { MESHAGENT_ROOM_URL: room$.fx.url, MESHAGENT_API_URL: 'http://127.0.0.1:1', MESHAGENT_ROOM: room, MESHAGENT_TOKEN: await room$.fx.token(room, 'm') },
    });
    expectExitCode(exit, 0);
    await alice.waitForPush('order', () => true, WAIT);
  });

  it('takes the connection from ROOMSTATE_* variables', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'send', '--to-participant-name', 'alice', '--type', 'env', '--data', '{}'], {
      env: { ROOMSTATE_URL: room$.fx.url, ROOMSTATE_ROOM: room, ROOMSTATE_TOKEN: await room$.fx.token(room, 'from-env') },
    });
    expectExitCode(exit, 0);
    const push = await alice.waitForPush('env', () => true, WAIT);
    expect(push.from).not.toBe(alice.participantId);
  });

  it('takes the connection from MESHAGENT_* variables, with an http:// base URL', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'send', '--to-participant-name', 'alice', '--type', 'mesh', '--data', '{"ok":true}'], {
      env: { MESHAGENT_ROOM_URL: room$.fx.httpUrl, MESHAGENT_ROOM: room, MESHAGENT_TOKEN: await room$.fx.token(room, 'meshagent-user') },
    });
    expectExitCode(exit, 0);
    expect((await alice.waitForPush('mesh', () => true, WAIT)).message).toEqual({ ok: true });
  });

  it('mints its token from ROOMSTATE_SECRET, naming itself with --name', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'send', '--name', 'minted', '--to-participant-name', 'alice', '--type', 'm', '--data', '{}'], {
      env: { ROOMSTATE_URL: room$.fx.url, ROOMSTATE_ROOM: room, ROOMSTATE_SECRET: room$.fx.secret },
    });
    expectExitCode(exit, 0);
    // The sender enabled messaging, so alice saw it arrive under its name.
    const arrived = await alice.waitForPush('participant.enabled', () => true, WAIT);
    expect(arrived.message).toMatchObject({ attributes: { name: 'minted' } });
    expect((await alice.waitForPush('m', () => true, WAIT)).from).toBe((arrived.message as { id: string }).id);
  });
});

describe('room messaging broadcast', () => {
  it('reaches every messaging-enabled participant with type chat.broadcast by default', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const bob = await enabled(room, 'bob');
    const exit = await runCli(['room', 'messaging', 'broadcast', ...conn(room), '--data', '{"content":"hello everyone"}']);
    expectExitCode(exit, 0);
    expect(exit.stderr).toBe(`roomstate: broadcast 1 message of type "chat.broadcast" to room ${JSON.stringify(room)}.\n`);
    for (const client of [alice, bob]) {
      expect((await client.waitForPush('chat.broadcast', () => true, WAIT)).message).toEqual({ content: 'hello everyone' });
    }
  });

  it('honours --type and --attachment-file, and reads --data - from stdin', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const file = join(dir, 'b.txt');
    await writeFile(file, 'attached');
    const exit = await runCli(['room', 'messaging', 'broadcast', ...conn(room), '--type', 'news', '--attachment-file', file, '--data', '-'], {
      stdin: '{"headline":"one"} {"headline":"two"}',
    });
    expectExitCode(exit, 0);
    for (const headline of ['one', 'two']) {
      const push = await alice.waitForPush('news', () => true, WAIT);
      expect(push.message).toEqual({ headline });
      expect(Buffer.from(push.attachment).toString()).toBe('attached');
    }
  });

  it('does not enable messaging, so it never shows up in presence', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    expectExitCode(await runCli(['room', 'messaging', 'broadcast', ...conn(room), '--type', 'first', '--data', '{}']), 0);
    // The first push alice gets after her own snapshot is the broadcast, not a presence change.
    const next = await alice.waitFor((m) => m.type === 'messaging.send', WAIT);
    expect(next.header).toMatchObject({ type: 'first' });
  });
});
