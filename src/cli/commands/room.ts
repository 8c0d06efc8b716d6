/**
 * `roomstate room`: commands that join a room as a participant.
 */
import { Command } from 'commander';
import { messagingCommand } from './messaging/index.js';

/** Builds the `room` command group. */
export function roomCommand(): Command {
  return new Command('room')
    .description('join a room as a participant')
    .addCommand(messagingCommand())
    .addHelpText(
      'after',
      `
Example:
  $ roomstate room messaging list --room lobby --secret s3cret`,
    );
}
