/**
 * Durations on the command line: `30s`, `15m`, `1h`, `7d`, `250ms`, or plain
 * seconds (`90`, `0.5`).
 */
import { usageError } from './exit-codes.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/**
 * Parses a duration into milliseconds. Plain numbers are seconds. Throws a
 * usage {@link CliError} naming `option` for anything else.
 *
 * @example
 * ```ts
 * parseDurationMs('15m', '--ttl'); // 900000
 * parseDurationMs('90', '--ttl');  // 90000
 * ```
 */
export function parseDurationMs(text: string, option: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) {
    throw usageError(`${option} ${JSON.stringify(text)} is not a duration; use a number of seconds or a number with a unit, e.g. 30s, 15m, 1h, 7d.`);
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's'];
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) {
    throw usageError(`${option} ${JSON.stringify(text)} is too long.`);
  }
  return ms;
}

/** A commander option parser for durations in milliseconds. */
export function durationOption(option: string): (value: string) => number {
  return (value) => parseDurationMs(value, option);
}
