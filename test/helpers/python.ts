/**
 * The official MeshAgent Python packages for the interop tests: a Python 3.13
 * venv with the versions pinned in test/python/requirements.txt, made by
 * `npm run setup:python` (test/python/setup.sh; `.ci/run` runs it) and cached
 * outside the clone. Outside CI a machine without it skips those tests with a
 * message saying how to get it; under CI=true a missing venv fails them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './spawned-server.js';

/** The pinned requirements file. */
export const PYTHON_REQUIREMENTS = join(REPO_ROOT, 'test/python/requirements.txt');

/** The venv that setup.sh makes for the current requirements (same rule as the script). */
export function pythonVenvPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ROOMSTATE_PYTHON_VENV) return env.ROOMSTATE_PYTHON_VENV;
  const hash = createHash('sha256').update(readFileSync(PYTHON_REQUIREMENTS)).digest('hex').slice(0, 12);
  return join(homedir(), '.cache', 'roomstate', `python-${hash}`);
}

/** A ready venv: its interpreter and its `bin/` folder (the `meshagent` CLI lives there). */
export interface PythonVenv {
  readonly path: string;
  readonly python: string;
  readonly bin: string;
}

/**
 * The venv if it is ready. Under CI a missing venv is an error, not a skip;
 * outside CI it is `undefined` and a warning says how to make it.
 */
export function pythonAvailability(venv = pythonVenvPath(), ci = process.env.CI): { run: true; venv: PythonVenv } | { run: false; why: string } {
  const python = join(venv, 'bin', 'python');
  if (existsSync(python) && existsSync(join(venv, '.complete'))) return { run: true, venv: { path: venv, python, bin: join(venv, 'bin') } };
  const why = `${venv} has no complete venv: run "npm run setup:python" (needs Python 3.13, e.g. from pyenv, and PyPI; .ci/run does it).`;
  if (ci === 'true') throw new Error(`CI=true but the Python interop tests cannot run: ${why}`);
  console.warn(`skipping the Python interop tests: ${why}`);
  return { run: false, why };
}
