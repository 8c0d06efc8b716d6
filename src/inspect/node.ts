/**
 * `roomstate/inspect` in Node: {@link consoleInspector} with its websocket
 * defaulting to the `ws` package (Node 20 has no global `WebSocket`).
 *
 * @packageDocumentation
 */
import { WebSocket } from 'ws';
import { consoleInspector as browserConsoleInspector, type ConsoleInspector, type ConsoleInspectorOptions, type InspectorSocketConstructor } from './console-inspector.js';

export { inspectUrl } from './console-inspector.js';
export type { ConsoleInspector, ConsoleInspectorOptions, InspectorSocket, InspectorSocketConstructor } from './console-inspector.js';

/**
 * Creates an inspector that reports to the console of the server at `url`,
 * over `ws` unless another `WebSocket` is given.
 *
 * @example
 * ```ts
 * const inspect = consoleInspector({ url: 'ws://127.0.0.1:8080', token: adminToken, name: 'worker' });
 * const room = new RoomClient({ url: 'ws://127.0.0.1:8080', room: 'lobby', token, inspect });
 * ```
 */
export function consoleInspector(options: ConsoleInspectorOptions): ConsoleInspector {
  return browserConsoleInspector({ WebSocket: WebSocket as unknown as InspectorSocketConstructor, ...options });
}
