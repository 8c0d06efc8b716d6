/**
 * The console's HTTP answers: the page shell at `/console`, its script (the
 * bundle `npm run build` writes to `dist/console/app.js`), and
 * `/console/api/whoami`, which tells the page whether a token opens the
 * console (200) or not (403).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONSOLE_PATH } from '../../console/feed-protocol.js';

/** Where the page's script is served. */
export const CONSOLE_SCRIPT_PATH = '/console/app.js';

// Same-origin only: no CDN, no inline script; the diagrams' SVG carries its own <style>.
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>roomstate console</title>
<link rel="icon" href="data:,">
</head>
<body>
<noscript>The roomstate console needs JavaScript.</noscript>
<script type="module" src="${CONSOLE_SCRIPT_PATH}"></script>
</body>
</html>
`;

/** The package root: the nearest directory above this module with a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Path of the built page script. */
export const CONSOLE_BUNDLE_FILE = join(packageRoot(), 'dist', 'console', 'app.js');

let bundle: Promise<Buffer> | undefined;

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  response.end(head ? undefined : body);
}

/** Sends a JSON answer with the console's security headers. */
export function sendJson(response: ServerResponse, status: number, body: unknown, head = false): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(body), head);
}

/** Serves the page or its script; false when `path` is not one of them. */
export async function servePageAsset(path: string, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const head = request.method === 'HEAD';
  if (path === CONSOLE_PATH || path === `${CONSOLE_PATH}/`) {
    send(response, 200, 'text/html; charset=utf-8', PAGE, head);
    return true;
  }
  if (path !== CONSOLE_SCRIPT_PATH) return false;
  bundle ??= readFile(CONSOLE_BUNDLE_FILE);
  try {
    send(response, 200, 'text/javascript; charset=utf-8', await bundle, head);
  } catch {
    bundle = undefined;
    sendJson(response, 503, { error: `the console page is not built (${CONSOLE_BUNDLE_FILE} is missing): run "npm run build".` }, head);
  }
  return true;
}
