/**
 * The console shows agent turns live: a caller's agent-turn actor and an
 * agent's agent-thread actor reach the feed through consoleInspector, with
 * their states and the turn's events in the log, and the turn's actor goes
 * when the turn is over. Real server, real clients, real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintAdminToken } from '../../src/auth/token.js';
import { consoleInspector, type ConsoleInspector } from '../../src/inspect/node.js';
import { openThread, serveAgent } from '../../src/agents/index.js';
import { ClientPool, record } from '../client/helpers/clients.js';
import { uniqueRoom, useServers } from '../helpers/server.js';
import { closeConsoleSockets, openedConsole } from './helpers/console-socket.js';

const WAIT = { timeoutMs: 60_000 };
const servers = useServers();
let pool: ClientPool | undefined;
const inspectors: ConsoleInspector[] = [];

afterEach(async () => {
  for (const inspector of inspectors.splice(0)) inspector.close();
  closeConsoleSockets();
  await pool?.close();
});

describe('console: agent machines', () => {
  it("shows the caller's turn and the agent's thread as live statecharts, the turn's events in the log", async () => {
    const fx = await servers.start({ console: true });
    pool = new ClientPool({ url: fx.url, secret: fx.secret });
    const admin = await mintAdminToken({ secret: fx.secret });
    const viewer = await openedConsole(`${fx.url}/console/feed`, admin);
    const room = uniqueRoom();

    const agentInspect = consoleInspector({ url: fx.url, token: admin, name: 'echo agent' });
    const callerInspect = consoleInspector({ url: fx.url, token: admin, name: 'caller' });
    inspectors.push(agentInspect, callerInspect);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const agentRoom = await pool.client(room, 'echo', { inspect: agentInspect });
    await agentRoom.start();
    await serveAgent({
      room: agentRoom,
      inspect: agentInspect,
      onTurn: async (turn) => {
        turn.writeText('hello');
        await released;
      },
    });
    const alice = await pool.enabled(room, 'alice', { inspect: callerInspect });
    const thread = await openThread(alice, 'echo', { threadId: '.threads/console', inspect: callerInspect });
    const turn = thread.startTurn({ text: 'hi' });
    await record(turn.events$).waitFor((e) => e.kind === 'text.delta', WAIT);

    const live = await viewer.views.waitFor(
      (v) =>
        v.clients.some((c) => c.name === 'caller' && c.actors.some((a) => a.machine === 'agent-turn' && a.states.includes('agentTurn.active.lifecycle.streaming'))) &&
        v.clients.some((c) => c.name === 'echo agent' && c.actors.some((a) => a.machine === 'agent-thread' && a.states.includes('agentThread.running.working'))),
      { ...WAIT, what: 'the agent-turn and agent-thread actors in the feed' },
    );
    const turnActor = live.clients.find((c) => c.name === 'caller')!.actors.find((a) => a.machine === 'agent-turn')!;
    expect(turnActor.label).toBe(turn.messageId);
    expect(turnActor.log.map((entry) => entry.event)).toEqual(expect.arrayContaining(['turn.accepted', 'turn.started', 'turn.output']));
    const threadActor = live.clients.find((c) => c.name === 'echo agent')!.actors.find((a) => a.machine === 'agent-thread')!;
    expect(threadActor.label).toBe('.threads/console');
    expect(threadActor.log.map((entry) => entry.event)).toEqual(expect.arrayContaining(['thread.opened', 'turn.requested']));

    release();
    await turn.done;
    // The turn is over: its actor stopped and left the console; the thread's stays, idle.
    await viewer.views.waitFor(
      (v) =>
        !v.clients.some((c) => c.actors.some((a) => a.machine === 'agent-turn')) &&
        v.clients.some((c) => c.actors.some((a) => a.machine === 'agent-thread' && a.states.includes('agentThread.idle'))),
      { ...WAIT, what: 'the turn actor gone and the thread idle' },
    );
  });
});
