/**
 * Bundles an entry point with esbuild for the browser, in memory, and names
 * the inputs that would betray a Node-only dependency.
 */
import { build, type BuildResult } from 'esbuild';

/** The in-memory browser bundle of `entry` (an absolute path), with its metafile and output. */
export function browserBundle(entry: string): Promise<BuildResult<{ write: false; metafile: true }>> {
  return build({ entryPoints: [entry], bundle: true, write: false, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent' });
}

/** The bundle's inputs that are Node built-ins or `ws`. */
export function nodeOnlyInputs(inputs: readonly string[]): string[] {
  return inputs.filter((path) => path.startsWith('node:') || /node_modules\/ws\//.test(path));
}

/** The bundle's inputs from server-only code (server, CLI, token signing). */
export function serverInputs(inputs: readonly string[]): string[] {
  return inputs.filter((path) => /src\/(server|cli|auth)\//.test(path));
}
