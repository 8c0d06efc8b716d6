/**
 * `roomstate serve` as a real process: the listening line, the generated
 * secret, GET /, tokens from `roomstate token`, and clean shutdown on
 * SIGTERM/SIGINT (clients get 1012, exit 0).
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRaw, expectUpgradeRefused, type RawClient } from '../helpers/raw-client.js';
import { expectExitCode, killAllClis, runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { mintToken } from '../../src/auth/token.js';

const LISTENING = /^roomstate listening on ws:\/\/127\.0\.0\.1:(\d+)$/;

const clients: RawClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.terminate()));
  await killAllClis();
});

async function startServe(args: string[] = [], env: Record<string, string> = {}): Promise<{ cli: CliProcess; url: string; port: number }> {
  const cli = startCli(['serve', '--port', '0', ...args], { env });
  const line = await cli.waitForLine((l) => LISTENING.test(l));
  const port = Number(LISTENING.exec(line)![1]);
  return { cli, url: `ws://127.0.0.1:${port}`, port };
}

describe('roomstate serve', () => {
  it('without a secret: prints how to use the generated one, listens, serves GET /, stops on SIGTERM with 1012 and exit 0', async () => {
    const { cli, url, port } = await startServe();
    const secret = /export ROOMSTATE_SECRET=(\S+)/.exec(await cli.waitForStderr(/export ROOMSTATE_SECRET=\S+/))![1];
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(cli.stderr()).toContain('roomstate token --room lobby --name alice');

    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });

    // A token from `roomstate token` with the printed secret is accepted.
    const token = await runCli(['token', '--room', 'lobby', '--name', 'alice'], { env: { ROOMSTATE_SECRET: secret } });
    expectExitCode(token, 0);
    const client = await connectRaw(url, 'lobby', token.stdout.trim());
    clients.push(client);
    expect(client.participantId).toEqual(expect.any(String));
    // Connections are logged with pino, on stderr.
    const logs = await cli.waitForStderr(/"msg":"participant connected"/);
    expect(logs).toContain(`"participant":"${client.participantId}"`);

    cli.kill('SIGTERM');
    expect(await client.closed).toMatchObject({ code: 1012 });
    const exit = await cli.exited();
    expectExitCode(exit, 0);
    // stdout carries exactly the one listening line; logs went to stderr.
    expect(exit.stdout).toBe(`roomstate listening on ${url}\n`);
    expect(exit.stderr).toContain('"msg":"room server listening"');
  });

  it('a second server with a different random secret refuses the first one\'s tokens', async () => {
    const a = await startServe();
    const b = await startServe();
    const secretA = /export ROOMSTATE_SECRET=(\S+)/.exec(await a.cli.waitForStderr(/export ROOMSTATE_SECRET=\S+/))![1];
    const secretB = /export ROOMSTATE_SECRET=(\S+)/.exec(await b.cli.waitForStderr(/export ROOMSTATE_SECRET=\S+/))![1];
    expect(secretA).not.toBe(secretB);
    const refused = await expectUpgradeRefused(b.url, 'lobby', await mintToken({ secret: secretA, room: 'lobby', name: 'x' }));
    expect(refused.status).toBe(403);
  });

  it('with --secret: no secret note, tokens signed with it work, SIGINT exits 0 and closes clients with 1012', async () => {
    const { cli, url } = await startServe(['--secret', 'cli-test-secret', '--log-level', 'warn']);
    const client = await connectRaw(url, 'r1', await mintToken({ secret: 'cli-test-secret', room: 'r1', name: 'bob' }));
    clients.push(client);
    const refused = await expectUpgradeRefused(url, 'r1', await mintToken({ secret: 'wrong', room: 'r1', name: 'bob' }));
    expect(refused.status).toBe(403);

    cli.kill('SIGINT');
    expect(await client.closed).toMatchObject({ code: 1012 });
    const exit = await cli.exited();
    expectExitCode(exit, 0);
    expect(exit.stderr).not.toContain('ROOMSTATE_SECRET=');
    // --log-level warn keeps info logs out.
    expect(exit.stderr).not.toContain('room server listening');
  });

  it('takes the secret from ROOMSTATE_SECRET', async () => {
    const { cli, url } = await startServe([], { ROOMSTATE_SECRET: 'env-secret' });
    const client = await connectRaw(url, 'r2', await mintToken({ secret: 'env-secret', room: 'r2', name: 'c' }));
    clients.push(client);
    expect(cli.stderr()).not.toContain('export ROOMSTATE_SECRET=');
    cli.kill('SIGTERM');
    expectExitCode(await cli.exited(), 0);
  });

  it('passes --broadcast-to-sender to the server', async () => {
    const { url } = await startServe(['--secret', 's', '--broadcast-to-sender']);
    const alice = await connectRaw(url, 'b', await mintToken({ secret: 's', room: 'b', name: 'alice' }));
    clients.push(alice);
    await alice.invoke('enable', {});
    await alice.waitForPush('messaging.enabled');
    await alice.invoke('broadcast', { type: 'chat', message_json: '{"n":1}' });
    const echo = await alice.waitForPush('chat');
    expect(echo.message).toEqual({ n: 1 });
  });

  it('exits 2 with one line when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const exit = await runCli(['serve', '--port', String(port), '--secret', 's', '--log-level', 'silent']);
      expectExitCode(exit, 2);
      expect(exit.stdout).toBe('');
      expect(exit.stderr).toBe(`roomstate: cannot listen on ws://127.0.0.1:${port}: the address is in use.\n`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it.each([
    [['--port', 'abc'], /--port "abc" is not a port/],
    [['--port', '70000'], /--port "70000" is not a port/],
    [['--max-message-bytes', '-1'], /--max-message-bytes "-1" is not a positive integer/],
    [['--max-message-bytes', '0'], /--max-message-bytes "0" is not a positive integer/],
    [['--max-message-bytes', 'lots'], /--max-message-bytes "lots" is not a positive integer/],
    [['--log-level', 'loud'], /argument 'loud' is invalid/],
  ])('exits 1 on invalid options %j', async (args, message) => {
    const exit = await runCli(['serve', ...args]);
    expectExitCode(exit, 1);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toMatch(message);
  });

  it('--help shows every server option and an example', async () => {
    const exit = await runCli(['serve', '--help']);
    expectExitCode(exit, 0);
    for (const text of ['--host', '--port', '--secret', '--broadcast-to-sender', '--allowed-origin', '--heartbeat-interval', '--max-message-bytes', '--messages-per-second', 'Example:', 'roomstate serve --port 8080']) {
      expect(exit.stdout).toContain(text);
    }
  });
});
