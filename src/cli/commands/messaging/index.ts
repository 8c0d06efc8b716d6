/**
 * `roomstate room messaging`: list, send, broadcast and listen, built on
 * roomstate's own client (src/client/node.ts).
 */
import { Command } from 'commander';
import { broadcastCommand } from './broadcast.js';
import { listCommand } from './list.js';
import { listenCommand } from './listen.js';
import { sendCommand } from './send.js';

/** Builds the `room messaging` command group. */
export function messagingCommand(): Command {
  return new Command('messaging')
    .description('participant-to-participant messages and presence')
    .addCommand(listCommand())
    .addCommand(sendCommand())
    .addCommand(broadcastCommand())
    .addCommand(listenCommand())
    .addHelpText(
      'after',
      `
Example:
  $ export ROOMSTATE_SECRET=s3cret ROOMSTATE_ROOM=lobby
  $ roomstate room messaging listen --name alice &
  $ roomstate room messaging send --name bob --to-participant-name alice --type chat --data '{"text":"hi"}'`,
    );
}
