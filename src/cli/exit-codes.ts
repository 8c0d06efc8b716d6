/**
 * The CLI's exit codes and its one error type. Every failure a user can meet
 * ends the process with one line on stderr and one of these codes.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success (also `listen` and `serve` stopped by SIGINT/SIGTERM) |
 * | 1 | usage: unknown option, missing or invalid input (bad `--data` JSON, no room, no secret, unreadable file) |
 * | 2 | connection: the server is unreachable, or the connection closed or timed out; `serve` cannot listen |
 * | 3 | auth: the server refused the token (HTTP 403) or the token lacks the permission (1001) |
 * | 4 | not found: unknown or non-messaging-enabled participant, or a room the server does not have (HTTP 404) |
 * | 5 | failure: the server answered with another error, or something unexpected happened (also an agent turn that ended with an error) |
 * | 6 | `agent ask`: the agent rejected the turn (the line names the protocol's code) |
 * | 7 | `agent ask`: the turn was interrupted (ended as cancelled) |
 * | 8 | `agent ask`: the agent did not answer, or the turn outlasted `--timeout` |
 * | 9 | `agent ask`: the agent left the room before the turn ended |
 */
import { RoomServerError } from '../errors.js';
// The error-code module alone: the codec's index would load zod into every CLI start.
import { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT } from '../protocol/error-codes.js';

/** Exit codes of the `roomstate` CLI; see the table in this module's TSDoc. */
export const ExitCode = {
  Ok: 0,
  Usage: 1,
  Connection: 2,
  Auth: 3,
  NotFound: 4,
  Failure: 5,
  TurnRejected: 6,
  TurnInterrupted: 7,
  TurnTimeout: 8,
  AgentLeft: 9,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table as help text, shown by `roomstate --help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success (listen and serve also exit 0 on SIGINT/SIGTERM)
  1  usage or invalid input (bad --data JSON, no room, no secret, unreadable file)
  2  server unreachable, connection lost or timed out; serve cannot listen
  3  token refused by the server (HTTP 403) or permission denied
  4  participant (or room) not found
  5  any other server error or failure
  6  agent ask: the agent rejected the turn
  7  agent ask: the turn was interrupted
  8  agent ask: the agent did not answer, or the turn timed out
  9  agent ask: the agent left before the turn ended`;

/**
 * An error meant for the user: `message` is printed as one line on stderr
 * (prefixed with `roomstate: `) and the process exits with `exitCode`.
 */
export class CliError extends Error {
  /** The process exit code. */
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Shorthand for a usage error (exit code 1). */
export function usageError(message: string): CliError {
  return new CliError(ExitCode.Usage, message);
}

/**
 * Maps an error answered by the server to a {@link CliError}: not-found (1003
 * or the exact text) exits 4, permission denied (1001) exits 3, anything else 5.
 */
export function fromServerError(error: RoomServerError, what: string): CliError {
  if (error.protocolCode === ErrorCode.NotFound || error.message === PARTICIPANT_NOT_FOUND_TEXT) {
    return new CliError(ExitCode.NotFound, `${what} failed: ${error.message}.`, { cause: error });
  }
  if (error.protocolCode === ErrorCode.PermissionDenied) {
    return new CliError(ExitCode.Auth, `${what} failed: permission denied (${error.message}).`, { cause: error });
  }
  const code = error.protocolCode === undefined ? '' : ` (code ${error.protocolCode})`;
  return new CliError(ExitCode.Failure, `${what} failed: the server answered ${JSON.stringify(error.message)}${code}.`, { cause: error });
}
