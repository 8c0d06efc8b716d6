/**
 * The shared fixture of the CLI process tests: one in-process server per
 * file, raw participants that enable messaging, and the connection options a
 * CLI run needs. Registers its own vitest hooks; call it at the top of a file.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { killAllClis } from './cli.js';
import type { RawClient } from './raw-client.js';
import { startServer, type TestServer } from './server.js';

/** What {@link useCliRoom} gives a test file. */
export interface CliRoom {
  /** The server of this file (set in `beforeAll`). */
  readonly fx: TestServer;
  /** Connects a raw participant (terminated after the test). */
  connect(room: string, name: string, options?: Parameters<TestServer['connect']>[2]): Promise<RawClient>;
  /** Connects a raw participant named `name` to `room` and enables messaging. */
  enabled(room: string, name: string, options?: Parameters<TestServer['connect']>[2]): Promise<RawClient>;
  /** CLI connection options for `room`: this server's URL, a token minted for `name`. */
  conn(room: string, name?: string): string[];
}

/** Starts a server for the file; kills CLIs and raw clients after each test. */
export function useCliRoom(): CliRoom {
  let fx: TestServer | undefined;
  const clients: RawClient[] = [];
  beforeAll(async () => {
    fx = await startServer();
  });
  afterAll(async () => {
    await fx?.close();
  });
  afterEach(async () => {
    await killAllClis();
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
  });
  const server = (): TestServer => {
    if (fx === undefined) throw new Error('useCliRoom: the server starts in beforeAll; use it inside tests.');
    return fx;
  };
  const connect: CliRoom['connect'] = async (room, name, options) => {
    const client = await server().connect(room, name, options);
    clients.push(client);
    return client;
  };
  return {
    get fx() {
      return server();
    },
    connect,
    async enabled(room, name, options) {
      const client = await connect(room, name, options);
      await client.invoke('enable', {});
      await client.waitForPush('messaging.enabled');
      return client;
    },
    conn(room, name = 'cli') {
      const { url, secret } = server();
      return ['--url', url, '--room', room, '--secret', secret, '--name', name];
    },
  };
}
