/**
 * The server's own net.Socket of a test client's connection, for tests that
 * wait on what the server's kernel has taken of a connection's output
 * (src/server/drain-progress.ts). It watches `WsConnection.prototype.send`
 * (every message the server writes goes through it) without changing it, and
 * matches a client by its local port.
 */
import type { Socket } from 'node:net';
import { vi } from 'vitest';
import { WsConnection } from '../../src/server/ws-binding.js';
import { requireTcpSocket } from '../../src/ws-internals.js';
import type { RawClient } from './raw-client.js';

/** Server-side sockets of the connections that have been sent something since {@link watchServerSockets}. */
export interface ServerSockets {
  /** The server's socket of `client`'s connection; throws when the server has sent it nothing yet. */
  of(client: RawClient): Socket;
  /** Stops watching. */
  restore(): void;
}

/** Starts watching the server's connections (call before the clients connect; {@link ServerSockets.restore} after the test). */
export function watchServerSockets(): ServerSockets {
  const seen = new Set<WsConnection>();
  const send = WsConnection.prototype.send;
  const spy = vi.spyOn(WsConnection.prototype, 'send').mockImplementation(function (this: WsConnection, message) {
    seen.add(this);
    send.call(this, message);
  });
  return {
    of(client) {
      const port = client.socket.localPort;
      for (const connection of seen) {
        const socket = requireTcpSocket(connection.ws);
        if (socket.remotePort === port) return socket;
      }
      throw new Error(`the server has sent nothing to the client on port ${String(port)}`);
    },
    restore: () => spy.mockRestore(),
  };
}
