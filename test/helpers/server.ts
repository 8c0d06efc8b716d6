/**
 * The room server fixture for tests: a real server on 127.0.0.1 with an
 * ephemeral port, a token minter for its secret, and raw clients that are
 * terminated when the fixture closes. {@link useServers} (a server per test)
 * and {@link useServer} (one per file or describe, or one per test) register the vitest
 * hooks that close everything, so a test file writes no cleanup of its own.
 *
 * @example
 * ```ts
 * const servers = useServers();
 * it('joins', async () => {
 *   const fx = await servers.start({ limits: { maxRooms: 1 } });
 *   const alice = await fx.connect('room1', 'alice');
 *   expect(alice.connected.type).toBe('init');
 * });
 * ```
 *
 * @example
 * ```ts
 * const fx = useServer({ logger: false });
 * it('joins', async () => {
 *   const alice = await fx.enabled(uniqueRoom(), 'alice'); // terminated after this test
 * });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
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
  connect(room: string, name: string, options?: ConnectOptions): Promise<RawClient>;
  /** Connects a raw client as {@link TestServer.connect} does and enables messaging (its snapshot received). */
  enabled(room: string, name: string, options?: ConnectOptions): Promise<RawClient>;
  /** Runs `cleanup` at the next {@link TestServer.reset} or close, before the clients are terminated (newest first). */
  defer(cleanup: () => unknown): void;
  /** Runs the deferred cleanups and terminates the clients connected since the last {@link TestServer.keep}; the server stays up. */
  reset(): Promise<void>;
  /** Lets the clients connected and cleanups deferred so far live until close (a `beforeAll`'s, say): reset leaves them. */
  keep(): void;
  /** Resets, then closes the server (once: a second call waits for the first). */
  close(): Promise<void>;
}

/** Options of {@link TestServer.connect}: the raw client's, and the token's claims. */
export type ConnectOptions = ConnectRawOptions & { token?: Partial<Omit<MintTokenOptions, 'room' | 'name'>> };

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
  const cleanups: (() => unknown)[] = [];
  let closing: Promise<void> | undefined;
  const token: TestServer['token'] = (room, name, tokenOptions = {}) => mintToken({ secret, room, name, ...tokenOptions });
  const connect: TestServer['connect'] = async (room, name, connectOptions = {}) => {
    const client = await connectRaw(address.url, room, await token(room, name, connectOptions.token), connectOptions);
    clients.add(client);
    return client;
  };
  const kept = { clients: [] as RawClient[], cleanups: [] as (() => unknown)[] };
  const end = async (ending: { clients: RawClient[]; cleanups: (() => unknown)[] }): Promise<void> => {
    for (const cleanup of ending.cleanups.reverse()) await cleanup();
    await Promise.all(ending.clients.map((client) => client.terminate()));
  };
  const reset = (): Promise<void> => {
    const ending = { clients: [...clients], cleanups: cleanups.splice(0) };
    clients.clear();
    return end(ending);
  };
  return {
    server,
    url: address.url,
    httpUrl: `http://127.0.0.1:${address.port}`,
    port: address.port,
    secret,
    token,
    connect,
    async enabled(room, name, connectOptions) {
      const client = await connect(room, name, connectOptions);
      await client.invoke('enable', {});
      await client.waitForPush('messaging.enabled');
      return client;
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
    reset,
    keep() {
      kept.clients.push(...clients);
      kept.cleanups.push(...cleanups.splice(0));
      clients.clear();
    },
    close() {
      closing ??= reset()
        .then(() => end(kept))
        .then(() => server.close({ timeoutMs: 1000 }));
      return closing;
    },
  };
}

/** What {@link useServers} gives a test file. */
export interface ServerFixture {
  /** Starts a server (these options over the fixture's) that closes after the current test. */
  start(options?: Partial<RoomServerOptions>): Promise<TestServer>;
  /** Runs `cleanup` after the current test, before its servers close (newest first). */
  defer(cleanup: () => unknown): void;
}

/**
 * A server per test: registers an `afterEach` in the calling file or
 * describe that runs the deferred cleanups, then closes every server the test
 * started (and so terminates their clients).
 */
export function useServers(defaults: Partial<RoomServerOptions> = {}): ServerFixture {
  const started: TestServer[] = [];
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all(started.splice(0).map((fx) => fx.close()));
  });
  return {
    async start(options = {}) {
      const fx = await startServer({ ...defaults, ...options });
      started.push(fx);
      return fx;
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
  };
}

/**
 * One server for the calling file or describe (`per: 'file'`, started in
 * `beforeAll`, closed in `afterAll`, {@link TestServer.reset} after each test
 * so a test's clients and deferred cleanups end with it, while those of the
 * file's `beforeAll` hooks live until the end), or a fresh one for
 * every test in it (`per: 'test'`). The returned object stands for the
 * current server; use it inside tests and hooks. `options` may be a function,
 * called at the start, for options a `beforeAll` makes (a certificate, say).
 */
export function useServer(options: Partial<RoomServerOptions> | (() => Partial<RoomServerOptions>) = {}, per: 'file' | 'test' = 'file'): TestServer {
  let fx: TestServer | undefined;
  const start = async (): Promise<void> => {
    fx = await startServer(typeof options === 'function' ? options() : options);
  };
  const stop = async (): Promise<void> => {
    await fx?.close();
    fx = undefined;
  };
  if (per === 'file') {
    beforeAll(start);
    // What the file's own beforeAll hooks connected lives as long as the file.
    beforeEach(() => fx?.keep());
    afterEach(() => fx?.reset());
    afterAll(stop);
  } else {
    beforeEach(start);
    afterEach(stop);
  }
  const current = (): TestServer => {
    if (fx === undefined) throw new Error('useServer: the server starts in a before hook; use it inside tests and hooks.');
    return fx;
  };
  return {
    get server() {
      return current().server;
    },
    get url() {
      return current().url;
    },
    get httpUrl() {
      return current().httpUrl;
    },
    get port() {
      return current().port;
    },
    get secret() {
      return current().secret;
    },
    token: (...args) => current().token(...args),
    connect: (...args) => current().connect(...args),
    enabled: (...args) => current().enabled(...args),
    defer: (cleanup) => current().defer(cleanup),
    reset: () => current().reset(),
    keep: () => current().keep(),
    close: () => current().close(),
  };
}
