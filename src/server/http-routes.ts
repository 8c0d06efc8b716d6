/**
 * Plain HTTP answers of the room server: `GET /` status for readiness
 * checks, 426 for a room URL without an upgrade, 404 JSON for the rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What `GET /` shows: this node's room, participant and enabled counts, and
 * in a cluster its `node` id and the `cluster`-wide counts.
 */
export type ServerStatus = Record<string, unknown>;

function json(response: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  response.end(head ? undefined : text);
}

/** Handles one non-upgrade HTTP request. */
export function handleHttpRequest(request: IncomingMessage, response: ServerResponse, status: () => Promise<ServerStatus>): void {
  const target = request.url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const head = request.method === 'HEAD';
  const readable = request.method === 'GET' || head;
  if (path === '/') {
    // The status never rejects: a cluster reports an unreachable Redis in its fields.
    if (readable) void status().then((fields) => json(response, 200, { status: 'ok', ...fields }, head));
    else json(response, 405, { error: 'method not allowed' }, head);
  } else if (path.startsWith('/rooms/') && readable) {
    json(response, 426, { error: 'upgrade required: connect with a websocket' }, head);
  } else {
    json(response, 404, { error: 'not found' }, head);
  }
}
