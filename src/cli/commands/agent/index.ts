/**
 * `roomstate agent`: MeshAgent's agent turns from the command line, an echo
 * agent (`serve --echo`) and a caller (`ask`), built on roomstate/agents.
 */
import { Command } from 'commander';
import { askCommand } from './ask.js';
import { serveAgentCommand } from './serve.js';

/** Builds the `agent` command group. */
export function agentCommand(): Command {
  return new Command('agent')
    .description('serve or call an agent over MeshAgent agent turns')
    .addCommand(serveAgentCommand())
    .addCommand(askCommand())
    .addHelpText(
      'after',
      `
Example: (two terminals)
  $ export ROOMSTATE_SECRET=s3cret ROOMSTATE_ROOM=lobby
  $ roomstate agent serve --name echo --echo --delay 150ms
  $ roomstate agent ask --agent echo --steer "and more" "hello there"`,
    );
}
