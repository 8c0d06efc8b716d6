/**
 * A throwaway project that uses roomstate the way another project would: a
 * temp dir whose `node_modules/roomstate` is the package (this clone, or a
 * `npm pack` tarball unpacked), with the package's dependencies and
 * `@types/node` linked from this clone's `node_modules`. Used by the README
 * example's test and the strict-consumer check.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** This clone's root directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The compiler options of a consumer that checks everything (`strict`, `skipLibCheck: false`). */
export const STRICT_CONSUMER_OPTIONS = {
  target: 'ES2022',
  lib: ['ES2022'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  types: ['node'],
} as const;

/** What {@link createConsumerProject} makes. */
export interface ConsumerProjectOptions {
  /** The directory `node_modules/roomstate` points at (default: this clone). */
  packageDir?: string;
  /** Files to write, by path relative to the project. */
  files: Record<string, string>;
  /** `compilerOptions` of its tsconfig.json (default {@link STRICT_CONSUMER_OPTIONS}). */
  compilerOptions?: Record<string, unknown>;
}

/** A consumer project on disk. */
export interface ConsumerProject {
  /** Its directory. */
  dir: string;
  /** Runs `tsc -p .` in it; resolves with tsc's output and exit code. */
  typecheck(): Promise<{ code: number; output: string }>;
  /** Runs one of its TypeScript files with tsx; resolves with stdout and stderr (rejects on a non-zero exit). */
  runTs(file: string, timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** Removes the directory. */
  dispose(): Promise<void>;
}

/** Links `node_modules/<name>` in `dir` to this clone's copy of the package `name`. */
async function linkFromRoot(dir: string, name: string): Promise<void> {
  const target = join(dir, 'node_modules', name);
  await mkdir(dirname(target), { recursive: true });
  await symlink(join(ROOT, 'node_modules', name), target, 'dir');
}

/**
 * Writes a consumer project into a new temp dir. Only the package's own
 * `dependencies` and `@types/node` are visible to it, as after
 * `npm install roomstate @types/node`, so a public type that needs anything
 * else fails to check.
 */
export async function createConsumerProject(options: ConsumerProjectOptions): Promise<ConsumerProject> {
  const packageDir = options.packageDir ?? ROOT;
  const dir = await mkdtemp(join(tmpdir(), 'roomstate-consumer-'));
  const pkg = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await symlink(packageDir, join(dir, 'node_modules', 'roomstate'), 'dir');
  for (const name of [...Object.keys(pkg.dependencies ?? {}), '@types/node']) await linkFromRoot(dir, name);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  const compilerOptions = options.compilerOptions ?? STRICT_CONSUMER_OPTIONS;
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }, null, 2));
  for (const [path, text] of Object.entries(options.files)) await writeFile(join(dir, path), text);
  return {
    dir,
    async typecheck() {
      try {
        const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: dir });
        return { code: 0, output: stdout + stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
      }
    },
    runTs(file, timeoutMs = 60_000) {
      // What `npx tsx file` runs, from this clone (the consumer has no tsx of its own).
      return run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), file], { cwd: dir, timeout: timeoutMs });
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
