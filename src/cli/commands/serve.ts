/**
 * `roomstate serve`: runs a room server until SIGINT/SIGTERM.
 *
 * stdout gets exactly one line, `roomstate listening on ws://HOST:PORT`, once
 * the server listens (scripts and tests parse it; with `--port 0` it shows
 * the real port). Logs (pino JSON) and notes go to stderr.
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { RoomServer, RoomServerAddress, RoomServerOptions } from '../../server/index.js';
import { SERVER_DEFAULTS } from '../../server/options.js';
import { CloseCode } from '../../protocol/close-codes.js';
import { ROOMS_PATH } from '../../protocol/room-url.js';
import { durationOption } from '../duration.js';
import { RoomStateError, RoomStateErrorCode } from '../../errors.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { note, writeLine } from '../output.js';
import { SECRET_ENV, generateSecret, secretFrom } from '../secret.js';
import { withEnvironment } from '../environment.js';
import { watchForStop } from '../shutdown.js';
import { LOG_LEVELS, REDIS_URL_ENV, clusterOptions, limitOptions, limitsFrom, parsePort, wsUrl } from './serve-options.js';

interface ServeOptions {
  host: string;
  port: number;
  secret?: string;
  broadcastToSender: boolean;
  allowedOrigin?: string[];
  heartbeatInterval?: number;
  perMessageDeflate: boolean;
  console: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  shutdownTimeout: number;
  metrics: boolean;
  metricsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  publicUrl?: string;
  redis?: string;
  redisCluster?: string;
  redisLease?: number;
  [limit: string]: unknown;
}

/** Builds the `serve` command. */
export function serveCommand(): Command {
  const command = new Command('serve')
    .description('run a MeshAgent-compatible room server')
    .addOption(new Option('--host <host>', 'interface to listen on').default(SERVER_DEFAULTS.host))
    .addOption(new Option('--port <port>', 'port to listen on; 0 picks a free one').default(SERVER_DEFAULTS.port).argParser(parsePort))
    .option('--secret <secret>', 'HS256 secret participant tokens are signed with; generated if absent')
    .option('--broadcast-to-sender', 'deliver broadcasts to their sender too', false)
    .option('--allowed-origin <origin...>', 'browser Origins allowed to connect (default: all)')
    .addOption(new Option('--heartbeat-interval <duration>', `server ping interval (default: ${SERVER_DEFAULTS.heartbeatIntervalMs / 1000}s)`).argParser(durationOption('--heartbeat-interval')))
    .option('--per-message-deflate', 'negotiate permessage-deflate with clients that ask for it', false)
    .option('--console', 'serve the live console at /console (open it with a token from "roomstate token --admin")', false)
    .addOption(new Option('--log-level <level>', 'log level of the JSON logs on stderr').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--shutdown-timeout <duration>', 'on SIGINT/SIGTERM, how long clients get to finish the close handshake (code 1012) before they are dropped (ws drops a silent peer after 30s at most)')
        .default(SERVER_DEFAULTS.shutdownTimeoutMs, `${SERVER_DEFAULTS.shutdownTimeoutMs / 1000}s`)
        .argParser(durationOption('--shutdown-timeout')),
    )
    .option('--no-metrics', 'do not serve Prometheus metrics at /metrics')
    .addOption(new Option('--metrics-port <port>', 'serve /metrics on this port (plain HTTP) instead of the server\'s own').argParser(parsePort))
    .option('--tls-cert <file>', 'PEM certificate (chain): serve wss:// and https:// directly (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--public-url <url>', 'base URL clients reach this server at, e.g. wss://rooms.example.com (room_url in room_ready)')
    .option('--redis <url>', `join a cluster of nodes on this Redis 7 server, e.g. redis://127.0.0.1:6379 (also ${REDIS_URL_ENV})`)
    .option(
      '--redis-cluster <urls>',
      'join a cluster of nodes on this Redis 7 Cluster: some of its nodes, comma-separated, e.g. redis://10.0.0.1:7000,redis://10.0.0.2:7000',
    )
    .addOption(
      new Option('--redis-lease <duration>', "how long a silent node's participants stay before every other node drops them (default: 5s)")
        .argParser(durationOption('--redis-lease')),
    );
  for (const option of limitOptions()) command.addOption(option);
  withEnvironment(command, { port: 'PORT', host: 'HOST', redis: REDIS_URL_ENV });
  return command
    .addHelpText(
      'after',
      `
Example:
  $ roomstate serve --port 8080
  roomstate listening on ws://127.0.0.1:8080

  Clients connect to ws://127.0.0.1:8080${ROOMS_PATH}<room> with a token from
  "roomstate token". SIGINT or SIGTERM closes every connection with code ${CloseCode.ServiceRestart}
  (service restart) and exits 0.

  Every option can also come from the environment: ROOMSTATE_<OPTION> (e.g.
  ROOMSTATE_MAX_ROOMS=100, ROOMSTATE_METRICS=false), and PORT and HOST.`,
    )
    .action(async (options: ServeOptions) => {
      await serve(options);
    });
}

