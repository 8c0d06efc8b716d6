/**
 * Resource limits of a room server, their defaults (the one place they are
 * written down) and their validation. Part of the core, so that the core
 * needs nothing from the binding's options.
 */
import { ValidationError } from '../../errors.js';

/**
 * Resource limits of a room server. Every limit has a safe default; pass
 * `Infinity` to switch a numeric limit off (benchmarks do this for the rates).
 */
export interface RoomServerLimits {
  /**
   * Largest protocol message (reassembled data bytes). Checked from packet 0's
   * packet count before anything is buffered; the request gets a 1002 error
   * and its data packets are dropped.
   * @defaultValue 4194304 (4 MiB)
   */
  maxMessageBytes: number;
  /**
   * Longest message type string, in UTF-8 bytes: the packet-0 type and the
   * messaging `arguments.json.type`. 1002 error when exceeded.
   * @defaultValue 256
   */
  maxTypeBytes: number;
  /**
   * Participants (connections) per room. A connection beyond it is refused at
   * the upgrade with HTTP 503 "room is full" (the TS client retries later).
   * @defaultValue 1000
   */
  maxParticipantsPerRoom: number;
  /**
   * Rooms with at least one participant. Opening another room is refused at
   * the upgrade with HTTP 503 "too many rooms".
   * @defaultValue 10000
   */
  maxRooms: number;
  /**
   * Size of a participant's merged attribute map as JSON, in UTF-8 bytes. A
   * `set_attributes` that would exceed it is refused with a 1002 error and
   * not applied.
   * @defaultValue 65536
   */
  maxAttributeBytes: number;
  /**
   * Keys in a participant's merged attribute map; as {@link RoomServerLimits.maxAttributeBytes}.
   * @defaultValue 256
   */
  maxAttributeKeys: number;
  /**
   * Requests per second per participant (token bucket, burst of one second's
   * worth), charged when a request arrives. Over the rate nothing is refused:
   * the server stops reading that socket until the bucket has refilled, so
   * TCP slows the sender and its requests are served later, in order.
   * @defaultValue 1000
   */
  messagesPerSecond: number;
  /**
   * Request bytes per second per participant (token bucket, burst of one
   * second's worth, never less than one maximal message), charged per frame
   * on arrival; over it, reading pauses as for {@link RoomServerLimits.messagesPerSecond}.
   * @defaultValue 16777216 (16 MiB)
   */
  bytesPerSecond: number;
  /**
   * Fairness that bites only under contention. While the event loop keeps
   * up, every request is handled as it arrives, whoever sends it. Once one
   * turn of the loop has spent this many milliseconds handling requests
   * (JSON parsing, validation, encoding, fan-out), the server is congested:
   * requests that arrive meanwhile are held (their connections stop reading,
   * so TCP slows the senders) and served one at a time to the identity
   * (token `name`, over all its connections in every room) that has used
   * the least server time, one slice at a time between rounds of I/O, until
   * nothing is held. A light participant then waits at most about one slice
   * plus one request of a heavy one. `Infinity` handles everything inline
   * (first come, first served).
   * @defaultValue 5
   */
  fairnessSliceMs: number;
  /**
   * Outgoing bytes queued for one connection (ws `bufferedAmount`). A
   * consumer over it that makes no progress draining it for
   * {@link RoomServerLimits.slowConsumerTimeoutMs} is disconnected with close
   * code 1008 "slow consumer: outgoing buffer limit exceeded"; one that is
   * reading a large burst (a big presence snapshot) is not, even while the
   * room adds to its buffer faster than it reads, up to four times this
   * limit (`SLOW_READER_CEILING` in src/server/ws-binding.ts); beyond that
   * only a shrinking buffer keeps it.
   * @defaultValue 16777216 (16 MiB)
   */
  maxBufferedBytes: number;
  /**
   * How long a connection may stay over `maxBufferedBytes` without reading
   * (neither its outgoing buffer shrank nor did the kernel take more of it)
   * before it is dropped as a slow consumer.
   * @defaultValue 5000
   */
  slowConsumerTimeoutMs: number;
  /**
   * Deepest nesting of JSON arrays/objects in a request header and in
   * `message_json`. 1002 error when exceeded.
   * @defaultValue 64
   */
  maxJsonDepth: number;
  /**
   * Longest accepted token, in characters; longer ones get HTTP 403 "token too large".
   * @defaultValue 8192
   */
  maxTokenLength: number;
  /**
   * Longest room name, in characters (after URL-decoding); longer names get
   * HTTP 404 "invalid room name".
   * @defaultValue 256
   */
  maxRoomNameLength: number;
  /**
   * Framing/envelope violations (bad packets, undecodable envelopes) a
   * connection may commit; one more closes it with 1002 "too many protocol errors".
   * @defaultValue 16
   */
  maxProtocolErrors: number;
  /**
   * Longest a started multi-packet message may go without a new packet. A
   * message that stalls longer is dropped and its connection closed with
   * 1008 "partial message timed out", so a half-sent message cannot hold
   * reassembly memory forever.
   * @defaultValue 30000
   */
  partialMessageTimeoutMs: number;
  /**
   * Connections one identity (token `name`) may hold in one room. One more is
   * refused at the upgrade with HTTP 429 "too many connections for this identity in this room".
   * @defaultValue 16
   */
  maxConnectionsPerIdentity: number;
  /**
   * Rooms one identity (token `name`) may be connected to at once. Joining
   * another is refused at the upgrade with HTTP 429 "too many rooms for this identity".
   * @defaultValue 64
   */
  maxRoomsPerIdentity: number;
  /**
   * How long a resumable session (a client that asked for a resume key) is
   * kept, detached, after its connection dropped, waiting for the client to
   * resume it; then it ends and the room sees it leave.
   * @defaultValue 120000
   */
  recoveryWindowMs: number;
  /**
   * Bytes of sent messages held per resumable session for a resume. While
   * detached, one more ends the session (the client is told why when it
   * comes back, and joins anew).
   * @defaultValue 8388608 (8 MiB)
   */
  maxRecoveryBytes: number;
  /**
   * Messages held per resumable session for a resume; as `maxRecoveryBytes`, by count.
   * @defaultValue 10000
   */
  maxRecoveryMessages: number;
}

