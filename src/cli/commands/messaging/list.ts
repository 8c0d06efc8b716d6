/**
 * `roomstate room messaging list`: prints the messaging-enabled participants
 * as a JSON array of `{ id, role, attributes }`.
 */
import { Command, Option } from 'commander';
import { addConnectionOptions, resolveConnection, type ConnectionOptionValues } from '../../connection-options.js';
import { durationOption } from '../../duration.js';
import { note, writeLine } from '../../output.js';
import { participantJson } from './participant-json.js';
import { DEFAULT_PRESENCE_WAIT_MS, enableMessaging, openRoom, waitForParticipant } from './session.js';

interface ListOptions extends ConnectionOptionValues {
  wait: number;
}

/** Builds the `list` command. */
export function listCommand(): Command {
  const command = new Command('list')
    .description('print the messaging-enabled participants as a JSON array of { id, role, attributes }')
    .addOption(
      new Option('--wait <duration>', 'while the room looks empty, wait this long for someone to enable messaging')
        .default(DEFAULT_PRESENCE_WAIT_MS, '3s')
        .argParser(durationOption('--wait')),
    );
  return addConnectionOptions(command)
    .addHelpText(
      'after',
      `
The list is the server's presence snapshot, taken once this command has
enabled messaging (it is not in the list itself). If nobody is there yet,
it waits up to --wait for a first participant, as MeshAgent's CLI does.

Example:
  $ roomstate room messaging list --room lobby --secret s3cret
  [
    {
      "id": "a7f80782-46b5-48b9-b7c5-c1d0f748819f",
      "role": "user",
      "attributes": {
        "name": "alice"
      }
    }
  ]`,
    )
    .action(async (options: ListOptions) => {
      const settings = await resolveConnection(options);
      const room = await openRoom(settings);
      try {
        await enableMessaging(room);
        const messaging = room.client.messaging;
        await waitForParticipant(room, (participants) => participants[0], options.wait);
        const participants = messaging.getParticipants().map(participantJson);
        if (participants.length === 0) note(`nobody in room ${JSON.stringify(settings.room)} has messaging enabled (waited ${options.wait / 1000}s); is the room name right?`);
        await writeLine(process.stdout, JSON.stringify(participants, null, 2));
      } finally {
        await room.leave();
      }
    });
}