async function serve(options: ServeOptions): Promise<void> {
  const stop = watchForStop();
  const given = secretFrom(options.secret);
  const secret = given ?? generateSecret();
  // Loaded here, not at the top: every other command starts without the server, pino and prom-client.
  const [{ pino }, { createRoomServer }] = await Promise.all([import('pino'), import('../../server/index.js')]);
  const logger = pino({ name: 'roomstate', level: options.logLevel }, pino.destination({ dest: 2, sync: true }));
  const redis = clusterOptions(options.redis, options.redisCluster, options.redisLease);
  let server: RoomServer;
  try {
    server = createRoomServer({
      secret,
      host: options.host,
      port: options.port,
      logger,
      broadcastToSender: options.broadcastToSender,
      allowedOrigins: options.allowedOrigin,
      heartbeatIntervalMs: options.heartbeatInterval,
      perMessageDeflate: options.perMessageDeflate,
      console: options.console,
      limits: limitsFrom(options),
      metrics: options.metrics && (options.metricsPort === undefined ? true : { port: options.metricsPort }),
      tls: tlsFrom(options),
      publicUrl: options.publicUrl,
      redis,
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(ExitCode.Usage, `invalid server options: ${(error as Error).message}`, { cause: error });
  }
  let address: RoomServerAddress;
  try {
    address = await server.listen();
  } catch (error) {
    if (error instanceof RoomStateError && error.code === RoomStateErrorCode.ClusterUnavailable) {
      throw new CliError(ExitCode.Connection, error.message, { cause: error });
    }
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(ExitCode.Connection, `cannot listen on ${wsUrl(options.host, options.port)}: ${why}.`, { cause: error });
  }
  const url = address.url;
  if (!given) {
    note(`no secret given (--secret or ${SECRET_ENV}); this run uses a random one:
  export ${SECRET_ENV}=${secret}
  roomstate token --room lobby --name alice
  roomstate room messaging list --url ${url} --room lobby`);
  }
  if (options.console) note(`console at ${url.replace(/^ws/, 'http')}/console (admin token: roomstate token --admin)`);
  await writeLine(process.stdout, `roomstate listening on ${url}`);

  const reason = await stop.stopped;
  logger.info({ reason }, 'shutting down');
  // Bounded: if close() somehow hangs past its own timeout, exit anyway.
  const deadline = setTimeout(() => {
    note('shutdown did not finish in time, exiting.');
    process.exit(ExitCode.Failure);
  }, options.shutdownTimeout + 5000);
  deadline.unref();
  await server.close({ timeoutMs: options.shutdownTimeout });
  clearTimeout(deadline);
  logger.info('stopped');
}

/** Reads `--tls-cert` and `--tls-key` (both or neither). */
function tlsFrom(options: ServeOptions): RoomServerOptions['tls'] {
  if (options.tlsCert === undefined && options.tlsKey === undefined) return undefined;
  if (options.tlsCert === undefined || options.tlsKey === undefined) {
    throw new CliError(ExitCode.Usage, `--tls-cert and --tls-key go together; got only ${options.tlsCert === undefined ? '--tls-key' : '--tls-cert'}.`);
  }
  return { cert: readPem('--tls-cert', options.tlsCert), key: readPem('--tls-key', options.tlsKey) };
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(ExitCode.Usage, `cannot read ${flag} ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, { cause: error });
  }
}
