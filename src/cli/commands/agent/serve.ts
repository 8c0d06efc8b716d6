/**
 * `roomstate agent serve`: joins a room as an agent that serves MeshAgent
 * turns (`supports_agent_messages`) until SIGINT/SIGTERM. Built in: `--echo`.
 * One NDJSON line per turn start and end on stdout.
 */
import { Command, Option } from 'commander';
import { addConnectionOptions, resolveConnection, type ConnectionOptionValues } from '../../connection-options.js';
import { durationOption } from '../../duration.js';
import { usageError } from '../../exit-codes.js';
import { note } from '../../output.js';
import { watchForStop } from '../../shutdown.js';
import { RoomClosedError, USER_END } from '../../../client/errors.js';
import { cliErrorFrom, openRoom, reconnectTimeoutOption } from '../messaging/session.js';

interface ServeAgentOptions extends ConnectionOptionValues {
  echo?: boolean;
  delay: number;
  reconnectTimeout: number;
}

/** Builds the `agent serve` command. */
export function serveAgentCommand(): Command {
  const command = new Command('serve')
    .description('serve agent turns in a room until interrupted (built in: --echo)')
    .option('--echo', 'echo each turn\'s text back in three deltas; steers append their text; interrupts cancel')
    .addOption(new Option('--delay <duration>', 'pause before each delta and before the end').default(150, '150ms').argParser(durationOption('--delay')))
    .addOption(reconnectTimeoutOption());
  return addConnectionOptions(command)
    .addHelpText(
      'after',
      `
The agent is the participant named by the token (--name when minting); callers
find it by that name. One JSON object a line on stdout:
  {"event":"turn.started","thread_id":T,"turn_id":ID,"sender":NAME,"text":TEXT}
  {"event":"turn.ended","thread_id":T,"turn_id":ID,"outcome":"ended"|"cancelled"}
SIGINT/SIGTERM cancels running turns, leaves the room and exits 0.

Example:
  $ roomstate agent serve --room lobby --secret s3cret --name echo --echo --delay 150ms`,
    )
    .action(async (options: ServeAgentOptions) => {
      if (!options.echo) throw usageError('choose what the agent does: --echo is the one built-in agent (use roomstate/agents\' serveAgent for others).');
      const settings = await resolveConnection(options);
      const stop = watchForStop({ watchStdout: true });
      const room = await openRoom(settings, { reconnectTimeoutMs: options.reconnectTimeout });
      // The agents module (RxJS, the machines) loads when an agent runs.
      const [{ serveAgent }, { echoTurn }] = await Promise.all([import('../../../agents/index.js'), import('./echo.js')]);
      const echo = echoTurn(options.delay);
      try {
        const line = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
        const agent = await serveAgent({
          room: room.client,
          onTurn: async (turn) => {
            line({ event: 'turn.started', thread_id: turn.threadId, turn_id: turn.turnId, sender: turn.sender.name ?? turn.sender.id, text: turn.text });
            await echo(turn);
            line({ event: 'turn.ended', thread_id: turn.threadId, turn_id: turn.turnId, outcome: turn.signal.aborted ? 'cancelled' : 'ended' });
          },
        }).catch((error: unknown) => {
          throw cliErrorFrom(error, settings, 'serving the agent');
        });
        const name = room.client.localParticipant.getAttribute('name');
        note(`serving agent ${JSON.stringify(name)} in room ${JSON.stringify(settings.room)} as participant ${room.client.localParticipant.id} (Ctrl-C to stop).`);
        const outcome = await Promise.race([stop.stopped.then(() => 'stopped' as const), room.client.waitForClose().then(() => 'closed' as const)]);
        await agent.stop();
        if (outcome === 'closed') throw cliErrorFrom(new RoomClosedError(room.client.closeReason ?? USER_END, 'serving the agent'), settings, 'serving the agent');
      } finally {
        await room.leave();
        stop.dispose();
      }
    });
}
