/**
 * `roomstate room messaging listen`: stays in the room with messaging enabled
 * and prints every incoming message and presence change as one JSON object
 * a line (NDJSON) until SIGINT/SIGTERM, then leaves cleanly and exits 0.
 */
import { Command } from 'commander';
import { addConnectionOptions, resolveConnection, type ConnectionOptionValues } from '../../connection-options.js';
import { note } from '../../output.js';
import { watchForStop } from '../../shutdown.js';
import { RoomClosedError, USER_END } from '../../../client/errors.js';
import { cliErrorFrom, enableMessaging, openRoom, reconnectTimeoutOption } from './session.js';

interface ListenOptions extends ConnectionOptionValues {
  type?: string[];
  presence: boolean;
  reconnectTimeout: number;
}

/** Builds the `listen` command. */
export function listenCommand(): Command {
  const command = new Command('listen')
    .description('print incoming messages and presence changes as NDJSON until interrupted')
    .option('--type <type...>', 'print only messages of these types (presence events are always printed)')
    .option('--no-presence', 'do not print presence events')
    .addOption(reconnectTimeoutOption());
  return addConnectionOptions(command)
    .addHelpText(
      'after',
      `
One JSON object a line on stdout:
  {"event":"participant_added","id":ID,"role":ROLE,"attributes":{...}}
  {"event":"participant_removed","id":ID,"role":ROLE,"attributes":{...}}
  {"event":"participant_attributes_updated","id":ID,"role":ROLE,"changed":{...},"attributes":{...}}
  {"event":"message","from":ID,"from_name":NAME,"type":T,"message":{...},"attachment_base64":B64}
from_name is present when the sender is messaging-enabled; attachment_base64 when
there is an attachment. Participants already in the room arrive first as
participant_added. Once ready, a note with this participant's id goes to stderr.
SIGINT/SIGTERM leaves the room and exits 0.

Example:
  $ roomstate room messaging listen --room lobby --secret s3cret --name alice
  {"event":"participant_added","id":"f972ab9e-2530-4085-acd5-f09eb23804a4","role":"user","attributes":{"name":"bob"}}
  {"event":"message","from":"f972ab9e-2530-4085-acd5-f09eb23804a4","from_name":"bob","type":"chat","message":{"text":"hi"}}

  $ roomstate room messaging listen --room lobby --type chat | jq -r '.message.text'`,
    )
    .action(async (options: ListenOptions) => {
      const settings = await resolveConnection(options);
      const stop = watchForStop({ watchStdout: true });
      const room = await openRoom(settings, { reconnectTimeoutMs: options.reconnectTimeout });
      // RxJS is loaded when listening starts, so other commands start without it.
      const { events, reconnectNotes } = await import('./listen-events.js');
      try {
        const subscription = events(room, options).subscribe((event) => {
          process.stdout.write(`${JSON.stringify(event)}\n`);
        });
        subscription.add(reconnectNotes(room));
        await enableMessaging(room);
        note(`listening in room ${JSON.stringify(settings.room)} as participant ${room.client.localParticipant.id} (Ctrl-C to stop).`);
        const outcome = await Promise.race([stop.stopped.then(() => 'stopped' as const), room.client.waitForClose().then(() => 'closed' as const)]);
        subscription.unsubscribe();
        if (outcome === 'closed') throw cliErrorFrom(new RoomClosedError(room.client.closeReason ?? USER_END, 'listening'), settings, 'listening');
      } finally {
        await room.leave();
        stop.dispose();
      }
    });
}
