/**
 * Every error a user of `roomstate room messaging` will meet: one line on
 * stderr, the documented exit code, nothing on stdout, and nothing sent.
 * Input errors must be reported before connecting: they run against a TCP
 * listener that counts connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectExitCode, killAllClis, runCli } from '../helpers/cli.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, uniqueRoom, type TestServer } from '../helpers/server.js';
import { mintToken } from '../../src/auth/token.js';

const WAIT = 15_000;

let fx: TestServer;
/** Accepts TCP connections, counts them and never answers. */
let silent: { server: Server; url: string; connections: number; sockets: Set<Socket> };
beforeAll(async () => {
  fx = await startServer();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    silent.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  silent = { server, url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, connections: 0, sockets };
});
afterAll(async () => {
  for (const socket of silent.sockets) socket.destroy();
  await new Promise((resolve) => silent.server.close(resolve));
  await fx.close();
});
const clients: RawClient[] = [];
afterEach(async () => {
  await killAllClis();
  await Promise.all(clients.splice(0).map((client) => client.terminate()));
});

async function enabled(room: string, name: string): Promise<RawClient> {
  const client = await fx.connect(room, name);
  clients.push(client);
  await client.invoke('enable', {});
  await client.waitForPush('messaging.enabled');
  return client;
}

/** Asserts exit code and exactly one stderr line matching `message`, nothing on stdout. */
function expectOneLine(exit: { code: number | null; stdout: string; stderr: string }, code: number, message: RegExp | string): void {
  expectExitCode(exit as Parameters<typeof expectExitCode>[0], code);
  expect(exit.stdout).toBe('');
  const lines = exit.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toBe(message);
  else expect(lines[0]).toMatch(message);
}

describe('input errors are reported before connecting (exit 1)', () => {
  const base = () => ['--url', silent.url, '--room', 'lobby', '--secret', 's'];
  const cases: Array<{ name: string; args: () => string[]; env?: Record<string, string>; stdin?: string; message: RegExp | string }> = [
    {
      name: 'invalid JSON in --data',
      args: () => ['room', 'messaging', 'send', ...base(), '--to-participant-id', 'x', '--type', 't', '--data', '{"text":'],
      message: 'roomstate: --data is not valid JSON (Unexpected end of JSON input): "{\\"text\\":".',
    },
    {
      name: 'a --data that is not an object',
      args: () => ['room', 'messaging', 'broadcast', ...base(), '--data', '"hello"'],
      message: 'roomstate: --data must be a JSON object, got "hello".',
    },
    {
      name: 'invalid JSON on stdin with --data -',
      args: () => ['room', 'messaging', 'broadcast', ...base(), '--data', '-'],
      stdin: '{oops}',
      message: /^roomstate: --data - value 1 is not valid JSON/,
    },
    {
      name: 'empty stdin with --data -',
      args: () => ['room', 'messaging', 'broadcast', ...base(), '--data', '-'],
      stdin: '  \n',
      message: 'roomstate: --data -: stdin ended without a JSON object.',
    },
    {
      name: 'a missing room',
      args: () => ['room', 'messaging', 'list', '--url', silent.url, '--secret', 's'],
      message: 'roomstate: no room: pass --room or set ROOMSTATE_ROOM.',
    },
    {
      name: 'no credentials',
      args: () => ['room', 'messaging', 'list', '--url', silent.url, '--room', 'lobby'],
      message: 'roomstate: no credentials: pass --token, or --secret (or set ROOMSTATE_TOKEN or ROOMSTATE_SECRET).',
    },
    {
      name: 'a token that is not a JWT',
      args: () => ['room', 'messaging', 'list', '--url', silent.url, '--room', 'lobby', '--token', 'nope'],
      message: 'roomstate: the token is not a JWT: "nope".',
    },
    {
      name: 'an unreadable --attachment-file',
      args: () => ['room', 'messaging', 'send', ...base(), '--to-participant-id', 'x', '--type', 't', '--data', '{}', '--attachment-file', '/nonexistent/file'],
      message: 'roomstate: cannot read --attachment-file "/nonexistent/file" (ENOENT).',
    },
    {
      name: 'both recipient options',
      args: () => ['room', 'messaging', 'send', ...base(), '--to-participant-id', 'x', '--to-participant-name', 'y', '--type', 't', '--data', '{}'],
      message: 'roomstate: give exactly one of --to-participant-id and --to-participant-name.',
    },
    {
      name: 'no recipient option',
      args: () => ['room', 'messaging', 'send', ...base(), '--type', 't', '--data', '{}'],
      message: 'roomstate: give exactly one of --to-participant-id and --to-participant-name.',
    },
    {
      name: 'a URL with another scheme',
      args: () => ['room', 'messaging', 'list', '--url', 'ftp://127.0.0.1', '--room', 'lobby', '--secret', 's'],
      message: 'roomstate: --url "ftp://127.0.0.1" must use ws:, wss:, http: or https:.',
    },
    {
      name: 'a bad --wait',
      args: () => ['room', 'messaging', 'list', ...base(), '--wait', 'soon'],
      message: /^roomstate: --wait "soon" is not a duration/,
    },
  ];

  it.each(cases)('$name', async ({ args, env, stdin, message }) => {
    const before = silent.connections;
    const exit = await runCli(args(), { env, stdin });
    expectOneLine(exit, 1, message);
    expect(silent.connections).toBe(before);
  });

  it('a missing required option is a commander usage error (exit 1)', async () => {
    const exit = await runCli(['room', 'messaging', 'send', '--url', silent.url, '--room', 'r', '--secret', 's', '--to-participant-id', 'x', '--data', '{}']);
    expectExitCode(exit, 1);
    expect(exit.stderr).toMatch(/required option '--type <type>' not specified/);
  });
});

