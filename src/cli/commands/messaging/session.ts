/**
 * Opening a room for a messaging command: connect with roomstate's client,
 * enable messaging, and turn every failure into a {@link CliError} with the
 * documented exit code.
 */
import { Option } from 'commander';
import { RoomServerError, RoomStateError, RoomStateErrorCode } from '../../../errors.js';
import type { RemoteParticipant, RoomClient } from '../../../client/node.js';
import { RoomClosedError, ParticipantNotFoundError, describeClose } from '../../../client/errors.js';
import type { ConnectionEnd } from '../../../../machines/index.js';
import type { ConnectionSettings } from '../../connection-options.js';
import { durationOption } from '../../duration.js';
import { CliError, ExitCode, fromServerError } from '../../exit-codes.js';

/** How long to wait for a participant to show up in presence by default, in ms. */
export const DEFAULT_PRESENCE_WAIT_MS = 3000;

/** `--reconnect-timeout` of the commands that stay in a room (`listen`, `agent serve`). */
export function reconnectTimeoutOption(): Option {
  return new Option('--reconnect-timeout <duration>', 'keep reconnecting this long after the connection drops; 0 exits at once (code 2)')
    .default(0, '0')
    .argParser(durationOption('--reconnect-timeout'));
}

/** Options of {@link openRoom}. */
export interface OpenRoomOptions {
  /**
   * Longest time in ms to keep reconnecting after the connection drops;
   * 0 ends the command at the first loss.
   * @defaultValue 0
   */
  reconnectTimeoutMs?: number;
}

function describeRefusal(end: ConnectionEnd, settings: ConnectionSettings): CliError {
  const status = end.httpStatus;
  const why = end.reason ? `: ${end.reason}` : '';
  if (status === 403) {
    return new CliError(ExitCode.Auth, `the server refused the token for room ${JSON.stringify(settings.room)} (HTTP 403${why}).`);
  }
  if (status === 404) {
    return new CliError(ExitCode.NotFound, `room ${JSON.stringify(settings.room)} not found at ${settings.url} (HTTP 404${why}).`);
  }
  return new CliError(ExitCode.Connection, `the server at ${settings.url} refused the connection (HTTP ${status}${why}).`);
}

/** Why the room connection ended, for the user; `what` names the operation it cut short. */
function fromRoomClosed(end: ConnectionEnd, settings: ConnectionSettings, what: string, cause?: unknown): CliError {
  if (end.kind === 'refused') return describeRefusal(end, settings);
  const within = end.kind === 'connect_timeout' ? ` within ${(end.connectTimeout ?? 0) / 1000}s` : '';
  const detail = `${describeClose(end)}${within}`;
  if (end.kind === 'server') return new CliError(ExitCode.Connection, `the server closed the room connection (${detail}).`, { cause });
  if (what === 'connecting') {
    const silent = end.error === undefined && end.httpStatus === undefined && !end.reason;
    const hint = silent || end.error?.startsWith('connection refused') ? '; is the server running?' : '';
    return new CliError(ExitCode.Connection, `cannot connect to room ${JSON.stringify(settings.room)} at ${settings.url} (${detail})${hint}`, { cause });
  }
  return new CliError(ExitCode.Connection, `the room connection was lost while ${what} (${detail}).`, { cause });
}

/**
 * Maps an error from the room client to a {@link CliError}. `what` names the
 * operation for the message, e.g. "sending the message".
 */
export function cliErrorFrom(error: unknown, settings: ConnectionSettings, what: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ParticipantNotFoundError) {
    return new CliError(ExitCode.NotFound, `${what} failed: participant ${JSON.stringify(error.participantId)} was not found or is not messaging-enabled.`, { cause: error });
  }
  if (error instanceof RoomServerError) return fromServerError(error, what);
  if (error instanceof RoomClosedError) return fromRoomClosed(error.end, settings, what, error);
  if (error instanceof RoomStateError && error.code === RoomStateErrorCode.Timeout) {
    return new CliError(ExitCode.Connection, `${what} timed out: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(ExitCode.Failure, `${what} failed: ${message}`, { cause: error });
}

/** An open room, with messaging enabled if asked. */
export interface OpenRoom {
  readonly client: RoomClient;
  readonly settings: ConnectionSettings;
  /** Leaves the room (websocket close 1000); never throws. */
  leave(): Promise<void>;
}

/**
 * Connects to the room and waits until it is ready. Client warnings go to
 * stderr. Rejects with a {@link CliError}.
 */
export async function openRoom(settings: ConnectionSettings, options: OpenRoomOptions = {}): Promise<OpenRoom> {
  // Loaded when a messaging command runs, so `token`, `serve` and `--help` start without the client.
  const { RoomClient } = await import('../../../client/node.js');
  const client = new RoomClient({
    url: settings.url,
    room: settings.room,
    token: settings.token,
    reconnectTimeout: options.reconnectTimeoutMs ?? 0,
    connectTimeout: settings.connectTimeoutMs,
    handshakeTimeout: settings.connectTimeoutMs,
    enableTimeout: settings.connectTimeoutMs,
    logger: { warn: (message) => process.stderr.write(`roomstate: warning: ${message}\n`) },
  });
  const leave = async () => {
    await client.close().catch(() => undefined);
  };
  try {
    await client.start();
  } catch (error) {
    await leave();
    throw cliErrorFrom(error, settings, 'connecting');
  }
  return { client, settings, leave };
}

/** Enables messaging; rejects with a {@link CliError}. */
export async function enableMessaging(room: OpenRoom): Promise<void> {
  try {
    await room.client.messaging.enable();
  } catch (error) {
    throw cliErrorFrom(error, room.settings, 'enabling messaging');
  }
}

/**
 * Waits up to `timeoutMs` for `find` to pick a participant from presence,
 * re-checking on every presence change (the client's own
 * `waitForParticipantIn`). Resolves with it, or `null` when time runs out or
 * the room closes.
 */
export async function waitForParticipant(
  room: OpenRoom,
  find: (participants: readonly RemoteParticipant[]) => RemoteParticipant | undefined,
  timeoutMs: number,
): Promise<RemoteParticipant | null> {
  const { messaging } = room.client;
  if (timeoutMs <= 0) return find(messaging.getParticipants()) ?? null;
  // Loaded with the client (openRoom), so commands that never connect start without RxJS.
  const { waitForParticipantIn } = await import('../../../client/agent-helpers.js');
  return waitForParticipantIn(messaging.participants$, find, 'the participant', timeoutMs, () => new RoomStateError(RoomStateErrorCode.Closed, 'the room closed before the participant appeared.')).catch(() => null);
}
