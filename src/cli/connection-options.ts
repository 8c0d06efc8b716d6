/**
 * Connection settings shared by every `roomstate room ...` command: where the
 * server is, which room, and which token. Resolved from options, then
 * roomstate's environment variables, then MeshAgent's.
 *
 * | setting | option | environment (in order) | default |
 * |---|---|---|---|
 * | server URL | `--url` | `ROOMSTATE_URL`, `MESHAGENT_ROOM_URL`, `MESHAGENT_API_URL` | `ws://127.0.0.1:8080` |
 * | room | `--room` | `ROOMSTATE_ROOM`, `MESHAGENT_ROOM` | (required) |
 * | token | `--token` | `ROOMSTATE_TOKEN`, `MESHAGENT_TOKEN` | minted from the secret |
 * | secret | `--secret` | `ROOMSTATE_SECRET` | |
 * | name (minted tokens) | `--name` | | `roomstate-cli` |
 *
 * `--name` or `--secret` on the command line means "mint a token" and wins
 * over a token in the environment. `--project-id` is accepted so that scripts
 * written for `meshagent room messaging` run unchanged; a self-hosted server
 * has no projects, so it is ignored (with a note on stderr).
 */
import { Command, Option } from 'commander';
import { describeValue } from '../errors.js';
import { ROOMS_PATH, webSocketScheme } from '../protocol/room-url.js';
import { CONNECTION_ENV, DEFAULT_URL, fromEnvironment } from '../client/environment.js';
import { durationOption } from './duration.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { note } from './output.js';
import { SECRET_ENV, secretFrom } from './secret.js';
import { TOKEN_ROLES } from './commands/token.js';

export { DEFAULT_URL };
/** Participant name of minted tokens when `--name` is not given. */
export const DEFAULT_NAME = 'roomstate-cli';
/** How long to wait for the room connection by default, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The raw connection options as commander parses them. */
export interface ConnectionOptionValues {
  url?: string;
  room?: string;
  token?: string;
  name?: string;
  secret?: string;
  role: (typeof TOKEN_ROLES)[number];
  connectTimeout: number;
  projectId?: string;
}

/** Resolved settings: everything needed to open a room connection. */
export interface ConnectionSettings {
  /** Base URL (ws: or wss:, no trailing slash); the room URL is `<url>/rooms/<room>`. */
  readonly url: string;
  /** The room name. */
  readonly room: string;
  /** The participant token. */
  readonly token: string;
  /** How long to wait for the room to become ready, in ms. */
  readonly connectTimeoutMs: number;
}

/** Adds the shared connection options to a command. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', `room server base URL; http(s) becomes ws(s) (env: ${CONNECTION_ENV.url.join(', ')}) (default: "${DEFAULT_URL}")`)
    .option('--room <room>', `room name (env: ${CONNECTION_ENV.room.join(', ')})`)
    .option('--token <jwt>', `participant token (env: ${CONNECTION_ENV.token.join(', ')})`)
    .option('--name <name>', `mint a token for this participant name (default: "${DEFAULT_NAME}")`)
    .option('--secret <secret>', `mint a token signed with this secret (env: ${SECRET_ENV})`)
    .addOption(new Option('--role <role>', 'role of a minted token').choices(TOKEN_ROLES).default('user'))
    .addOption(
      new Option('--connect-timeout <duration>', 'how long to wait for the room connection')
        .default(DEFAULT_CONNECT_TIMEOUT_MS, '10s')
        .argParser(durationOption('--connect-timeout')),
    )
    .option('--project-id <id>', 'accepted for MeshAgent CLI compatibility; a self-hosted server ignores it');
}

/**
 * Normalises a server base URL: `http:` becomes `ws:`, `https:` becomes
 * `wss:`, and a trailing slash goes; a query is kept. Throws a usage error for anything else.
 */
