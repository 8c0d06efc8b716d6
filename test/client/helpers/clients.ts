/**
 * Fixtures for client tests: room clients that are closed after each test,
 * and recorders fed by observables, so a test waits on events with a
 * deadline and misses none.
 */
import type { Observable, Subscription } from 'rxjs';
import { afterEach, beforeEach } from 'vitest';
import type { RoomServerOptions } from '../../../src/server/index.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { mintToken, type MintTokenOptions } from '../../../src/auth/token.js';
import { RoomClient, type RoomClientOptions } from '../../../src/client/node.js';
import { Recorder } from '../../helpers/recorder.js';

/** A recorder subscribed to an observable; `stop()` unsubscribes. */
export interface Recording<T> extends Recorder<T> {
  readonly subscription: Subscription;
}

/** Records every value of `source` from now on (replayed values included). */
export function record<T>(source: Observable<T>): Recorder<T> & { subscription: Subscription } {
  const recorder = new Recorder<T>() as Recorder<T> & { subscription: Subscription };
  (recorder as { subscription: Subscription }).subscription = source.subscribe({
    next: (value) => recorder.push(value),
    error: (error: unknown) => recorder.close(error instanceof Error ? error : new Error(String(error))),
  });
  return recorder;
}

/** Creates room clients for one test and closes them all afterwards. */
export class ClientPool {
  private readonly clients = new Set<RoomClient>();

  constructor(
    private readonly defaults: { url: string; secret: string },
  ) {}

  /** A token for `name` in `room`. */
  token(room: string, name: string, options: Partial<Omit<MintTokenOptions, 'room' | 'name' | 'secret'>> = {}): Promise<string> {
    return mintToken({ secret: this.defaults.secret, room, name, ...options });
  }

  /** A new (not yet started) client; options override the defaults. */
  async client(room: string, name: string, options: Partial<RoomClientOptions> & { tokenOptions?: Partial<MintTokenOptions> } = {}): Promise<RoomClient> {
    const { tokenOptions, ...rest } = options;
    const token = rest.token ?? (await this.token(room, name, tokenOptions));
    const client = new RoomClient({ url: this.defaults.url, room, token, logger: { warn: () => undefined }, ...rest });
    this.clients.add(client);
    return client;
  }

  /** A started client with messaging enabled. */
  async enabled(room: string, name: string, options: Partial<RoomClientOptions> = {}): Promise<RoomClient> {
    const client = await this.client(room, name, options);
    await client.start();
    await client.messaging.enable();
    return client;
  }

  /** Closes every client. */
  async close(): Promise<void> {
    await Promise.all([...this.clients].map((client) => client.close()));
    this.clients.clear();
  }
}

/**
 * A real server and a client pool for every test of the calling file: started
 * before each test, every client then the server closed after it. Read the
 * fields inside tests (they change per test).
 */
export function useClientRoom(options: Partial<RoomServerOptions> = {}): { readonly fx: TestServer; readonly pool: ClientPool } {
  const current = {} as { fx: TestServer; pool: ClientPool };
  beforeEach(async () => {
    current.fx = await startServer(options);
    current.pool = new ClientPool({ url: current.fx.url, secret: current.fx.secret });
  });
  afterEach(async () => {
    await current.pool.close();
    await current.fx.close();
  });
  return current;
}
