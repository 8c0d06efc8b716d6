/**
 * The `roomstate` command tree. Kept apart from `main.ts` (which owns the
 * process) so that it can be built and inspected without side effects.
 */
import { Command } from 'commander';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { roomCommand } from './commands/room.js';
import { machinesCommand } from './commands/machines.js';
import { agentCommand } from './commands/agent/index.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import { writeLine } from './output.js';
import { CLI_VERSION } from './version.js';

/**
 * Builds the `roomstate` program with all its subcommands.
 *
 * @example
 * ```ts
 * await createProgram().parseAsync(['node', 'roomstate', 'token', '--room', 'r', '--name', 'n']);
 * ```
 */
export function createProgram(): Command {
  const program = new Command('roomstate')
    .description('A MeshAgent-compatible room messaging server, and a CLI to use it.')
    .version(CLI_VERSION, '-V, --version')
    .addCommand(serveCommand())
    .addCommand(tokenCommand())
    .addCommand(roomCommand())
    .addCommand(agentCommand())
    .addCommand(machinesCommand())
    .addCommand(versionCommand())
    .addHelpText(
      'after',
      `
Example:
  $ roomstate serve --port 8080 --secret s3cret &
  $ export ROOMSTATE_SECRET=s3cret ROOMSTATE_ROOM=lobby
  $ roomstate room messaging listen --name alice &
  $ roomstate room messaging broadcast --data '{"text":"hello"}'

Connection settings for "room" commands come from options, then ROOMSTATE_URL,
ROOMSTATE_TOKEN, ROOMSTATE_SECRET, ROOMSTATE_ROOM, then MESHAGENT_ROOM_URL,
MESHAGENT_TOKEN, MESHAGENT_ROOM.

${EXIT_CODES_HELP}`,
    );
  applyToTree(program, (command) =>
    command.exitOverride().configureOutput({ outputError: (text, write) => write(`${commanderErrorLine(text, command)}\n`) }),
  );
  return program;
}

/**
 * Commander's error text (`error: unknown option '--x'` and maybe a second
 * line `(Did you mean --y?)`) as the CLI's one line: `roomstate: unknown
 * option '--x' (Did you mean --y?); see "roomstate serve --help".`
 */
export function commanderErrorLine(text: string, command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent) names.unshift(current.name());
  const message = text.trim().replace(/^error: /, '').split('\n').map((line) => line.trim()).filter(Boolean).join(' ').replace(/\.$/, '');
  return `roomstate: ${message}; see "${names.join(' ')} --help".`;
}

/** `roomstate version`: the package version on stdout (as `--version`). */
function versionCommand(): Command {
  return new Command('version').description('print the roomstate version').action(() => writeLine(process.stdout, CLI_VERSION));
}

/** Applies commander settings that subcommands do not inherit from `addCommand`. */
function applyToTree(command: Command, apply: (command: Command) => void): void {
  apply(command);
  for (const sub of command.commands) applyToTree(sub, apply);
}
