/**
 * `roomstate room messaging send`: sends a message to one participant, found
 * by id or by its `name` attribute.
 */
import { Command, Option } from 'commander';
import type { RemoteParticipant } from '../../../client/node.js';
import { addConnectionOptions, resolveConnection, type ConnectionOptionValues } from '../../connection-options.js';
import { durationOption } from '../../duration.js';
import { CliError, ExitCode, usageError } from '../../exit-codes.js';
import { note } from '../../output.js';
import { messageInputOptions, readMessageInput } from './message-input.js';
import { participantName } from './participant-json.js';
import { DEFAULT_PRESENCE_WAIT_MS, cliErrorFrom, enableMessaging, openRoom, waitForParticipant } from './session.js';

interface SendOptions extends ConnectionOptionValues {
  toParticipantId?: string;
  toParticipantName?: string;
  type: string;
  data: string;
  attachmentFile?: string;
  wait: number;
}

/** Builds the `send` command. */
export function sendCommand(): Command {
  const command = new Command('send')
    .description('send a message to one messaging-enabled participant')
    .option('--to-participant-id <id>', 'recipient participant id (see "list")')
    .option('--to-participant-name <name>', 'recipient, found by its "name" attribute')
    .requiredOption('--type <type>', 'message type, e.g. chat');
  for (const option of messageInputOptions()) command.addOption(option);
  command.addOption(
    new Option('--wait <duration>', 'how long to wait for the recipient to be messaging-enabled')
      .default(DEFAULT_PRESENCE_WAIT_MS, '3s')
      .argParser(durationOption('--wait')),
  );
  return addConnectionOptions(command)
    .addHelpText(
      'after',
      `
Unknown recipient: one line on stderr, exit code 4, nothing sent.
With --data -, every JSON object read from stdin is sent as one message.

Example:
  $ roomstate room messaging send --room lobby --secret s3cret \\
      --to-participant-name alice --type chat --data '{"text":"hi"}'
  roomstate: sent 1 message to participant a7f80782-46b5-48b9-b7c5-c1d0f748819f ("alice").

  $ roomstate room messaging listen --room lobby --name echo \\
      | jq -c --unbuffered 'select(.event == "message") | .message' \\
      | roomstate room messaging send --room lobby --to-participant-name alice --type echo --data -`,
    )
    .action(async (options: SendOptions) => {
      if ((options.toParticipantId === undefined) === (options.toParticipantName === undefined)) {
        throw usageError('give exactly one of --to-participant-id and --to-participant-name.');
      }
      if (options.type === '') throw usageError('--type must not be empty.');
      const settings = await resolveConnection(options);
      const input = await readMessageInput(options);
      const room = await openRoom(settings);
      try {
        await enableMessaging(room);
        const messaging = room.client.messaging;
        const find = (participants: readonly RemoteParticipant[]): RemoteParticipant | undefined =>
          options.toParticipantId !== undefined
            ? participants.find((participant) => participant.id === options.toParticipantId)
            : participants.find((participant) => participant.getAttribute('name') === options.toParticipantName);
        const target = await waitForParticipant(room, find, options.wait);
        if (target === null) {
          const who = options.toParticipantId !== undefined ? `with id ${JSON.stringify(options.toParticipantId)}` : `named ${JSON.stringify(options.toParticipantName)}`;
          throw new CliError(ExitCode.NotFound, `no messaging-enabled participant ${who} in room ${JSON.stringify(settings.room)}; nothing sent.`);
        }
        let sent = 0;
        const send = async (message: unknown) => {
          try {
            await messaging.sendMessage({ to: target.id, type: options.type, message, ...(input.attachment ? { attachment: input.attachment } : {}) });
          } catch (error) {
            throw cliErrorFrom(error, settings, sent === 0 ? 'sending the message' : `sending message ${sent + 1}`);
          }
          sent++;
        };
        await send(input.first);
        for await (const message of input.rest) await send(message);
        const name = participantName(target);
        note(`sent ${sent} message${sent === 1 ? '' : 's'} to participant ${target.id}${name === undefined ? '' : ` (${JSON.stringify(name)})`}.`);
      } finally {
        await room.leave();
      }
    });
}
