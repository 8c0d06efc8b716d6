/**
 * The shared fixture of the CLI process tests: one in-process server per
 * file, raw participants that enable messaging, and the connection options a
 * CLI run needs. Registers its own vitest hooks; call it at the top of a file.
 */
import { afterEach } from 'vitest';
import { killAllClis } from './cli.js';
import type { RawClient } from './raw-client.js';
import { useServer, type TestServer } from './server.js';
import type { RoomServerOptions } from '../../src/server/index.js';

/** What {@link useCliRoom} gives a test file. */
export interface CliRoom {
  /** The server of this file (see {@link useServer}). */
  readonly fx: TestServer;
  /** Connects a raw participant (terminated after the test). */
  connect(room: string, name: string, options?: Parameters<TestServer['connect']>[2]): Promise<RawClient>;
  /** Connects a raw participant named `name` to `room` and enables messaging. */
  enabled(room: string, name: string, options?: Parameters<TestServer['connect']>[2]): Promise<RawClient>;
  /** CLI connection options for `room`: this server's URL, a token minted for `name`. */
  conn(room: string, name?: string): string[];
}

/** Starts a server for the file (options override the defaults); kills CLIs and raw clients after each test. */
export function useCliRoom(options: Partial<RoomServerOptions> = {}): CliRoom {
  const fx = useServer(options);
  afterEach(killAllClis);
  return {
    fx,
    connect: (room, name, options) => fx.connect(room, name, options),
    enabled: (room, name, options) => fx.enabled(room, name, options),
    conn(room, name = 'cli') {
      return ['--url', fx.url, '--room', room, '--secret', fx.secret, '--name', name];
    },
  };
}
