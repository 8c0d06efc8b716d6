/**
 * Option parsing for `roomstate serve`: ports, limits and log levels, checked
 * before anything listens.
 */
import { Option } from 'commander';
import type { RedisClusterOptions } from '../../server/cluster/cluster-options.js';
import { formatUrl } from '../../server/addresses.js';
import { DEFAULT_LIMITS } from '../../server/core/limits.js';
import { usageError } from '../exit-codes.js';

/**
 * Server limit names, as accepted by `createRoomServer({ limits })`, with
 * their flags. The help shows each default from {@link DEFAULT_LIMITS}, never
 * a number written here.
 */
export const LIMIT_FLAGS = [
  ['maxMessageBytes', '--max-message-bytes', 'largest protocol message, in bytes'],
  ['maxTypeBytes', '--max-type-bytes', 'longest message type, in bytes'],
  ['maxParticipantsPerRoom', '--max-participants-per-room', 'connections per room'],
  ['maxRooms', '--max-rooms', 'rooms with at least one participant'],
  ['maxAttributeBytes', '--max-attribute-bytes', "a participant's attributes as JSON, in bytes"],
  ['maxAttributeKeys', '--max-attribute-keys', "keys in a participant's attributes"],
  ['messagesPerSecond', '--messages-per-second', 'requests per second per participant'],
  ['bytesPerSecond', '--bytes-per-second', 'request bytes per second per participant'],
  ['fairnessSliceMs', '--fairness-slice-ms', 'handling time per event-loop turn before server time is shared fairly among token names, in ms'],
  ['maxBufferedBytes', '--max-buffered-bytes', 'outgoing bytes queued for one connection before it is dropped'],
  ['slowConsumerTimeoutMs', '--slow-consumer-timeout-ms', 'how long a connection may stay over the outgoing buffer limit without draining, in ms'],
  ['maxJsonDepth', '--max-json-depth', 'deepest JSON nesting in a request'],
  ['maxTokenLength', '--max-token-length', 'longest token, in characters'],
  ['maxRoomNameLength', '--max-room-name-length', 'longest room name, in characters'],
  ['maxProtocolErrors', '--max-protocol-errors', 'framing errors a connection may make before it is closed'],
  ['partialMessageTimeoutMs', '--partial-message-timeout-ms', 'longest a started message may go without a new packet, in ms'],
  ['maxConnectionsPerIdentity', '--max-connections-per-identity', 'connections one token name may hold in one room'],
  ['maxRoomsPerIdentity', '--max-rooms-per-identity', 'rooms one token name may be in at once'],
  ['recoveryWindowMs', '--recovery-window', 'how long a resumable participant whose connection dropped is kept for its client to resume it, in ms'],
  ['maxRecoveryBytes', '--max-recovery-bytes', 'bytes of sent messages held per resumable participant for a resume'],
  ['maxRecoveryMessages', '--max-recovery-messages', 'messages held per resumable participant for a resume'],
] as const;

/** One of the server limit names. */
export type LimitName = (typeof LIMIT_FLAGS)[number][0];

/** pino log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Parses a TCP port (0 picks a free one). */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw usageError(`--port ${JSON.stringify(text)} is not a port; expected 0-65535.`);
  return port;
}

/** Parses a limit value: a positive integer, or `Infinity`/`off` to switch it off. */
export function parseLimit(flag: string): (text: string) => number {
  return (text) => {
    if (text === 'Infinity' || text === 'off') return Infinity;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value <= 0 || !Number.isSafeInteger(value)) {
      throw usageError(`${flag} ${JSON.stringify(text)} is not a positive integer (or "off").`);
    }
    return value;
  };
}

/** Builds the commander options of every server limit. */
export function limitOptions(): Option[] {
  return LIMIT_FLAGS.map(([name, flag, description]) =>
    new Option(`${flag} <n>`, `limit: ${description} (default: ${DEFAULT_LIMITS[name]})`).argParser(parseLimit(flag)),
  );
}

/** Collects the limit values that were given, keyed by limit name. */
export function limitsFrom(options: Record<string, unknown>): Partial<Record<LimitName, number>> {
  const limits: Partial<Record<LimitName, number>> = {};
  for (const [name] of LIMIT_FLAGS) {
    const value = options[name];
    if (typeof value === 'number') limits[name] = value;
  }
  return limits;
}

/** Formats a listening address as a websocket URL (IPv6 hosts in brackets). */
export function wsUrl(host: string, port: number): string {
  return formatUrl('ws', host, port);
}

/** Environment variable that gives `--redis`. */
export const REDIS_URL_ENV = 'ROOMSTATE_REDIS_URL';

/**
 * The cluster options of `--redis` or `--redis-cluster` (comma-separated
 * node URLs) and `--redis-lease` (heartbeats thrice per lease); none without
 * either.
 */
export function clusterOptions(url: string | undefined, clusterUrls: string | undefined, leaseMs: number | undefined): RedisClusterOptions | undefined {
  if (url !== undefined && clusterUrls !== undefined) throw usageError('give --redis (one Redis server) or --redis-cluster (a Redis Cluster), not both.');
  if (url === undefined && clusterUrls === undefined) {
    if (leaseMs !== undefined) throw usageError('--redis-lease needs --redis or --redis-cluster.');
    return undefined;
  }
  const where = url !== undefined ? { url } : { cluster: clusterUrls!.split(',').map((part) => part.trim()).filter((part) => part.length > 0) };
  return leaseMs === undefined ? where : { ...where, leaseMs, heartbeatIntervalMs: leaseMs / 3 };
}
