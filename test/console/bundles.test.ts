/**
 * The browser paths of the console bundle with no Node built-ins: the
 * `roomstate/inspect` browser entry and the console page.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function browserInputs(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  return Object.keys(result.metafile.inputs);
}

describe('browser bundles', () => {
  it.each(['../../src/inspect/index.ts', '../../src/console/web/main.ts'])('%s has no Node built-ins, no ws and no server code', async (entry) => {
    const inputs = await browserInputs(entry);
    expect(inputs.filter((path) => path.startsWith('node:') || /node_modules\/ws\//.test(path))).toEqual([]);
    expect(inputs.filter((path) => /src\/(server|cli|auth)\//.test(path))).toEqual([]);
  });
});
