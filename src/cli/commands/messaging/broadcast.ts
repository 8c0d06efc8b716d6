/**
 * `roomstate room messaging broadcast`: sends a message to every
 * messaging-enabled participant in the room.
 */
import { Command } from 'commander';
import { addConnectionOptions, resolveConnection, type ConnectionOptionValues } from '../../connection-options.js';
import { usageError } from '../../exit-codes.js';
import { note } from '../../output.js';
import { messageInputOptions, readMessageInput } from './message-input.js';
import { cliErrorFrom, openRoom } from './session.js';

/** The default broadcast type, as in MeshAgent's CLI. */
export const DEFAULT_BROADCAST_TYPE = 'chat.broadcast';

interface BroadcastOptions extends ConnectionOptionValues {
  type: string;
  data: string;
  attachmentFile?: string;
}

/** Builds the `broadcast` command. */
export function broadcastCommand(): Command {
  const command = new Command('broadcast')
    .description('send a message to every messaging-enabled participant')
    .option('--type <type>', 'message type', DEFAULT_BROADCAST_TYPE);
  for (const option of messageInputOptions()) command.addOption(option);
  return addConnectionOptions(command)
    .addHelpText(
      'after',
      `
The broadcaster does not enable messaging itself, so it never shows up in
anyone's presence. With --data -, every JSON object read from stdin is
broadcast as one message.

Example:
  $ roomstate room messaging broadcast --room lobby --secret s3cret --data '{"text":"hello everyone"}'
  roomstate: broadcast 1 message of type "chat.broadcast" to room "lobby".`,
    )
    .action(async (options: BroadcastOptions) => {
      if (options.type === '') throw usageError('--type must not be empty.');
      const settings = await resolveConnection(options);
      const input = await readMessageInput(options);
      const room = await openRoom(settings);
      try {
        let sent = 0;
        const broadcast = async (message: unknown) => {
          try {
            await room.client.messaging.broadcastMessage({ type: options.type, message, ...(input.attachment ? { attachment: input.attachment } : {}) });
          } catch (error) {
            throw cliErrorFrom(error, settings, sent === 0 ? 'broadcasting the message' : `broadcasting message ${sent + 1}`);
          }
          sent++;
        };
        await broadcast(input.first);
        for await (const message of input.rest) await broadcast(message);
        note(`broadcast ${sent} message${sent === 1 ? '' : 's'} of type ${JSON.stringify(options.type)} to room ${JSON.stringify(settings.room)}.`);
      } finally {
        await room.leave();
      }
    });
}
