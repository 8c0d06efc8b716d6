/**
 * A turn's failure as the CLI's exit: one line and one code per way a turn
 * can go wrong (rejected 6, interrupted 7, timed out 8, agent left 9; an
 * error from the agent 5).
 */
import { RoomStateErrorCode } from '../../../errors.js';
import { AgentTurnError } from '../../../agents/errors.js';
import { CliError, ExitCode } from '../../exit-codes.js';

/** The {@link CliError} for an error of `turn.done`. */
export function turnExit(error: unknown): CliError {
  if (!(error instanceof AgentTurnError)) {
    return new CliError(ExitCode.Failure, `the turn failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  switch (error.code) {
    case RoomStateErrorCode.AgentTurnRejected:
      return new CliError(ExitCode.TurnRejected, error.message, { cause: error });
    case RoomStateErrorCode.AgentTurnCancelled:
      return new CliError(ExitCode.TurnInterrupted, `the turn was interrupted (turn ${error.turnId}).`, { cause: error });
    case RoomStateErrorCode.Timeout:
      return new CliError(ExitCode.TurnTimeout, error.message, { cause: error });
    case RoomStateErrorCode.AgentLeft:
      return new CliError(ExitCode.AgentLeft, error.message, { cause: error });
    default:
      return new CliError(ExitCode.Failure, error.message, { cause: error });
  }
}