/** Default {@link RoomServerLimits}. */
export const DEFAULT_LIMITS: Readonly<RoomServerLimits> = Object.freeze({
  maxMessageBytes: 4 * 1024 * 1024,
  maxTypeBytes: 256,
  maxParticipantsPerRoom: 1000,
  maxRooms: 10_000,
  maxAttributeBytes: 64 * 1024,
  maxAttributeKeys: 256,
  messagesPerSecond: 1000,
  bytesPerSecond: 16 * 1024 * 1024,
  fairnessSliceMs: 5,
  maxBufferedBytes: 16 * 1024 * 1024,
  slowConsumerTimeoutMs: 5000,
  maxJsonDepth: 64,
  maxTokenLength: 8192,
  maxRoomNameLength: 256,
  maxProtocolErrors: 16,
  partialMessageTimeoutMs: 30_000,
  maxConnectionsPerIdentity: 16,
  maxRoomsPerIdentity: 64,
  recoveryWindowMs: 120_000,
  maxRecoveryBytes: 8 * 1024 * 1024,
  maxRecoveryMessages: 10_000,
});

/** Merges partial limits over the defaults, rejecting nonsense values. */
export function resolveLimits(limits: Partial<RoomServerLimits> = {}): RoomServerLimits {
  const out: RoomServerLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof RoomServerLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      throw new ValidationError(`limits.${key}`, `limits.${key} must be a positive number or Infinity, got ${String(value)}.`);
    }
    out[key] = value;
  }
  return out;
}
