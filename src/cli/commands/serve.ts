/**
 * `roomstate serve`: runs a room server until SIGINT/SIGTERM.
 *
 * stdout gets exactly one line, `roomstate listening on ws://HOST:PORT`, once
 * the server listens (scripts and tests parse it; with `--port 0` it shows
 * the real port). Logs (pino JSON) and notes go to stderr.
 */
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { createRoomServer } from '../../server/index.js';
import { durationOption } from '../duration.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { note, writeLine } from '../output.js';
import { SECRET_ENV, generateSecret, secretFrom } from '../secret.js';
import { watchForStop } from '../shutdown.js';
import { LOG_LEVELS, limitOptions, limitsFrom, parsePort, wsUrl } from './serve-options.js';

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
  [limit: string]: unknown;
}

/** Builds the `serve` command. */
export function serveCommand(): Command {
  const command = new Command('serve')
    .description('run a MeshAgent-compatible room server')
    .addOption(new Option('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on; 0 picks a free one').default(8080).argParser(parsePort))
    .option('--secret <secret>', `HS256 secret participant tokens are signed with (env: ${SECRET_ENV}); generated if absent`)
    .option('--broadcast-to-sender', 'deliver broadcasts to their sender too', false)
    .option('--allowed-origin <origin...>', 'browser Origins allowed to connect (default: all)')
    .addOption(new Option('--heartbeat-interval <duration>', 'server ping interval (default: 30s)').argParser(durationOption('--heartbeat-interval')))
    .option('--per-message-deflate', 'negotiate permessage-deflate with clients that ask for it', false)
    .option('--console', 'serve the live console at /console (open it with a token from "roomstate token --admin")', false)
    .addOption(new Option('--log-level <level>', 'log level of the JSON logs on stderr').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--shutdown-timeout <duration>', 'how long SIGINT/SIGTERM waits for clients to go before closing them')
        .default(5000, '5s')
        .argParser(durationOption('--shutdown-timeout')),
    );
  for (const option of limitOptions()) command.addOption(option);
  return command
    .addHelpText(
      'after',
      `
Example:
  $ roomstate serve --port 8080
  roomstate listening on ws://127.0.0.1:8080

  Clients connect to ws://127.0.0.1:8080/rooms/<room> with a token from
  "roomstate token". SIGINT or SIGTERM closes every connection with code 1012
  (service restart) and exits 0.`,
    )
    .action(async (options: ServeOptions) => {
      await serve(options);
    });
}

async function serve(options: ServeOptions): Promise<void> {
  const stop = watchForStop();
  const given = secretFrom(options.secret);
  const secret = given ?? generateSecret();
  const logger = pino({ name: 'roomstate', level: options.logLevel }, pino.destination({ dest: 2, sync: true }));
  let server: ReturnType<typeof createRoomServer>;
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
    });
  } catch (error) {
    throw new CliError(ExitCode.Usage, `invalid server options: ${(error as Error).message}`, { cause: error });
  }
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(ExitCode.Connection, `cannot listen on ${wsUrl(options.host, options.port)}: ${why}.`, { cause: error });
  }
  const url = wsUrl(address.host, address.port);
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
