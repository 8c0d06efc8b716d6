/**
 * roomstate/agents bundles for the browser like roomstate/client: no Node
 * built-ins, no ws, no server code.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserBundle, nodeOnlyInputs, serverInputs } from '../helpers/browser-bundle.js';

const entry = fileURLToPath(new URL('../../src/agents/index.ts', import.meta.url));

describe('browser entry (src/agents/index.ts)', () => {
  it('bundles with esbuild for the browser with no Node built-ins, no ws and no server code', async () => {
    const result = await browserBundle(entry);
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('src/agents/serve-agent.ts'))).toBe(true);
    expect(inputs.some((path) => path.includes('machines/agent-turn.ts'))).toBe(true);
    expect(nodeOnlyInputs(inputs)).toEqual([]);
    expect(serverInputs(inputs)).toEqual([]);
  });
});
