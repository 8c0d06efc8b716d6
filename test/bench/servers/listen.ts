/**
 * Listening helpers shared by the benchmark's comparison servers: an HTTP
 * server on loopback, an ephemeral port, a deep accept backlog (1000
 * clients connect at once in the presence scenarios).
 */
import type { Server } from 'node:http';
import type { WebSocketServer } from 'ws';

/** A comparison server the bench starts and stops. */
export interface BenchServer {
  listen(): Promise<{ url: string }>;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0 and resolves with the websocket base URL. */
export function listenOnLoopback(http: Server): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
      const address = http.address();
      if (address === null || typeof address === 'string') return reject(new Error('server has no TCP address'));
      resolve({ url: `ws://127.0.0.1:${address.port}` });
    });
  });
}

/** Listens as {@link listenOnLoopback}; closing terminates every client of `wss`, then closes it and `http`. */
export function wsBenchServer(http: Server, wss: WebSocketServer): BenchServer {
  return {
    listen: () => listenOnLoopback(http),
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => http.close(() => resolve()));
      }),
  };
}
