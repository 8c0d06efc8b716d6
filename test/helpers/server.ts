/**
 * A room server fixture for tests: a real server on 127.0.0.1 with an
 * ephemeral port, a token minter for its secret, and raw clients that are
 * terminated when the fixture closes.
 *
 * @example
 * ```ts
 * let fx: TestServer;
 * beforeEach(async () => { fx = await startServer(); });
 * afterEach(() => fx.close());
 * it('joins', async () => {
 *   const alice = await fx.connect('room1', 'alice');
 *   expect(alice.connected.type).toBe('init');
 * });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { mintToken, type MintTokenOptions } from '../../src/auth/token.js';
import { createRoomServer, type RoomServer, type RoomServerOptions } from '../../src/server/index.js';
import { connectRaw, type ConnectRawOptions, type RawClient } from './raw-client.js';

/** The secret test servers use unless told otherwise. */
export const TEST_SECRET = 'roomstate-test-secret-0123456789abcdef';

/** A running test server. */
export interface TestServer {
  /** The server itself. */
  readonly server: RoomServer;
  /** Base URL, `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** HTTP base URL, `http://127.0.0.1:<port>`. */
  readonly httpUrl: string;
  /** The port. */
  readonly port: number;
  /** The HS256 secret. */
  readonly secret: string;
  /** Mints a token for this server's secret. */
  token(room: string, name: string, options?: Partial<Omit<MintTokenOptions, 'room' | 'name'>>): Promise<string>;
  /** Mints a token and connects a raw client (waiting for room_ready + connected). */
  connect(room: string, name: string, options?: ConnectRawOptions & { token?: Partial<Omit<MintTokenOptions, 'room' | 'name'>> }): Promise<RawClient>;
  /** Terminates every client this fixture connected, then closes the server. */
  close(): Promise<void>;
}

/** A unique room name for one test. */
export function uniqueRoom(prefix = 'room'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Starts a room server on 127.0.0.1:0 (options override the defaults). */
export async function startServer(options: Partial<RoomServerOptions> = {}): Promise<TestServer> {
  const secret = options.secret ?? TEST_SECRET;
  const server = createRoomServer({ host: '127.0.0.1', port: 0, ...options, secret });
  const address = await server.listen();
  const clients = new Set<RawClient>();
  const token: TestServer['token'] = (room, name, tokenOptions = {}) => mintToken({ secret, room, name, ...tokenOptions });
  return {
    server,
    url: address.url,
    httpUrl: `http://127.0.0.1:${address.port}`,
    port: address.port,
    secret,
    token,
    async connect(room, name, connectOptions = {}) {
      const client = await connectRaw(address.url, room, await token(room, name, connectOptions.token), connectOptions);
      clients.add(client);
      return client;
    },
    async close() {
      await Promise.all([...clients].map((client) => client.terminate()));
      await server.close({ timeoutMs: 1000 });
    },
  };
}
