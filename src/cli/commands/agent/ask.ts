/**
 * `roomstate agent ask`: opens a thread with an agent, starts one turn,
 * optionally steers or interrupts it after the first delta, and prints each
 * agent event of the turn as one NDJSON line. Exit 0 on a clean end; 6
 * rejected, 7 interrupted, 8 timed out, 9 agent left (one stderr line each).
 */
import { Command, Option } from 'commander';
import { addConnectionOptions, resolveConnection, type ConnectionOptionValues } from '../../connection-options.js';
import { durationOption } from '../../duration.js';
import { CliError, ExitCode, usageError } from '../../exit-codes.js';
import { note } from '../../output.js';
import { watchForStop } from '../../shutdown.js';
import { cliErrorFrom, enableMessaging, openRoom } from '../messaging/session.js';
import { turnExit } from './turn-exit.js';

interface AskOptions extends ConnectionOptionValues {
  agent: string;
  thread?: string;
  steer?: string;
  interrupt?: boolean;
  file?: string[];
  model?: string;
  timeout: number;
}

/** How long `ask` waits for the agent to appear in the room. */
const FIND_TIMEOUT_MS = 10_000;

/** Builds the `agent ask` command. */
export function askCommand(): Command {
  const command = new Command('ask')
    .description('start one turn with an agent and print its events as NDJSON')
    .argument('<text>', 'the turn\'s input text')
    .requiredOption('--agent <name>', 'the agent, by its "name" attribute')
    .option('--thread <id>', 'the thread to use (default: a new one, printed on stderr)')
    .option('--file <url...>', 'files to send with the text, as URLs')
    .option('--model <name>', 'the model to ask the agent for (turn.start "model")')
    .option('--steer <text>', 'steer the turn with this text after its first delta')
    .option('--interrupt', 'interrupt the turn after its first delta')
    .addOption(new Option('--timeout <duration>', 'longest time for the whole turn').default(60_000, '60s').argParser(durationOption('--timeout')));
  return addConnectionOptions(command)
    .addHelpText(
      'after',
      `
One JSON object a line on stdout: each agent message of the turn as it came
(meshagent.agent.turn.start.accepted, …turn.started, …text_content.delta, …,
…turn.ended). SIGINT interrupts the turn.

Exit codes: 0 clean end; 4 no such agent; 5 the turn ended with an error;
6 rejected (the line names the agent's code); 7 interrupted; 8 timed out;
9 the agent left.

Example:
  $ roomstate agent ask --room lobby --secret s3cret --agent echo --steer "more" "hello"`,
    )
    .action(async (text: string, options: AskOptions) => {
      if (options.steer !== undefined && options.interrupt) throw usageError('give --steer or --interrupt, not both.');
      if (!(options.timeout > 0)) throw usageError('--timeout must be more than 0.');
      const settings = await resolveConnection(options);
      const stop = watchForStop({ watchStdout: true });
      const room = await openRoom(settings);
      const agents = await import('../../../agents/index.js');
      try {
        await enableMessaging(room);
        const participant = await agents.findAgent(room.client, options.agent, { timeout: Math.min(FIND_TIMEOUT_MS, options.timeout) }).catch(() => {
          throw new CliError(ExitCode.NotFound, `no agent named ${JSON.stringify(options.agent)} (a participant with supports_agent_messages) in room ${JSON.stringify(settings.room)}.`);
        });
        const threadId = options.thread ?? agents.newThreadId();
        if (options.thread === undefined) note(`thread ${threadId}`);
        const thread = new agents.AgentThread(room.client, participant, { threadId });
        await thread.open().catch((error: unknown) => {
          throw cliErrorFrom(error, settings, 'opening the thread');
        });
        const turn = thread.startTurn({
          text,
          files: options.file ?? [],
          fields: { model: options.model },
          timeout: options.timeout,
          answerTimeout: Math.min(30_000, options.timeout),
        });
        let acted = false;
        turn.events$.subscribe((event) => {
          process.stdout.write(`${JSON.stringify(event.message)}\n`);
          if (acted || event.kind !== 'text.delta') return;
          acted = true;
          if (options.interrupt) turn.interrupt();
          if (options.steer !== undefined) turn.steer(options.steer).catch((error: Error) => note(`steer not applied: ${error.message}`));
        });
        void stop.stopped.then(() => turn.interrupt());
        try {
          await turn.done;
        } catch (error) {
          throw turnExit(error);
        } finally {
          await thread.close();
        }
      } finally {
        await room.leave();
        stop.dispose();
      }
    });
}
