/**
 * A TCP proxy on 127.0.0.1 for reconnect tests: it forwards to a target port
 * and lets a test cut the network without touching the server. `drop()`
 * destroys every forwarded connection; while `paused`, new connections are
 * refused (destroyed at once); `holdReplies()` stops forwarding
 * server-to-client bytes, so requests reach the server but their answers
 * never arrive.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** The proxy's port. */
  readonly port: number;
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** Connections forwarded so far. */
  readonly accepted: number;
  /** Calls of {@link drop} so far. */
  readonly drops: number;
  /** Forwards new connections to `port` from now on (another node of a cluster). */
  retarget(port: number): void;
  /** Refuse new connections until {@link resume}. */
  pause(): void;
  /** Accept (and forward) new connections again. */
  resume(): void;
  /** Stop forwarding server-to-client bytes on current connections. */
  holdReplies(): void;
  /** Destroys every forwarded connection, both ends. */
  drop(): void;
  /** Drops everything and stops listening. */
  close(): Promise<void>;
}

/** Starts a proxy to `127.0.0.1:<targetPort>`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let paused = false;
  let holding = false;
  let accepted = 0;
  let drops = 0;
  let target = targetPort;
  const server: Server = createServer((client) => {
    if (paused) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = connect(target, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!holding) client.write(chunk);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const drop = (): void => {
    drops++;
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    holding = false;
  };
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get drops() {
      return drops;
    },
    retarget: (port) => {
      target = port;
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    holdReplies: () => {
      holding = true;
    },
    drop,
    close: async () => {
      drop();
      drops--;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
