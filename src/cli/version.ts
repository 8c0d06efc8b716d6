/**
 * The CLI's version, read from package.json at run time (works from `src/`
 * under tsx and from `dist/src/` once built).
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (json.name === 'roomstate' && json.version) return json.version;
    } catch {
      // Try the next location.
    }
  }
  return '0.0.0';
}

/** The roomstate package version. */
export const CLI_VERSION: string = readVersion();
