/**
 * The two ways the interop suites run the server: in-process through
 * `createRoomServer`, and as `roomstate serve` started from the CLI.
 */
import { createRoomServer } from '../../src/server/index.js';
import { spawnCliServer } from '../helpers/spawned-server.js';

/** A started server under test. */
export interface ServerUnderTest {
  /** Base URL, e.g. `ws://127.0.0.1:43121`; rooms are at `/rooms/:room`. */
  readonly url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** One way of starting a server. */
export interface ServerKind {
  readonly kind: string;
  start(secret: string): Promise<ServerUnderTest>;
}

/** In-process and CLI child-process servers, for `describe.each`. */
export const SERVER_KINDS: readonly ServerKind[] = [
  {
    kind: 'in-process createRoomServer',
    async start(secret) {
      const server = createRoomServer({ secret, host: '127.0.0.1', port: 0 });
      const { url } = await server.listen();
      return { url, close: () => server.close() };
    },
  },
  {
    kind: 'roomstate serve (CLI child process)',
    async start(secret) {
      const server = await spawnCliServer({ secret });
      return { url: server.url, close: () => server.close() };
    },
  },
];