export function normaliseBaseUrl(text: string, source = '--url'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${source} ${JSON.stringify(text)} is not a URL; expected something like ${DEFAULT_URL}.`);
  }
  const scheme = webSocketScheme(url.protocol);
  if (!scheme) throw usageError(`${source} ${JSON.stringify(text)} must use ws:, wss:, http: or https:.`);
  if (url.hash) throw usageError(`${source} ${JSON.stringify(text)} must not have a #fragment; give the server's base URL.`);
  const path = url.pathname.replace(/\/+$/, '');
  const rooms = `${path}/`.indexOf(ROOMS_PATH);
  if (rooms !== -1) {
    // A room URL where the base belongs: the client would connect to <url>/rooms/<room> and get a 404.
    const base = `${url.protocol}//${url.host}${path.slice(0, rooms)}`;
    const room = decodeURIComponent(path.slice(rooms + ROOMS_PATH.length).split('/')[0] ?? '');
    throw usageError(
      `${source} ${JSON.stringify(text)} is a room URL, not the server's base URL; pass --url ${base}${room ? ` --room ${JSON.stringify(room)}` : ' and the room with --room'}.`,
    );
  }
  // Query parameters are kept, as the official client keeps them.
  return `${scheme}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`;
}

/** Reads the `room` grant of a token without verifying it (the server verifies). */
async function checkTokenLocally(token: string, room: string): Promise<void> {
  // jose loads when a token is used, so commands without one start without it.
  const { decodeJwt } = await import('jose');
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw usageError(`the token is not a JWT: ${describeValue(token)}.`);
  }
  const grants = Array.isArray(claims.grants) ? (claims.grants as Array<{ name?: unknown; scope?: unknown }>) : [];
  const rooms = grants.filter((g) => g?.name === 'room').map((g) => g.scope);
  if (rooms.length > 0 && !rooms.includes(room)) {
    throw new CliError(ExitCode.Auth, `the token is for room ${describeValue(rooms[0])}, not ${JSON.stringify(room)}.`);
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
    throw new CliError(ExitCode.Auth, `the token expired at ${new Date(claims.exp * 1000).toISOString()}.`);
  }
}

/**
 * Resolves the connection settings, minting a token if needed. Every problem
 * is reported before anything connects: a usage error (exit 1) for missing or
 * malformed settings, an auth error (exit 3) for a token that is for another
 * room or expired.
 */
export async function resolveConnection(options: ConnectionOptionValues, env: NodeJS.ProcessEnv = process.env): Promise<ConnectionSettings> {
  const room = options.room || fromEnvironment(CONNECTION_ENV.room, env);
  if (!room) throw usageError('no room: pass --room or set ROOMSTATE_ROOM.');

  if (options.projectId !== undefined) note(`--project-id ${JSON.stringify(options.projectId)} is ignored: a self-hosted roomstate server has no projects.`);
  const urlText = options.url ?? fromEnvironment(CONNECTION_ENV.url, env) ?? DEFAULT_URL;
  const url = normaliseBaseUrl(urlText, options.url !== undefined ? '--url' : 'the server URL');

  let token: string | undefined = options.token;
  const mintRequested = options.name !== undefined || options.secret !== undefined;
  if (token === undefined && !mintRequested) token = fromEnvironment(CONNECTION_ENV.token, env);
  if (token === undefined) {
    const secret = secretFrom(options.secret, env);
    if (!secret) {
      throw usageError(`no credentials: pass --token, or --secret (or set ROOMSTATE_TOKEN or ${SECRET_ENV}).`);
    }
    const name = options.name ?? DEFAULT_NAME;
    if (!name) throw usageError('--name must not be empty.');
    const { mintToken } = await import('../auth/token.js');
    token = await mintToken({ secret, room, name, role: options.role, ttlSeconds: 3600 });
  } else {
    await checkTokenLocally(token, room);
  }
  return { url, room, token, connectTimeoutMs: options.connectTimeout };
}
