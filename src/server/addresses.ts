/**
 * The URLs a room server reports: its bound address, and the `room_url` in
 * `room_ready` (fixed by `publicUrl` behind a proxy, else built from the Host
 * header with the scheme the server speaks).
 */
import type { IncomingMessage } from 'node:http';
import { ValidationError } from '../errors.js';

/** Formats `scheme://host:port`, with IPv6 hosts in brackets. */
export function formatUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/**
 * Checks a public base URL: `ws://` or `wss://`, a host, no query or
 * fragment; returns it without a trailing slash.
 */
export function checkPublicUrl(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new ValidationError('publicUrl', `publicUrl ${JSON.stringify(publicUrl)} is not a URL; expected e.g. "wss://rooms.example.com".`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ValidationError('publicUrl', `publicUrl ${JSON.stringify(publicUrl)} must start with ws:// or wss://.`);
  }
  if (url.search !== '' || url.hash !== '') throw new ValidationError('publicUrl', `publicUrl ${JSON.stringify(publicUrl)} must not have a query or fragment.`);
  return publicUrl.replace(/\/+$/, '');
}

/** The base URL a client used, from its Host header (or `fallback` without one). */
export function requestBaseUrl(request: IncomingMessage, secure: boolean, fallback: string): string {
  const host = request.headers.host;
  return host ? `${secure ? 'wss' : 'ws'}://${host}` : fallback;
}
