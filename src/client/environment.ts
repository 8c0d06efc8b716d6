/**
 * Connection settings from the environment, as the official client reads
 * them: roomstate's variables first, then MeshAgent's. Browser-safe: it
 * reads `globalThis.process?.env` only where there is one (Node), and
 * imports nothing.
 *
 * @packageDocumentation
 */

/** Server URL used when neither an option nor an environment variable gives one. */
export const DEFAULT_URL = 'ws://127.0.0.1:8080';

/** The environment variables read for each setting, in order. */
export const CONNECTION_ENV = {
  url: ['ROOMSTATE_URL', 'MESHAGENT_ROOM_URL', 'MESHAGENT_API_URL'],
  room: ['ROOMSTATE_ROOM', 'MESHAGENT_ROOM'],
  token: ['ROOMSTATE_TOKEN', 'MESHAGENT_TOKEN'],
} as const;

/** An environment: variable names to values. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The process environment in Node; an empty one elsewhere (browsers have no `process`). */
export function processEnvironment(): Environment {
  const process = (globalThis as { process?: { env?: Environment } }).process;
  return process?.env ?? {};
}

/** The first of `names` set to a non-blank value in `env`. */
export function fromEnvironment(names: readonly string[], env: Environment = processEnvironment()): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return value;
  }
  return undefined;
}
