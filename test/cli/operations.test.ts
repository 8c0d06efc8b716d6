/**
 * What an operator expects of `roomstate serve`, as a real process: TLS from
 * generated files, metrics on or off or on their own port, every option from
 * the environment (ROOMSTATE_*, PORT, HOST), a fixed public URL,
 * `--shutdown-timeout` doing what `--help` says, one-line errors and
 * `roomstate version`.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { generateCertificate, type TestCertificate } from '../helpers/certificate.js';
import { expectExitCode, expectOneErrorLine, killAllClis, runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { connectRaw, expectUpgradeRefused, type ConnectRawOptions, type RawClient } from '../helpers/raw-client.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

const LISTENING = /^roomstate listening on (wss?:\/\/127\.0\.0\.1:(\d+))$/;
const SECRET = 'operations-secret';

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await generateCertificate();
});
afterAll(() => certificate?.dispose());

const clients: RawClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.terminate()));
  await killAllClis();
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<{ cli: CliProcess; url: string; port: number }> {
  const cli = startCli(['serve', ...args], { env: { ROOMSTATE_SECRET: SECRET, ...env } });
  const match = LISTENING.exec(await cli.waitForLine((line) => LISTENING.test(line)))!;
  return { cli, url: match[1], port: Number(match[2]) };
}

async function join(url: string, room: string, options: ConnectRawOptions = {}): Promise<RawClient> {
  const client = await connectRaw(url, room, await mintToken({ secret: SECRET, room, name: 'op' }), options);
  clients.push(client);
  return client;
}

describe('roomstate serve for operators', () => {
  it('serves wss:// and https:// with --tls-cert and --tls-key', async () => {
    const { cli, url, port } = await serve(['--port', '0', '--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile]);
    expect(url).toBe(`wss://127.0.0.1:${port}`);
    const client = await join(url, 'secure', { wsOptions: { ca: certificate.cert } });
    expect(client.roomReady.room_url).toBe(`${url}/rooms/secure`);
    cli.kill('SIGTERM');
    expect((await client.closed).code).toBe(1012);
    expectExitCode(await cli.exited(), 0);
  });

  it.each([
    [['--tls-cert', 'cert.pem'], 'roomstate: --tls-cert and --tls-key go together; got only --tls-cert.'],
    [['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], 'roomstate: cannot read --tls-cert "/nonexistent/cert.pem": ENOENT.'],
    [['--public-url', 'https://example.com'], 'roomstate: invalid server options: publicUrl "https://example.com" must start with ws:// or wss://.'],
  ])('refuses %j with one line and exit 1', async (args, message) => {
    expectOneErrorLine(await runCli(['serve', '--port', '0', ...args]), 1, message);
  });

  it('takes every option from ROOMSTATE_* and PORT/HOST; a flag wins over the environment', async () => {
    const env = {
      PORT: '1',
      ROOMSTATE_PORT: '0',
      HOST: '127.0.0.1',
      ROOMSTATE_MAX_ROOMS: '1',
      ROOMSTATE_METRICS: 'false',
      ROOMSTATE_PUBLIC_URL: 'wss://rooms.example.com',
      ROOMSTATE_LOG_LEVEL: 'debug',
    };
    const { cli, url, port } = await serve(['--log-level', 'warn'], env);
    // --log-level warn beat ROOMSTATE_LOG_LEVEL=debug: no info logs.
    expect(cli.stderr()).not.toContain('room server listening');
    const first = await join(url, 'one');
    expect(first.roomReady.room_url).toBe('wss://rooms.example.com/rooms/one');
    // ROOMSTATE_MAX_ROOMS=1: a second room is refused.
    const refused = await expectUpgradeRefused(url, 'two', await mintToken({ secret: SECRET, room: 'two', name: 'op' }));
    expect(refused).toMatchObject({ status: 503, statusText: 'too many rooms' });
    // ROOMSTATE_METRICS=false.
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
  });

  it('listens on PORT when neither --port nor ROOMSTATE_PORT is given', async () => {
    // Find a free port, then hand it over through PORT.
    const probe = await serve(['--port', '0']);
    probe.cli.kill('SIGTERM');
    expectExitCode(await probe.cli.exited(), 0);
    const { port } = await serve([], { PORT: String(probe.port) });
    expect(port).toBe(probe.port);
  });

  it.each([
    [{ ROOMSTATE_METRICS: 'maybe' }, 'roomstate: ROOMSTATE_METRICS="maybe" is not a boolean; expected true or false (1/0, yes/no, on/off).'],
    [{ PORT: 'eighty' }, 'roomstate: PORT="eighty" is invalid: --port "eighty" is not a port; expected 0-65535.'],
    [{ ROOMSTATE_LOG_LEVEL: 'loud' }, /^roomstate: ROOMSTATE_LOG_LEVEL="loud" is invalid: .*Allowed choices are/],
  ])('refuses a bad environment value %j with one line and exit 1', async (env, message) => {
    expectOneErrorLine(await runCli(['serve'], { env }), 1, message);
  });

  it('serves /metrics on the main port by default, or on --metrics-port only', async () => {
    const main = await serve(['--port', '0']);
    await join(main.url, 'watched');
    const text = await (await fetch(`http://127.0.0.1:${main.port}/metrics`)).text();
    expect(text).toMatch(/^roomstate_participants 1$/m);

    const split = await serve(['--port', '0', '--metrics-port', '0']);
    const metricsUrl = /"metrics":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(await split.cli.waitForStderr(/"metrics":"http/))![1];
    expect((await fetch(`http://127.0.0.1:${split.port}/metrics`)).status).toBe(404);
    expect(await (await fetch(metricsUrl)).text()).toMatch(/^roomstate_connections 0$/m);
  });

  it('--shutdown-timeout gives a client that does not answer the close that long, then exits 0', async () => {
    const timeoutMs = 3000;
    const { cli, url } = await serve(['--port', '0', '--shutdown-timeout', `${timeoutMs}ms`]);
    const stuck = await join(url, 'stuck');
    requireTcpSocket(stuck.ws).pause();
    // Taken before the signal, so the exit cannot come sooner than measured, however the machine schedules.
    const signalled = performance.now();
    cli.kill('SIGTERM');
    await cli.waitForStderr(/"msg":"shutting down"/);
    expectExitCode(await cli.exited(), 0);
    // Not cut at the binding's 1 s close timeout: the server waited the whole shutdown timeout for the client.
    expect(performance.now() - signalled).toBeGreaterThanOrEqual(timeoutMs);
  });

  it('--shutdown-timeout drops a client that does not answer once it runs out', async () => {
    const { cli, url } = await serve(['--port', '0', '--shutdown-timeout', '200ms']);
    const stuck = await join(url, 'stuck');
    requireTcpSocket(stuck.ws).pause();
    cli.kill('SIGTERM');
    expectExitCode(await cli.exited(), 0);
  });
});

describe('one-line errors and version', () => {
  it.each([
    [['serve', '--prot', '1'], 'roomstate: unknown option \'--prot\' (Did you mean --port?); see "roomstate serve --help".'],
    [['bogus'], 'roomstate: unknown command \'bogus\'; see "roomstate --help".'],
    [['room', 'messaging', 'broadcast', '--room', 'r', '--secret', 's'], 'roomstate: required option \'--data <json>\' not specified; see "roomstate room messaging broadcast --help".'],
  ])('commander errors %j are one line starting with roomstate:', async (args, message) => {
    expectOneErrorLine(await runCli(args), 1, message);
  });

  it('roomstate version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const exit = await runCli(['version']);
    expectExitCode(exit, 0);
    expect(exit.stdout).toBe(`${version}\n`);
  });
});
