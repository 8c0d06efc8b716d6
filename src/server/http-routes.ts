/**
 * Plain HTTP answers of the room server: `GET /` status for readiness
 * checks, 426 for a room URL without an upgrade, 404 JSON for the rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Counts shown by `GET /`. */
export interface ServerStatus {
  rooms: number;
  participants: number;
  enabled: number;
}

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
export function handleHttpRequest(request: IncomingMessage, response: ServerResponse, status: () => ServerStatus): void {
  const target = request.url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const head = request.method === 'HEAD';
  const readable = request.method === 'GET' || head;
  if (path === '/') {
    if (readable) json(response, 200, { status: 'ok', ...status() }, head);
    else json(response, 405, { error: 'method not allowed' }, head);
  } else if (path.startsWith('/rooms/') && readable) {
    json(response, 426, { error: 'upgrade required: connect with a websocket' }, head);
  } else {
    json(response, 404, { error: 'not found' }, head);
  }
}
