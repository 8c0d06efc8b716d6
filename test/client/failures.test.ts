/**
 * Failures a user can see, over real sockets: a closed port, refused
 * upgrades with the server's reason, a full room, and failed attempts while
 * reconnecting; `closeReason` and `closeReason$` say why the client closed.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { ConnectTimeoutError, RoomClosedError, type AttemptFailure } from '../../src/client/node.js';
import { uniqueRoom, useServers } from '../helpers/server.js';
import { ClientPool, record, useClientRoom } from './helpers/clients.js';

/** Servers of the tests' own, closed after each test. */
const servers = useServers();

const room$ = useClientRoom();

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('RoomClient: start() failures say why', () => {
  it('rejects with ConnectTimeoutError naming the refused connection after connectTimeout on a closed port', async () => {
    const { pool } = room$;
    const port = await closedPort();
    const client = await pool.client(uniqueRoom(), 'alice', { url: `ws://127.0.0.1:${port}`, connectTimeout: 1500 });
    const attempts = record(client.attemptFailed$);
    const states = record(client.connectionState$);
    const error = await rejection(client.start());
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error).toBeInstanceOf(RoomClosedError);
    const timeout = error as ConnectTimeoutError;
    expect(timeout.code).toBe('ROOM_ERR_TIMEOUT');
    expect(timeout.end).toMatchObject({ kind: 'connect_timeout', code: 1006, connectTimeout: 1500 });
    expect(timeout.end.error).toMatch(/^connection refused \(.*ECONNREFUSED/);
    expect(timeout.message).toMatch(/^could not connect to the room within 1\.5s \(last attempt: connection refused \(.*ECONNREFUSED.*\)\) before the room became ready\.$/);
    // Every attempt failed the same way, and was reported.
    expect(attempts.items.length).toBeGreaterThanOrEqual(1);
    expect(attempts.items[0]).toMatchObject({ attempt: 1, established: false, code: 1006 });
    expect(attempts.items.every((a: AttemptFailure) => a.error?.startsWith('connection refused'))).toBe(true);
    // Still "connecting" while retrying: it never connected.
    expect(states.items).toEqual(['idle', 'connecting', 'closed']);
    expect(client.closeReason).toEqual(timeout.end);
    expect(await firstValueFrom(client.closeReason$)).toEqual(timeout.end);
  });

  it.each<[string, { secret?: string; room?: string }]>([
    ['invalid signature', { secret: 'another-secret-0123456789abcdef0123' }],
    ['token is not for this room', { room: 'another-room' }],
  ])('rejects at once with the server\'s reason for a refused token: %s', async (reason, change) => {
    const { fx, pool } = room$;
    const room = uniqueRoom();
    const token = await (change.secret === undefined ? pool.token(change.room ?? room, 'alice') : new ClientPool({ url: fx.url, secret: change.secret }).token(room, 'alice'));
    const client = await pool.client(room, 'alice', { token });
    const error = (await rejection(client.start())) as RoomClosedError;
    expect(error).toBeInstanceOf(RoomClosedError);
    expect(error.code).toBe('ROOM_ERR_CLOSED');
    expect(error.end).toEqual({ kind: 'refused', code: 1006, reason, httpStatus: 403 });
    expect(error.message).toBe(`the server refused the websocket upgrade with HTTP 403: ${reason} before the room became ready.`);
    expect(client.closeReason).toEqual(error.end);
  });

  it('retries a full room (HTTP 503) and times out naming it', async () => {
    const full = await servers.start({ limits: { maxParticipantsPerRoom: 1 } });
    const pool = new ClientPool({ url: full.url, secret: full.secret });
    servers.defer(() => pool.close());
    const room = uniqueRoom();
    await pool.enabled(room, 'bob');
    const alice = await pool.client(room, 'alice', { connectTimeout: 1500 });
    const attempts = record(alice.attemptFailed$);
    const error = (await rejection(alice.start())) as ConnectTimeoutError;
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error.end).toMatchObject({ kind: 'connect_timeout', httpStatus: 503, reason: 'room is full' });
    expect(error.message).toContain('(last attempt: HTTP 503: room is full)');
    expect(attempts.items[0]).toMatchObject({ attempt: 1, httpStatus: 503, reason: 'room is full', established: false });
  });
});

describe('RoomClient: why it closed', () => {
  it('reports each failed attempt while reconnecting, then the close reason', async () => {
    const { fx, pool } = room$;
    const alice = await pool.client(uniqueRoom(), 'alice', { reconnectTimeout: 1500, retryDelay: () => 50 });
    await alice.start();
    const attempts = record(alice.attemptFailed$);
    const reasons = record(alice.closeReason$);
    await fx.server.close({ code: 1012, reason: 'restarting', timeoutMs: 1000 });
    await attempts.waitFor((a) => a.attempt === 2, { what: 'two failed reconnect attempts' });
    expect(attempts.items[0]).toMatchObject({ attempt: 1, established: true, code: 1006 });
    expect(attempts.items[0]!.error).toMatch(/^connection refused/);
    await alice.waitForClose();
    expect(alice.closeReason).toMatchObject({ kind: 'timeout', reconnectTimeout: 1500, code: 1006 });
    expect(reasons.items).toEqual([alice.closeReason]);
  });

  it('closeReason is the user close after close()', async () => {
    const { pool } = room$;
    const alice = await pool.client(uniqueRoom(), 'alice');
    await alice.start();
    expect(alice.closeReason).toBeUndefined();
    await alice.close();
    expect(alice.closeReason).toEqual({ kind: 'user', code: 1000, reason: '' });
  });
});
