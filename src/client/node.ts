/**
 * The room client for Node: everything from the browser-safe entry, with
 * {@link RoomClient} defaulting its websocket constructor to the `ws`
 * package (Node 20 has no global `WebSocket`).
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
import { WebSocket as NodeWebSocket } from 'ws';
import { RoomClient as BrowserRoomClient, type RoomClientOptions } from './room-client.js';
import type { WebSocketConstructor } from './websocket.js';

export * from './index.js';

/** {@link BrowserRoomClient} with `WebSocket` defaulting to the `ws` package. */
export class RoomClient extends BrowserRoomClient {
  constructor(options: RoomClientOptions) {
    super({ ...options, WebSocket: options.WebSocket ?? (NodeWebSocket as unknown as WebSocketConstructor) });
  }
}
