/**
 * The room client for Node: everything from the browser-safe entry, with
 * {@link RoomClient} defaulting its websocket constructor to
 * {@link NodeWebSocket}, the `ws` package tuned for the protocol (Node 20
 * has no global `WebSocket`).
 *
 * @example
 * ```ts
 * import { RoomClient } from 'roomstate';
 * const room = new RoomClient({ url: 'ws://127.0.0.1:8080', room: 'myroom', token });
 * await room.start();
 * ```
 *
 * @packageDocumentation
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket as WsWebSocket } from 'ws';
import { RoomClient as BrowserRoomClient, type RoomClientOptions } from './room-client.js';
import type { UpgradeRefusal } from './socket-failure.js';
import type { WebSocketConstructor } from './websocket.js';
import { deliverArrayBuffersAsBuffers, tcpSocketOf, upgradeRefusedText } from '../ws-internals.js';
import { RoomStateError, RoomStateErrorCode } from '../errors.js';

export * from './index.js';

/** The most of a refused upgrade's body read for its reason. */
const MAX_REFUSAL_BODY_BYTES = 4096;

/** The server's reason for refusing: `error` of a JSON body, else the status line's text. */
function refusalReason(body: string, statusMessage: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string' && parsed.error !== '') return parsed.error;
  } catch {
    // Not JSON: the status line says it.
  }
  return statusMessage;
}

/**
 * The `ws` WebSocket as the client wants it in Node:
 * - every frame sent in one tick leaves in one socket write: the first send
 *   of a tick corks the TCP socket and a `process.nextTick` uncorks it (a
 *   message is 1 + ceil(bytes / 1024) frames, so a 64 KiB attachment would
 *   otherwise cost ~90 write syscalls);
 * - binary messages arrive as `Buffer`s (Uint8Array views, no copy) even
 *   when `binaryType` is set to `'arraybuffer'`, which would copy each frame
 *   into a fresh ArrayBuffer;
 * - no permessage-deflate offer (the protocol's frames are small and mostly
 *   incompressible; the room server does not enable it by default either);
 * - a refused upgrade reports the server's reason: the error event's `error`
 *   carries `statusCode` and `statusReason` (the JSON body's `error`, else
 *   the status line's text), see {@link UpgradeRefusal}.
 */
class NodeWebSocket extends WsWebSocket {
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.tcp()?.uncork();
  };

  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: false });
    this.once('unexpected-response', (request: ClientRequest, response: IncomingMessage) => this.refused(request, response));
  }

  /** Reads the refusal's reason from its body (the server sends `{"error": reason}`), then fails the socket with it. */
  private refused(request: ClientRequest, response: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      response.destroy();
      const refusal = Object.assign(new RoomStateError(RoomStateErrorCode.Server, upgradeRefusedText(response.statusCode ?? 0)), {
        statusCode: response.statusCode ?? 0,
        statusReason: refusalReason(Buffer.concat(chunks).toString('utf8'), response.statusMessage ?? ''),
      } satisfies UpgradeRefusal);
      // Still connecting unless close() was called meanwhile (which has already failed the socket).
      if (this.readyState !== WsWebSocket.CONNECTING) return;
      this.emit('error', refusal);
      this.terminate();
    };
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_REFUSAL_BODY_BYTES) finish();
    });
    response.once('end', finish);
    response.once('error', finish);
    response.once('close', finish);
    request.once('error', finish);
  }

  // ws keeps its net.Socket private; corking it is the only way to batch frames (src/server/ws-binding.ts does the same).
  private tcp(): Socket | undefined {
    return tcpSocketOf(this);
  }

  override send(data: Parameters<WsWebSocket['send']>[0], ...rest: unknown[]): void {
    if (!this.corked) {
      const socket = this.tcp();
      if (socket !== undefined) {
        this.corked = true;
        socket.cork();
        process.nextTick(this.uncork);
      }
    }
    (super.send as (data: unknown, ...rest: unknown[]) => void)(data, ...rest);
  }
}

// ws defines `binaryType` on its prototype (a field to TypeScript), so it is wrapped there rather than overridden in the class.
deliverArrayBuffersAsBuffers(NodeWebSocket, WsWebSocket);

/** {@link BrowserRoomClient} with `WebSocket` defaulting to {@link NodeWebSocket}. */
export class RoomClient extends BrowserRoomClient {
  constructor(options: RoomClientOptions = {}) {
    super({ ...options, WebSocket: options.WebSocket ?? (NodeWebSocket as unknown as WebSocketConstructor) });
  }
}
