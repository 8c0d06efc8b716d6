/**
 * Vitest global setup: makes `dist/` current before any test runs, because
 * CLI and package tests spawn the compiled bin (plain `node` starts it about
 * three times faster than `node --import tsx` on the sources, which is most
 * of the CLI suite's time on a loaded machine). Builds only when a source is
 * newer than the newest compiled file, so `npm test` right after
 * `npm run build` (or `npm ci`, whose `prepare` builds) pays nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = ['src', 'machines', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time under `path` (a file or a directory), 0 when absent. */
function newest(path: string, filter: (name: string) => boolean = () => true): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return filter(path) ? stat.mtimeMs : 0;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry), filter));
  return latest;
}

/** Whether `dist/` is missing or older than a source. */
export function distIsStale(): boolean {
  const built = newest(join(ROOT, 'dist'), (name) => name.endsWith('.js'));
  return built === 0 || SOURCES.some((source) => newest(join(ROOT, source)) > built);
}

/** Vitest global setup entry point. */
export default function setup(): void {
  if (!distIsStale()) return;
  // The package's own build script: the compiled sources and the console page bundle.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}
