/**
 * Errors found before connecting (exit 1 for input, 3 for a token that
 * cannot work): one line on stderr, nothing on stdout, and no connection
 * made; they run against a TCP listener that counts connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectExitCode, expectOneErrorLine as expectOneLine, killAllClis, runCli } from '../helpers/cli.js';
import { mintToken } from '../../src/auth/token.js';

/** Accepts TCP connections, counts them and never answers. */
let silent: { server: Server; url: string; connections: number; sockets: Set<Socket> };
beforeAll(async () => {
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
});
afterEach(killAllClis);

describe('input errors are reported before connecting (exit 1)', () => {
  const base = () => ['--url', silent.url, '--room', 'lobby', '--secret', 's'];
  const cases: Array<{ name: string; args: () => string[]; env?: Record<string, string>; stdin?: string; message: RegExp | string | (() => string) }> = [
    {
      name: 'invalid JSON in --data',
      args: () => ['room', 'messaging', 'send', ...base(), '--to-participant-id', 'x', '--type', 't', '--data', '{"text":'],
      message: 'roomstate: --data is not valid JSON (Unexpected end of JSON input): "{\\"text\\":".',
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
      name: 'a room URL given as --url (the server would answer 404)',
      args: () => ['room', 'messaging', 'list', '--url', `${silent.url}/rooms/lobby`, '--room', 'lobby', '--secret', 's'],
      message: () => `roomstate: --url "${silent.url}/rooms/lobby" is a room URL, not the server's base URL; pass --url ${silent.url} --room "lobby".`,
    },
    {
      name: 'a room URL under a prefix in ROOMSTATE_URL',
      args: () => ['room', 'messaging', 'list', '--room', 'lobby', '--secret', 's'],
      env: { ROOMSTATE_URL: 'wss://rooms.example.com/base/rooms/' },
      message: 'roomstate: the server URL "wss://rooms.example.com/base/rooms/" is a room URL, not the server\'s base URL; pass --url wss://rooms.example.com/base and the room with --room.',
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
    expectOneLine(exit, 1, typeof message === 'function' ? message() : message);
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
