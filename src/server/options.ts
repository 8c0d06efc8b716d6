/**
 * Options and limits of the room server, with their defaults.
 */
import type { Logger } from 'pino';
import type { ServerObserver } from './core/observer.js';

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
   * worth). A request over the rate gets error 1008 "rate limit exceeded".
   * @defaultValue 1000
   */
  messagesPerSecond: number;
  /**
   * Request bytes per second per participant (token bucket, burst of one
   * second's worth, never less than one maximal message). Error 1008 when over.
   * @defaultValue 16777216 (16 MiB)
   */
  bytesPerSecond: number;
  /**
   * Outgoing bytes queued for one connection (ws `bufferedAmount`). A consumer
   * that stops reading and goes over it is disconnected with close code 1008
   * "slow consumer: outgoing buffer limit exceeded".
   * @defaultValue 16777216 (16 MiB)
   */
  maxBufferedBytes: number;
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
  maxBufferedBytes: 16 * 1024 * 1024,
  maxJsonDepth: 64,
  maxTokenLength: 8192,
  maxRoomNameLength: 256,
  maxProtocolErrors: 16,
});

/** Options of {@link createRoomServer}. */
export interface RoomServerOptions {
  /** The HS256 secret participant tokens are signed with. */
  secret: string;
  /**
   * Interface to listen on.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @defaultValue 8080
   */
  port?: number;
  /**
   * A pino logger, or `false` for none.
   * @defaultValue false
   */
  logger?: Logger | false;
  /**
   * Whether a broadcast also reaches its (enabled) sender.
   * @defaultValue false
   */
  broadcastToSender?: boolean;
  /**
   * Interval of server pings; a peer that did not pong since the previous
   * ping is terminated, so a dead peer is gone within two intervals.
   * @defaultValue 30000
   */
  heartbeatIntervalMs?: number;
  /**
   * Allowed `Origin` header values (browser CSWSH protection). A request that
   * carries an Origin not in the list is refused with HTTP 403 "origin not
   * allowed"; requests without an Origin (non-browser clients) pass.
   * Absent = every origin allowed.
   */
  allowedOrigins?: string[];
  /** Resource limits; see {@link RoomServerLimits} for the defaults. */
  limits?: Partial<RoomServerLimits>;
  /**
   * Negotiate permessage-deflate with clients that ask for it.
   * @defaultValue false
   */
  perMessageDeflate?: boolean;
  /**
   * How long a connection closed by the server (slow consumer, protocol
   * violation) may take to finish the close handshake before it is terminated.
   * @defaultValue 1000
   */
  closeTimeoutMs?: number;
  /**
   * Listener of what the server does (requests, deliveries, errors, lifecycle);
   * combine several with `combineObservers`.
   * @defaultValue an observer that ignores everything
   */
  observer?: ServerObserver;
  /**
   * Serve the live console at `/console` (rooms, participants, their
   * statecharts, inspected clients); it needs an admin token
   * (`mintAdminToken`, `roomstate token --admin`).
   * @defaultValue false
   */
  console?: boolean;
}

/** Merges partial limits over the defaults, rejecting nonsense values. */
export function resolveLimits(limits: Partial<RoomServerLimits> = {}): RoomServerLimits {
  const out: RoomServerLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof RoomServerLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      throw new RangeError(`limits.${key} must be a positive number or Infinity, got ${String(value)}.`);
    }
    out[key] = value;
  }
  return out;
}
