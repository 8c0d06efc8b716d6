/**
 * Plain HTTP answers of the room server, as a table of routes: `GET /`
 * status for readiness checks, `GET /metrics` when metrics are on, 426 for a
 * room URL without an upgrade, 404 JSON for the rest. Features add routes to
 * the table instead of branching here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOMS_PATH } from '../protocol/room-url.js';

/** Counts shown by `GET /`. */
export interface ServerStatus {
  rooms: number;
  participants: number;
  enabled: number;
}

/** One HTTP route: which paths it answers, and how. */
export interface HttpRoute {
  /** Whether this route answers `path` (the request target without its query). */
  matches(path: string): boolean;
  /**
   * Answers the request; `head` is true for `HEAD` (send headers only).
   * Only `GET` and `HEAD` reach a route unless it sets `anyMethod`.
   */
  handle(request: IncomingMessage, response: ServerResponse, head: boolean): void | Promise<void>;
  /** Whether methods other than GET and HEAD reach {@link HttpRoute.handle}. */
  readonly anyMethod?: boolean;
}

/** Writes a JSON answer. */
export function sendJson(response: ServerResponse, status: number, body: unknown, head: boolean): void {
  sendText(response, status, 'application/json; charset=utf-8', JSON.stringify(body), head);
}

/** Writes a text answer with its length and `Cache-Control: no-store`. */
export function sendText(response: ServerResponse, status: number, contentType: string, text: string, head: boolean): void {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  response.end(head ? undefined : text);
}

/**
 * `GET /`: `{ status: 'ok', ...counts }` for readiness checks; in a cluster
 * also this node's `node` id, `redis` ('ready' or 'unreachable') and the
 * `cluster`-wide counts. `status` never rejects.
 */
export function statusRoute(status: () => Promise<ServerStatus & Record<string, unknown>>): HttpRoute {
  return {
    matches: (path) => path === '/',
    handle: async (_request, response, head) => sendJson(response, 200, { status: 'ok', ...(await status()) }, head),
  };
}

/** `GET /rooms/...` without an upgrade: 426. */
export const roomsWithoutUpgradeRoute: HttpRoute = {
  matches: (path) => path.startsWith(ROOMS_PATH),
  handle: (_request, response, head) => sendJson(response, 426, { error: 'upgrade required: connect with a websocket' }, head),
};

/**
 * Handles one non-upgrade HTTP request with the first route that matches its
 * path; 405 for a method the route does not take, 404 when none matches, 500
 * (and the connection kept alive for others) when a route fails.
 */
export async function handleHttpRequest(request: IncomingMessage, response: ServerResponse, routes: readonly HttpRoute[]): Promise<void> {
  const target = request.url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const head = request.method === 'HEAD';
  const readable = request.method === 'GET' || head;
  const route = routes.find((candidate) => candidate.matches(path));
  if (route === undefined) return sendJson(response, 404, { error: 'not found' }, head);
  if (!readable && !route.anyMethod) return sendJson(response, 405, { error: 'method not allowed' }, head);
  try {
    await route.handle(request, response, head);
  } catch {
    if (!response.headersSent) sendJson(response, 500, { error: 'internal server error' }, head);
    else response.destroy();
  }
}
