/**
 * The browser paths of the console bundle with no Node built-ins: the
 * `roomstate/inspect` browser entry and the console page.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserBundle, nodeOnlyInputs, serverInputs } from '../helpers/browser-bundle.js';

async function browserInputs(entry: string): Promise<string[]> {
  const result = await browserBundle(fileURLToPath(new URL(entry, import.meta.url)));
  expect(result.errors).toEqual([]);
  return Object.keys(result.metafile.inputs);
}

describe('browser bundles', () => {
  it.each(['../../src/inspect/index.ts', '../../src/console/web/main.ts'])('%s has no Node built-ins, no ws and no server code', async (entry) => {
    const inputs = await browserInputs(entry);
    expect(nodeOnlyInputs(inputs)).toEqual([]);
    expect(serverInputs(inputs)).toEqual([]);
  });
});
