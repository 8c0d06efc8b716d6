/**
 * `roomstate token`: mints a participant JWT that roomstate and the official
 * MeshAgent clients accept, an admin token for the console, or an API key
 * for the official `meshagent` CLI.
 */
import { Command, Option } from 'commander';
import { durationOption } from '../duration.js';
import { usageError } from '../exit-codes.js';
import { SECRET_ENV, secretFrom } from '../secret.js';
import { writeLine } from '../output.js';
import { DEFAULT_API_KEY_PROJECT } from '../../protocol/accounts.js';

interface TokenOptions {
  room?: string;
  name?: string;
  admin: boolean;
  inspect: boolean;
  apiKey: boolean;
  project?: string;
  role: 'user' | 'agent' | 'tool';
  ttl: number;
  secret?: string;
}

/** Roles a minted token can carry. */
export const TOKEN_ROLES = ['user', 'agent', 'tool'] as const;

/** Builds the `token` command. */
export function tokenCommand(): Command {
  return new Command('token')
    .description('print a participant token (JWT) for a room, or an admin token for the console, signed with the shared secret')
    .addOption(new Option('--room <room>', 'room the token admits to (env: ROOMSTATE_ROOM)'))
    .option('--name <name>', 'participant name, published as the "name" attribute (required unless --admin or --inspect)')
    .addOption(new Option('--admin', 'mint an admin token instead: opens the console of "serve --console"').default(false).conflicts(['room', 'role', 'inspect']))
    .addOption(new Option('--inspect', 'mint a token that may only send client inspection events to the console').default(false).conflicts(['room', 'role']))
    .addOption(
      new Option('--api-key', 'mint an API key instead, for the official meshagent CLI (MESHAGENT_API_KEY): it obtains room tokens for --name')
        .default(false)
        .conflicts(['room', 'role', 'admin', 'inspect']),
    )
    .option('--project <id>', `with --api-key: the project id the key is for, the CLI's MESHAGENT_PROJECT_ID (default: "${DEFAULT_API_KEY_PROJECT}")`)
    .addOption(new Option('--role <role>', 'participant role').choices(TOKEN_ROLES).default('user'))
    .addOption(
      new Option('--ttl <duration>', 'lifetime: seconds, or 30s, 15m, 1h, 7d; 0 for no expiry')
        .default(3_600_000, '1h')
        .argParser(durationOption('--ttl')),
    )
    .option('--secret <secret>', `HS256 signing secret (env: ${SECRET_ENV})`)
    .addHelpText(
      'after',
      `
Example:
  $ export ${SECRET_ENV}=s3cret
  $ roomstate token --room lobby --name alice --ttl 15m
  eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...
  $ roomstate token --admin
  eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...
  $ export MESHAGENT_API_KEY=$(roomstate token --api-key --name cli --ttl 7d)

  The token works with roomstate's client and CLI (--token) and with the
  official MeshAgent clients (MESHAGENT_TOKEN). An API key works with the
  official meshagent CLI, with MESHAGENT_API_URL=http://<server> and
  MESHAGENT_PROJECT_ID=<its project>; no room admits it as a token.`,
    )
    .action(async (options: TokenOptions) => {
      const secret = secretFrom(options.secret);
      if (!secret) throw usageError(`no secret: pass --secret or set ${SECRET_ENV} (the secret the server was started with).`);
      const ttlSeconds = options.ttl / 1000;
      if (options.project !== undefined && !options.apiKey) throw usageError('--project goes with --api-key.');
      if (options.apiKey) {
        if (options.name === undefined) throw usageError('no name: pass --name, the participant name the key connects as.');
        const { mintApiKey } = await import('../../auth/api-key.js');
        await writeLine(process.stdout, await mintApiKey({ secret, name: options.name, ttlSeconds, ...(options.project === undefined ? {} : { project: options.project }) }));
        return;
      }
      if (options.admin || options.inspect) {
        const scope = options.admin ? 'console' : 'inspect';
        const { mintAdminToken } = await import('../../auth/token.js');
        await writeLine(process.stdout, await mintAdminToken({ secret, scope, ttlSeconds, ...(options.name === undefined ? {} : { name: options.name }) }));
        return;
      }
      const room = options.room ?? process.env.ROOMSTATE_ROOM;
      if (!room) throw usageError('no room: pass --room or set ROOMSTATE_ROOM.');
      if (options.name === undefined) throw usageError('no name: pass --name (or --admin for a console token).');
      const { mintToken } = await import('../../auth/token.js');
      const token = await mintToken({ secret, room, name: options.name, role: options.role, ttlSeconds });
      await writeLine(process.stdout, token);
    });
}
