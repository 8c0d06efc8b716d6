/**
 * A resume that landed on another cluster node than the session's
 * (docs/cluster.md#resuming-on-another-node): this node opens a websocket to
 * the session's node with the client's own path, query and token, and only
 * once that one is open accepts the client's upgrade and pipes the two
 * sockets together, message for message, with the session node's pings
 * passed through to the client (so its heartbeat still measures the
 * client) and closes mirrored (a drop stays a drop: the session detaches
 * again). The session, its numbering and its held messages stay on their
 * node; this one only carries bytes.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, type WebSocketServer } from 'ws';
import { CloseCode, isLeaveClose, isSendableCloseCode } from '../protocol/close-codes.js';

/**
 * How long the session's node may take to accept a forwarded resume. Generous: giving up makes
 * the client a new participant while its session waits on the other node for its window.
 */
export const FORWARD_TIMEOUT_MS = 10_000;

/** Marks a forwarded resume: the node it reaches never forwards it again (no loops, whatever Redis says). */
export const FORWARDED_HEADER = 'roomstate-forwarded';

/** What {@link forwardResume} needs. */
export interface ResumeForward {
  /** The session node's advertised websocket base URL. */
  readonly nodeUrl: string;
  readonly request: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** The client's verified token, sent on as a Bearer header. */
  readonly token: string;
  readonly wss: WebSocketServer;
  readonly logger: Logger;
  /** Told of the client's socket once piped (for shutdown). */
  readonly piped: (client: WebSocket) => void;
}

/** Ends `ws` the way its peer ended: the same close, or a drop for a drop. */
function endLike(ws: WebSocket, code: number, reason: Buffer): void {
  if (ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) return;
  if (ws.readyState === WebSocket.OPEN && isSendableCloseCode(code)) ws.close(code, reason);
  else ws.terminate();
}

/**
 * Forwards the client's resume to the session's node. Resolves true once
 * the client's socket is piped there (or the client went away meanwhile),
 * false when that node could not be reached: the caller then joins the
 * client anew.
 */
export function forwardResume(forward: ResumeForward): Promise<boolean> {
  const { request, socket, head, logger } = forward;
  return new Promise<boolean>((resolve) => {
    const target = `${forward.nodeUrl.replace(/\/+$/, '')}${request.url ?? '/'}`;
    const upstream = new WebSocket(target, {
      headers: { authorization: `Bearer ${forward.token}`, [FORWARDED_HEADER]: '1' },
      perMessageDeflate: false,
      // Its pings go to the client, whose pongs come back: the session node times the client.
      autoPong: false,
      handshakeTimeout: FORWARD_TIMEOUT_MS,
    });
    let settled = false;
    const unreachable = (why: string): void => {
      if (settled) return;
      settled = true;
      logger.info({ node: forward.nodeUrl, why }, 'could not forward a resume to the session node; joining anew');
      upstream.terminate();
      resolve(false);
    };
    upstream.on('error', (error) => unreachable(error.message));
    upstream.once('unexpected-response', (upgrade, response) => {
      upgrade.destroy();
      unreachable(`HTTP ${response.statusCode}`);
    });
    upstream.once('open', () => {
      if (settled) return;
      settled = true;
      if (socket.destroyed) {
        upstream.close(CloseCode.Normal);
        resolve(true);
        return;
      }
      forward.wss.handleUpgrade(request, socket, head, (client) => {
        upstream.on('message', (data, isBinary) => client.send(data as Buffer, { binary: isBinary }));
        client.on('message', (data, isBinary) => upstream.send(data as Buffer, { binary: isBinary }));
        upstream.on('ping', (data) => client.ping(data));
        client.on('pong', (data) => upstream.pong(data));
        upstream.on('close', (code, reason) => endLike(client, code, reason));
        // The client's own leave (1000, 1001) goes on as such; anything else, this node's shutdown
        // included, is a drop for the session's node, which then waits for the next resume.
        client.on('close', (code, reason) => (isLeaveClose(code) ? endLike(upstream, code, reason) : upstream.terminate()));
        client.on('error', () => undefined);
        forward.piped(client);
        resolve(true);
      });
    });
  });
}
