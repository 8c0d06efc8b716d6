/**
 * The HTTP side of joining a room: parsing `/rooms/:room`, finding the token
 * (query, Bearer header, subprotocol), checking the Origin, and refusing an
 * upgrade with a status and a short reason.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ROOMS_PATH, TOKEN_QUERY_PARAMETER, TOKEN_SUBPROTOCOL_PREFIX } from '../protocol/room-url.js';

/** A refusal at the upgrade: HTTP status and reason phrase. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly reason: string;
}

/** The parts of an upgrade URL the server needs. */
export interface RoomTarget {
  /** The URL-decoded room name. */
  readonly roomName: string;
  /** The query string parameters. */
  readonly query: URLSearchParams;
}

// C0 controls, DEL and C1 controls are never part of a room name.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** The path of a request target, without its query. */
export function pathOf(request: IncomingMessage): string {
  const target = request.url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/**
 * Parses a request target of the form `/rooms/<name>[?query]`. The name is
 * percent-decoded, normalised to Unicode NFC (so NFC and NFD spellings of
 * one name are one room) and must be 1..`maxLength` characters without
 * control characters; anything else is a 404 (the TS client does not retry a 404).
 */
export function parseRoomTarget(target: string, maxLength: number): RoomTarget | UpgradeRefusal {
  // Split by hand: `new URL('//x', base)` would read "//x" as a host.
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
  if (!path.startsWith(ROOMS_PATH)) return { status: 404, reason: 'Not Found' };
  const raw = path.slice(ROOMS_PATH.length);
  if (raw.length === 0 || raw.includes('/')) return { status: 404, reason: 'Not Found' };
  const roomName = decodeRoomName(raw, maxLength);
  if (roomName === undefined) return { status: 404, reason: 'invalid room name' };
  return { roomName, query };
}

/**
 * A room name from one percent-encoded path segment: decoded, normalised to
 * NFC, 1..`maxLength` characters without control characters; `undefined`
 * when it is not a valid name.
 */
export function decodeRoomName(segment: string, maxLength: number): string | undefined {
  let roomName: string;
  try {
    roomName = decodeURIComponent(segment).normalize('NFC');
  } catch {
    return undefined;
  }
  if (roomName.length === 0 || roomName.length > maxLength || CONTROL_CHARACTERS.test(roomName)) return undefined;
  return roomName;
}

/** Where a token was found. */
export type TokenSource = 'query' | 'bearer' | 'subprotocol';

/**
 * Finds the token: `?token=`, then `Authorization: Bearer`, then a
 * `meshagent-room.<jwt>` subprotocol.
 */
export function extractToken(request: IncomingMessage, query: URLSearchParams): { token: string; source: TokenSource } | undefined {
  const fromQuery = query.get(TOKEN_QUERY_PARAMETER);
  if (fromQuery) return { token: fromQuery, source: 'query' };
  const authorization = request.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return { token: match[1], source: 'bearer' };
  }
  const protocol = tokenSubprotocol(request.headers['sec-websocket-protocol']);
  if (protocol) return { token: protocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length), source: 'subprotocol' };
  return undefined;
}

/** The first offered `meshagent-room.<jwt>` subprotocol, if any. */
export function tokenSubprotocol(header: string | Iterable<string> | undefined): string | undefined {
  if (header === undefined) return undefined;
  const offered = typeof header === 'string' ? header.split(',') : header;
  for (const entry of offered) {
    const protocol = entry.trim();
    if (protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX) && protocol.length > TOKEN_SUBPROTOCOL_PREFIX.length) return protocol;
  }
  return undefined;
}

/** True when the request carries no Origin or one in `allowed` (absent list = all). */
export function originAllowed(request: IncomingMessage, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  const origin = request.headers.origin;
  return origin === undefined || allowed.includes(origin);
}

/** Answers an upgrade request with an HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: refusal.reason });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}
