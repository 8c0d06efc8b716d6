/**
 * Errors met once connecting: an unreachable or silent server (exit 2), a
 * refused token (3), an unknown room or participant (4), a permission denied
 * (3), any other server error (5). One line on stderr, nothing on stdout,
 * nothing sent.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneErrorLine as expectOneLine, runCli } from '../helpers/cli.js';
import { useCliRoom } from '../helpers/cli-room.js';
import { uniqueRoom, useServers } from '../helpers/server.js';

/** Servers of the tests' own, closed after each test. */
const servers = useServers();

const WAIT = 60_000;

const room$ = useCliRoom();
const { enabled } = room$;
/** Accepts TCP connections and never answers. */
let silent: { server: Server; url: string; sockets: Set<Socket> };
beforeAll(async () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  silent = { server, url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, sockets };
});
afterAll(async () => {
  for (const socket of silent.sockets) socket.destroy();
  await new Promise((resolve) => silent.server.close(resolve));
});

describe('connection errors', () => {
  it('an unreachable server exits 2', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const exit = await runCli(['room', 'messaging', 'list', '--url', `ws://127.0.0.1:${port}`, '--room', 'lobby', '--secret', 's']);
    expectOneLine(
      exit,
      2,
      `roomstate: cannot connect to room "lobby" at ws://127.0.0.1:${port} (connection refused (connect ECONNREFUSED 127.0.0.1:${port})); is the server running?`,
    );
  });

  it('a server that never answers exits 2 after --connect-timeout', async () => {
    const exit = await runCli(['room', 'messaging', 'list', '--url', silent.url, '--room', 'lobby', '--secret', 's', '--connect-timeout', '500ms']);
    expectOneLine(exit, 2, /^roomstate: cannot connect to room "lobby" at ws:\/\/127\.0\.0\.1:\d+ \(no answer from the server within 0\.5s\)/);
  });

  it('a token the server refuses (403) exits 3, printing the server\'s reason', async () => {
    const room = uniqueRoom();
    const exit = await runCli(['room', 'messaging', 'list', '--url', room$.fx.url, '--room', room, '--secret', 'not-the-server-secret']);
    expectOneLine(exit, 3, `roomstate: the server refused the token for room ${JSON.stringify(room)} (HTTP 403: invalid signature).`);
  });

  it('a full room exits 2, printing the server\'s reason', async () => {
    const full = await servers.start({ limits: { maxParticipantsPerRoom: 1 } });
    const room = uniqueRoom();
    await full.connect(room, 'bob');
    const exit = await runCli(['room', 'messaging', 'list', '--url', full.url, '--room', room, '--secret', full.secret]);
    expectOneLine(exit, 2, `roomstate: the server at ${full.url} refused the connection (HTTP 503: room is full).`);
  });

  it('a room the server does not have (404) exits 4', async () => {
    const room = 'x'.repeat(300);
    const exit = await runCli(['room', 'messaging', 'list', '--url', room$.fx.url, '--room', room, '--secret', room$.fx.secret]);
    expectOneLine(exit, 4, /^roomstate: room "x+" not found at ws:\/\/127\.0\.0\.1:\d+ \(HTTP 404(: .*)?\)\.$/);
  });
});

describe('errors answered in the room', () => {
  it('an unknown participant id exits 4 and sends nothing', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli([
      'room', 'messaging', 'send', '--url', room$.fx.url, '--room', room, '--secret', room$.fx.secret,
      '--to-participant-id', 'no-such-id', '--type', 'lost', '--data', '{}', '--wait', '300ms',
    ]);
    expectOneLine(exit, 4, `roomstate: no messaging-enabled participant with id "no-such-id" in room ${JSON.stringify(room)}; nothing sent.`);
    // Nothing reached alice: the next user message she gets is the marker.
    const marker = await enabled(room, 'marker');
    await marker.invoke('send', { to_participant_id: alice.participantId, type: 'marker', message_json: '{}' });
    const next = await alice.waitFor((m) => m.type === 'messaging.send' && !String(m.header?.type).includes('.'), WAIT);
    expect(next.header).toMatchObject({ type: 'marker' });
  });

  it('an unknown participant name exits 4', async () => {
    const room = uniqueRoom();
    await enabled(room, 'alice');
    const exit = await runCli([
      'room', 'messaging', 'send', '--url', room$.fx.url, '--room', room, '--secret', room$.fx.secret,
      '--to-participant-name', 'bob', '--type', 't', '--data', '{}', '--wait', '300ms',
    ]);
    expectOneLine(exit, 4, `roomstate: no messaging-enabled participant named "bob" in room ${JSON.stringify(room)}; nothing sent.`);
  });

  it('a token without the send permission exits 3 (permission denied) and sends nothing', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const token = await room$.fx.token(room, 'muted', { messaging: { send: false } });
    const exit = await runCli(['room', 'messaging', 'send', '--url', room$.fx.url, '--room', room, '--token', token, '--to-participant-name', 'alice', '--type', 'nope', '--data', '{}']);
    expectOneLine(exit, 3, /^roomstate: sending the message failed: permission denied \(.+\)\.$/);
    const marker = await enabled(room, 'marker');
    await marker.invoke('send', { to_participant_id: alice.participantId, type: 'marker', message_json: '{}' });
    const next = await alice.waitFor((m) => m.type === 'messaging.send' && !String(m.header?.type).includes('.'), WAIT);
    expect(next.header).toMatchObject({ type: 'marker' });
  });

  it('any other server error exits 5 with the server\'s text and code', async () => {
    const room = uniqueRoom();
    await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'broadcast', '--url', room$.fx.url, '--room', room, '--secret', room$.fx.secret, '--type', 't'.repeat(300), '--data', '{}']);
    expectOneLine(exit, 5, /^roomstate: broadcasting the message failed: the server answered ".+" \(code 1002\)\.$/);
  });
});