describe('token problems found locally (exit 3, nothing sent)', () => {
  it('a token for another room', async () => {
    const before = silent.connections;
    const token = await mintToken({ secret: 's', room: 'elsewhere', name: 'n' });
    const exit = await runCli(['room', 'messaging', 'list', '--url', silent.url, '--room', 'lobby', '--token', token]);
    expectOneLine(exit, 3, 'roomstate: the token is for room "elsewhere", not "lobby".');
    expect(silent.connections).toBe(before);
  });

  it('an expired token', async () => {
    const token = await new SignJWT({ name: 'n', grants: [{ name: 'room', scope: 'lobby' }], exp: 1_000_000_000 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('s'));
    const exit = await runCli(['room', 'messaging', 'list', '--url', silent.url, '--room', 'lobby'], { env: { ROOMSTATE_TOKEN: token } });
    expectOneLine(exit, 3, 'roomstate: the token expired at 2001-09-09T01:46:40.000Z.');
  });
});

describe('connection errors', () => {
  it('an unreachable server exits 2', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const exit = await runCli(['room', 'messaging', 'list', '--url', `ws://127.0.0.1:${port}`, '--room', 'lobby', '--secret', 's']);
    expectOneLine(exit, 2, `roomstate: cannot connect to room "lobby" at ws://127.0.0.1:${port} (code 1006); is the server running?`);
  });

  it('a server that never answers exits 2 after --connect-timeout', async () => {
    const exit = await runCli(['room', 'messaging', 'list', '--url', silent.url, '--room', 'lobby', '--secret', 's', '--connect-timeout', '500ms']);
    expectOneLine(exit, 2, /^roomstate: cannot connect to room "lobby" at ws:\/\/127\.0\.0\.1:\d+ \(code 1006: the handshake timed out\)/);
  });

  it('a token the server refuses (403) exits 3', async () => {
    const exit = await runCli(['room', 'messaging', 'list', '--url', fx.url, '--room', uniqueRoom(), '--secret', 'not-the-server-secret']);
    expectOneLine(exit, 3, /^roomstate: the server refused the token for room "room-[\w-]+" \(HTTP 403(: .*)?\)\.$/);
  });

  it('a room the server does not have (404) exits 4', async () => {
    const room = 'x'.repeat(300);
    const exit = await runCli(['room', 'messaging', 'list', '--url', fx.url, '--room', room, '--secret', fx.secret]);
    expectOneLine(exit, 4, /^roomstate: room "x+" not found at ws:\/\/127\.0\.0\.1:\d+ \(HTTP 404(: .*)?\)\.$/);
  });
});

describe('errors answered in the room', () => {
  it('an unknown participant id exits 4 and sends nothing', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const exit = await runCli([
      'room', 'messaging', 'send', '--url', fx.url, '--room', room, '--secret', fx.secret,
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
      'room', 'messaging', 'send', '--url', fx.url, '--room', room, '--secret', fx.secret,
      '--to-participant-name', 'bob', '--type', 't', '--data', '{}', '--wait', '300ms',
    ]);
    expectOneLine(exit, 4, `roomstate: no messaging-enabled participant named "bob" in room ${JSON.stringify(room)}; nothing sent.`);
  });

  it('a token without the send permission exits 3 (permission denied) and sends nothing', async () => {
    const room = uniqueRoom();
    const alice = await enabled(room, 'alice');
    const token = await fx.token(room, 'muted', { messaging: { send: false } });
    const exit = await runCli(['room', 'messaging', 'send', '--url', fx.url, '--room', room, '--token', token, '--to-participant-name', 'alice', '--type', 'nope', '--data', '{}']);
    expectOneLine(exit, 3, /^roomstate: sending the message failed: permission denied \(.+\)\.$/);
    const marker = await enabled(room, 'marker');
    await marker.invoke('send', { to_participant_id: alice.participantId, type: 'marker', message_json: '{}' });
    const next = await alice.waitFor((m) => m.type === 'messaging.send' && !String(m.header?.type).includes('.'), WAIT);
    expect(next.header).toMatchObject({ type: 'marker' });
  });

  it('any other server error exits 5 with the server\'s text and code', async () => {
    const room = uniqueRoom();
    await enabled(room, 'alice');
    const exit = await runCli(['room', 'messaging', 'broadcast', '--url', fx.url, '--room', room, '--secret', fx.secret, '--type', 't'.repeat(300), '--data', '{}']);
    expectOneLine(exit, 5, /^roomstate: broadcasting the message failed: the server answered ".+" \(code 1002\)\.$/);
  });
});
