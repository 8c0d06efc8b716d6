/**
 * The browser entry point bundles for the browser: nothing from Node, no `ws`.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { browserBundle, nodeOnlyInputs, serverInputs } from '../helpers/browser-bundle.js';
import { RoomClient as BrowserRoomClient } from '../../src/client/index.js';
import { RoomClient as NodeRoomClient } from '../../src/client/node.js';
import { ValidationError } from '../../src/errors.js';

const entry = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));

describe('browser entry (src/client/index.ts)', () => {
  it('bundles with esbuild for the browser with no Node built-ins and no ws', async () => {
    const result = await browserBundle(entry);
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('src/client/room-client.ts'))).toBe(true);
    expect(nodeOnlyInputs(inputs)).toEqual([]);
    expect(serverInputs(inputs)).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/^\s*(import|export)\b[^;]*\bfrom\s*["'](node:[^"']*|ws)["']/m);
    expect(code).not.toMatch(/\b(require|import)\(\s*["'](node:[^"']*|ws)["']\s*\)/);
    expect(code).toContain('globalThis');
  });

  it('fails the same bundle when a Node built-in sneaks in (the check can fail)', async () => {
    const error = await build({
      stdin: { contents: `import '${entry.replace(/\\/g, '/')}'; import { createHash } from 'node:crypto'; export { createHash };`, resolveDir: process.cwd() },
      bundle: true,
      write: false,
      platform: 'browser',
      logLevel: 'silent',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/node:crypto/);
  });

  it('requires a WebSocket constructor where there is no global one; the Node entry defaults to ws', () => {
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined(); // Node 20
    expect(() => new BrowserRoomClient({ url: 'ws://127.0.0.1:1', room: 'r', token: 't' })).toThrow(ValidationError);
    expect(() => new NodeRoomClient({ url: 'ws://127.0.0.1:1', room: 'r', token: 't' })).not.toThrow();
  });
});
