/**
 * Where a room lives and how its token travels: `<base>/rooms/<room>`, the
 * room name percent-encoded, the token in `?token=`, an `Authorization:
 * Bearer` header or the `meshagent-room.<jwt>` subprotocol. Built here for
 * the server's `room_url`, the client, the CLI and the tests alike.
 * See docs/PROTOCOL.md#transport. Free of I/O.
 */
import { ValidationError } from '../errors.js';

/** The path every room lives under. */
export const ROOMS_PATH = '/rooms/';

/** The query parameter that carries the token. */
export const TOKEN_QUERY_PARAMETER = 'token';

/** The prefix of the websocket subprotocol that carries the token (browsers), echoed back by the server. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'meshagent-room.';

const WEBSOCKET_SCHEMES: Readonly<Record<string, 'ws:' | 'wss:'>> = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' };

/** The websocket scheme for a base URL's scheme (`http:` is `ws:`, `https:` is `wss:`); undefined for any other. */
export function webSocketScheme(protocol: string): 'ws:' | 'wss:' | undefined {
  return WEBSOCKET_SCHEMES[protocol];
}

/** The path of a room: `/rooms/<room>`, the name percent-encoded as one segment. */
export function roomPath(room: string): string {
  return `${ROOMS_PATH}${encodeURIComponent(room)}`;
}

/** The URL of `room` under a base URL (`ws[s]://host[:port][/prefix]`; trailing slashes are dropped). */
export function roomUrlUnder(base: string, room: string): string {
  return `${base.replace(/\/+$/, '')}${roomPath(room)}`;
}

/**
 * The room's websocket URL as a client opens it, as the official 0.39.9
 * client builds it: `<base>/rooms/<room>?token=<jwt>`, with http(s) turned
 * into ws(s) and any query parameters of the base kept. Throws a
 * `ValidationError` for a base that is not an absolute ws/wss/http/https URL
 * or an empty room name.
 *
 * @example
 * ```ts
 * roomUrl('http://127.0.0.1:8080', 'myroom', token); // ws://127.0.0.1:8080/rooms/myroom?token=...
 * ```
 */
export function roomUrl(base: string, room: string, token: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch (cause) {
    throw new ValidationError('url', `url ${JSON.stringify(base)} is not an absolute URL; expected e.g. "ws://127.0.0.1:8080".`, { cause });
  }
  const scheme = webSocketScheme(url.protocol);
  if (scheme === undefined) {
    throw new ValidationError('url', `url ${JSON.stringify(base)} has scheme ${JSON.stringify(url.protocol)}; expected ws:, wss:, http: or https:.`);
  }
  url.protocol = scheme;
  if (!room) throw new ValidationError('room', 'room must be a non-empty string.');
  url.pathname = roomUrlUnder(url.pathname, room);
  url.searchParams.set(TOKEN_QUERY_PARAMETER, token);
  return url.toString();
}
