/**
 * `roomstate/inspect` (browser-safe entry): {@link consoleInspector} sends a
 * roomstate client's actors to a room server's live console.
 *
 * @packageDocumentation
 */
export { consoleInspector, inspectUrl } from './console-inspector.js';
export type { ConsoleInspector, ConsoleInspectorOptions, InspectorSocket, InspectorSocketConstructor } from './console-inspector.js';
