/**
 * Environment variables for command options, as container platforms expect:
 * every option of a command is also read from `ROOMSTATE_<NAME>` (the long
 * flag in upper snake case: `--max-rooms` is `ROOMSTATE_MAX_ROOMS`), plus
 * aliases such as `PORT` and `HOST`. Options are declared once; their
 * environment names are derived, so an option added later gets one too.
 *
 * Order: the flag, then `ROOMSTATE_<NAME>`, then an alias, then the default.
 */
import type { Command, Option } from 'commander';
import { usageError } from './exit-codes.js';

/** Prefix of every derived environment variable. */
export const ENV_PREFIX = 'ROOMSTATE_';

/** The environment variable of `option`: `--tls-cert` -> `ROOMSTATE_TLS_CERT`, `--no-metrics` -> `ROOMSTATE_METRICS`. */
export function envNameOf(option: Option): string {
  return ENV_PREFIX + option.attributeName().replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/** Parses a boolean environment value (1/0, true/false, yes/no, on/off). */
export function parseEnvBoolean(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw usageError(`${name}=${JSON.stringify(raw)} is not a boolean; expected true or false (1/0, yes/no, on/off).`);
}

/** The value of `option` from the environment variable `name`, parsed as the flag's argument would be. */
function valueFromEnv(option: Option, name: string, raw: string): unknown {
  if (option.negate || option.isBoolean()) return parseEnvBoolean(name, raw);
  const values = option.variadic ? raw.split(',').map((part) => part.trim()).filter(Boolean) : [raw];
  try {
    let parsed: unknown = undefined;
    for (const value of values) parsed = option.parseArg ? option.parseArg(value, parsed) : option.variadic ? [...((parsed as string[] | undefined) ?? []), value] : value;
    return parsed;
  } catch (error) {
    throw usageError(`${name}=${JSON.stringify(raw)} is invalid: ${(error as Error).message.replace(/^error: /, '')}`);
  }
}

/**
 * Reads every option of `command` not given as a flag from its environment
 * variable (or from `aliases[attributeName]`), and names the variable in
 * `--help`.
 *
 * @example
 * ```ts
 * withEnvironment(serveCommand, { port: 'PORT', host: 'HOST' });
 * ```
 */
export function withEnvironment(command: Command, aliases: Readonly<Record<string, string>> = {}, env: NodeJS.ProcessEnv = process.env): Command {
  // Shown by --help; options added after this call still get their variable below.
  for (const option of command.options) option.envVar ??= envNameOf(option);
  return command.hook('preAction', (thisCommand) => {
    for (const option of thisCommand.options) {
      const key = option.attributeName();
      const source = thisCommand.getOptionValueSource(key);
      if (source !== undefined && source !== 'default' && source !== 'implied') continue;
      const name = [option.envVar ?? envNameOf(option), aliases[key]].find((candidate) => candidate !== undefined && env[candidate] !== undefined);
      if (name === undefined) continue;
      thisCommand.setOptionValueWithSource(key, valueFromEnv(option, name, env[name]!), 'env');
    }
  });
}
