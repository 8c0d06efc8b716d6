/**
 * The one accounts route the official `meshagent` CLI needs to reach a room:
 * `POST /accounts/projects/{project}/rooms/{room}/connect` with
 * `Authorization: Bearer <API key>` answers `{ jwt, room_name, project_id,
 * room_url }`, a participant token for that room and the websocket URL to
 * open with it. The key is a roomstate API key (`roomstate token --api-key`,
 * `src/auth/api-key.ts`), verified with the server's secret; nothing is
 * stored. Every other `/accounts/...` path answers a JSON 404 naming the one
 * that exists. See docs/interop.md#using-the-official-meshagent-cli.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { verifyApiKey, type VerifiedApiKey } from '../auth/api-key.js';
import { TokenError, mintToken, type TokenRefusal } from '../auth/token.js';
import { roomUrlUnder } from '../protocol/room-url.js';
import { ACCOUNTS_PATH, CONNECT_ROUTE, parseConnectPath, type RoomConnectionInfo } from '../protocol/accounts.js';
import { sendJson, type HttpRoute } from './http-routes.js';
import { logText } from './log-limiter.js';
import { decodeRoomName } from './upgrade.js';

/** Lifetime of the room tokens the route issues, in seconds (never past the key's own expiry). */
export const CONNECT_TOKEN_TTL_SECONDS = 3600;

/** Largest request body read, in bytes (the CLI sends `{}` or `{"email": ...}`). */
export const MAX_CONNECT_BODY_BYTES = 65_536;


/** Key refusals that mean "this is a good token, but not a key for this": 403; the rest are 401. */
const FORBIDDEN: ReadonlySet<TokenRefusal> = new Set(['token is not an API key', 'API key is not for this project']);

/** What {@link accountsRoute} needs from the server. */
export interface AccountsRouteOptions {
  /** The server's HS256 secret: it verifies keys and signs the room tokens. */
  readonly secret: string;
  /** Largest key accepted, in characters (the server's `maxTokenLength`). */
  readonly maxTokenLength: number;
  /** Longest room name (the server's `maxRoomNameLength`). */
  readonly maxRoomNameLength: number;
  /** The websocket base URL clients should open (`ws[s]://host[:port]`), as `room_ready` reports it. */
  readonly baseUrl: (request: IncomingMessage) => string;
  /** Wall-clock milliseconds since the epoch, to keep issued tokens within the key's lifetime. */
  readonly wallClock: () => number;
  /** The logger for lines this request causes (the server's, rate-limited per client address). */
  readonly logger: (request: IncomingMessage) => Logger;
}

/** The `/accounts/...` route of the room server. */
export function accountsRoute(options: AccountsRouteOptions): HttpRoute {
  return {
    anyMethod: true,
    matches: (path) => path.startsWith(ACCOUNTS_PATH),
    handle: (request, response, head) => connect(options, request, response, head),
  };
}

async function connect(options: AccountsRouteOptions, request: IncomingMessage, response: ServerResponse, head: boolean): Promise<void> {
  const path = (request.url ?? '/').split('?', 1)[0];
  const match = parseConnectPath(path);
  if (match === undefined) return sendJson(response, 404, { error: `not found: roomstate serves only ${CONNECT_ROUTE} under /accounts/.` }, head);
  if (request.method !== 'POST') {
    response.setHeader('Allow', 'POST');
    return sendJson(response, 405, { error: `method not allowed: ${CONNECT_ROUTE}.` }, head);
  }
  const body = await readBody(request, MAX_CONNECT_BODY_BYTES);
  if (body === undefined) {
    response.setHeader('Connection', 'close');
    return sendJson(response, 413, { error: `request body larger than ${MAX_CONNECT_BODY_BYTES} bytes.` }, false);
  }
  const key = bearer(request);
  if (key === undefined) {
    response.setHeader('WWW-Authenticate', 'Bearer');
    return sendJson(response, 401, { error: 'missing API key: send "Authorization: Bearer <key>" (MESHAGENT_API_KEY); mint one with "roomstate token --api-key".' }, false);
  }
  const project = decodeSegment(match.project);
  if (project === undefined) return sendJson(response, 400, { error: 'invalid project id in the path.' }, false);
  let verified: VerifiedApiKey;
  try {
    verified = await verifyApiKey(key, project, { secret: options.secret, maxTokenLength: options.maxTokenLength });
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    // Only the short reason is logged, never the key.
    options.logger(request).warn({ reason: error.reason, remote: request.socket.remoteAddress }, 'accounts connect refused');
    const status = FORBIDDEN.has(error.reason) ? 403 : 401;
    if (status === 401) response.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    return sendJson(response, status, { error: `${error.reason}: ${hint(error.reason, project)}` }, false);
  }
  const room = decodeRoomName(match.room, options.maxRoomNameLength);
  if (room === undefined) return sendJson(response, 400, { error: `invalid room name: expected 1 to ${options.maxRoomNameLength} characters without control characters.` }, false);
  if (!isEmptyOrObject(body)) return sendJson(response, 400, { error: 'request body: expected empty or a JSON object (e.g. {}).' }, false);
  const ttlSeconds = verified.expiresAt === undefined ? CONNECT_TOKEN_TTL_SECONDS : Math.min(CONNECT_TOKEN_TTL_SECONDS, Math.max(1, Math.floor((verified.expiresAt - options.wallClock()) / 1000)));
  const jwt = await mintToken({ secret: options.secret, room, name: verified.name, ttlSeconds });
  options.logger(request).info({ room: logText(room), project: logText(project), participantName: logText(verified.name) }, 'accounts connect: room token issued');
  const info: RoomConnectionInfo = { jwt, room_name: room, project_id: project, room_url: roomUrlUnder(options.baseUrl(request), room) };
  sendJson(response, 200, info, false);
}

function hint(reason: TokenRefusal, project: string): string {
  if (reason === 'token is not an API key') return 'a participant or admin token is not an API key; mint one with "roomstate token --api-key".';
  if (reason === 'API key is not for this project') return `the key was minted for another project than ${JSON.stringify(project)}; set MESHAGENT_PROJECT_ID to the key's project (roomstate token --api-key --project).`;
  return 'mint a key with "roomstate token --api-key" and the secret the server was started with.';
}

/** The Bearer credential of the request, if any. */
function bearer(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  // The CLI sends "Bearer None" when no key is set.
  return match === null || match[1] === 'None' ? undefined : match[1];
}

function decodeSegment(segment: string): string | undefined {
  try {
    const decoded = decodeURIComponent(segment);
    return decoded.length > 0 ? decoded : undefined;
  } catch {
    return undefined;
  }
}

function isEmptyOrObject(body: string): boolean {
  if (body.trim() === '') return true;
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** The request body as text, or `undefined` once it passes `limit` bytes (the rest is left unread). */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.off('end', onEnd);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', reject);
  });
}
