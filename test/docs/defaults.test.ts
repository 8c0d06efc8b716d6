/**
 * Every server limit's default is written once, in DEFAULT_LIMITS
 * (src/server/core/limits.ts): its TSDoc `@defaultValue`, the CLI's help
 * and the docs' limits table are checked against it (the help is generated
 * from it), and every limit appears in all three. The client's timeouts are
 * defaulted by the machines alone (room-client.ts passes only what was set);
 * its TSDoc is checked against the machines' constants.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type RoomServerLimits } from '../../src/server/core/limits.js';
import { LIMIT_FLAGS, limitOptions } from '../../src/cli/commands/serve-options.js';
import { ROOT } from '../helpers/consumer-project.js';
import { SERVER_DEFAULTS } from '../../src/server/options.js';
import { runCli, expectExitCode, killAllClis } from '../helpers/cli.js';
import { CONNECT_TIMEOUT_MS, ENABLE_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS } from '../../machines/index.js';

const names = Object.keys(DEFAULT_LIMITS) as Array<keyof RoomServerLimits>;

/** How the docs write a default: bytes in KiB or MiB when whole, else the number. */
function docsValue(name: string, value: number): string {
  if (/bytes/i.test(name) && value >= 1024) {
    if (value % (1024 * 1024) === 0) return `${value / (1024 * 1024)} MiB`;
    if (value % 1024 === 0) return `${value / 1024} KiB`;
  }
  return String(value);
}

describe('limit defaults', () => {
  it('the TSDoc @defaultValue of each limit is its DEFAULT_LIMITS value', () => {
    const source = readFileSync(join(ROOT, 'src/server/core/limits.ts'), 'utf8');
    const documented = Object.fromEntries(
      [...source.matchAll(/@defaultValue (\d+)[^\n]*\n\s*\*\/\n\s*(\w+): number;/g)].map((match) => [match[2], Number(match[1])]),
    );
    expect(documented).toEqual({ ...DEFAULT_LIMITS });
  });

  it('the docs table of docs/server.md lists every limit with its default', () => {
    const page = readFileSync(join(ROOT, 'docs/server.md'), 'utf8');
    const table = Object.fromEntries([...page.matchAll(/^\| `(\w+)` \| ([^|]+?) \|/gm)].map((match) => [match[1], match[2]]));
    expect(table).toEqual(Object.fromEntries(names.map((name) => [name, docsValue(name, DEFAULT_LIMITS[name])])));
  });

  it('roomstate serve has a flag for every limit, and its help shows the default', () => {
    expect(LIMIT_FLAGS.map(([name]) => name).sort()).toEqual([...names].sort());
    for (const [index, option] of limitOptions().entries()) {
      expect(option.description).toMatch(new RegExp(`\\(default: ${DEFAULT_LIMITS[LIMIT_FLAGS[index][0]]}\\)$`));
    }
  });

  it('the docs formatter writes what a reader expects', () => {
    expect([docsValue('maxMessageBytes', 4 * 1024 * 1024), docsValue('maxAttributeBytes', 65536), docsValue('maxTypeBytes', 256), docsValue('maxRooms', 10_000)]).toEqual([
      '4 MiB',
      '64 KiB',
      '256',
      '10000',
    ]);
  });
});

/** The `@defaultValue` text of each option in a TypeScript interface's source. */
function defaultValues(file: string): Record<string, string> {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const values: Record<string, string> = {};
  // The first declaration of a name wins: nested option objects (metrics' `host`) come later.
  for (const match of source.matchAll(/@defaultValue ([^\n]+)\n\s*\*\/\n\s*(\w+)\??:/g)) values[match[2]] ??= match[1].trim();
  return values;
}

describe('client timeout defaults', () => {
  it('RoomClient documents the machines\' defaults', () => {
    const documented = defaultValues('src/client/room-client.ts');
    expect(documented.connectTimeout).toBe(String(CONNECT_TIMEOUT_MS));
    expect(documented.handshakeTimeout).toBe(String(HANDSHAKE_TIMEOUT_MS));
    expect(documented.enableTimeout).toBe(String(ENABLE_TIMEOUT_MS));
    expect(documented.retryDelay).toBe(`${RECONNECT_BASE_DELAY_MS} ms doubling per attempt, capped at ${RECONNECT_MAX_DELAY_MS / 1000} s`);
    expect(defaultValues('machines/connection.ts').connectTimeout).toBe(String(CONNECT_TIMEOUT_MS));
  });

  it('room-client.ts writes no default of its own for what the machines default', () => {
    const source = readFileSync(join(ROOT, 'src/client/room-client.ts'), 'utf8');
    expect(source).not.toMatch(/\?\? (HANDSHAKE|ENABLE|CONNECT)_TIMEOUT_MS|reconnectTimeout \?\? null/);
  });
});

describe('server option defaults', () => {
  afterEach(killAllClis);

  it('RoomServerOptions documents SERVER_DEFAULTS', () => {
    const documented = defaultValues('src/server/options.ts');
    expect(documented.host).toBe(`'${SERVER_DEFAULTS.host}'`);
    expect(documented.port).toBe(String(SERVER_DEFAULTS.port));
    expect(documented.heartbeatIntervalMs).toBe(String(SERVER_DEFAULTS.heartbeatIntervalMs));
    expect(documented.closeTimeoutMs).toBe(String(SERVER_DEFAULTS.closeTimeoutMs));
    expect(defaultValues('src/server/room-server.ts').timeoutMs).toBe(String(SERVER_DEFAULTS.shutdownTimeoutMs));
  });

  it('roomstate serve --help shows them, and every limit default, from the sources', async () => {
    const exit = await runCli(['serve', '--help']);
    expectExitCode(exit, 0);
    const help = exit.stdout.replace(/\s+/g, ' ');
    expect(help).toContain(`--host <host> interface to listen on (default: "${SERVER_DEFAULTS.host}"`);
    expect(help).toMatch(new RegExp(`--port <port> [^-]*\\(default: ${SERVER_DEFAULTS.port}\\b`));
    expect(help).toContain(`(default: ${SERVER_DEFAULTS.heartbeatIntervalMs / 1000}s)`);
    expect(help).toContain(`(default: ${SERVER_DEFAULTS.shutdownTimeoutMs / 1000}s)`);
    for (const [name, flag] of LIMIT_FLAGS) expect(help).toMatch(new RegExp(`${flag} <n> [^(]*\\(default: ${DEFAULT_LIMITS[name]}\\)`));
  });
});
