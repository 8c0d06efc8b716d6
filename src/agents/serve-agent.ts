/**
 * `serveAgent`: makes a room participant an agent that serves MeshAgent
 * turns. The runtime does the protocol (attributes, `thread.open` and
 * replay to late openers, accepted/started/ended, steers, interrupts,
 * rejections with the protocol's codes, every opener of a thread receiving
 * its events); one {@link agentThreadMachine} actor per thread decides,
 * and the handler only does the work.
 *
 * @packageDocumentation
 */
import { Subscription } from 'rxjs';
import { createActor, type Actor, type ActorOptions, type AnyActorLogic } from 'xstate';
import { agentThreadMachine, type ThreadError, type ThreadTurn } from '../../machines/agent-thread.js';
import { ValidationError, describeValue } from '../errors.js';
import type { RoomClient } from '../client/room-client.js';
import type { RoomMessage } from '../client/wire.js';
import {
  AGENT_MESSAGE,
  AgentMessageType,
  EMPTY_STATE_TITLE,
  SUPPORTS_AGENT_MESSAGES,
  agentMessage,
  decodeAgentMessage,
  newMessageId,
  type AgentContent,
  type AgentError,
  type AgentWireMessage,
} from '../protocol/agent-turns.js';
import { ServedTurn, type AgentSender } from './served-turn.js';
import { ThreadEvents } from './thread-events.js';

/** Options of {@link serveAgent}. */
export interface ServeAgentOptions {
  /** A started room client; messaging is enabled if it is not yet. */
  room: RoomClient;
  /**
   * The agent's name: callers find the agent by its `name` attribute, which
   * the server takes from the token. When given, it must match.
   */
  name?: string;
  /** Runs one turn. Resolve when done; throw to end the turn with an error. */
  onTurn: (turn: ServedTurn) => Promise<void> | void;
  /**
   * Decides whether to accept a `turn.start`: return an error (with one of
   * the protocol's codes, e.g. `unknown_model`) to reject it.
   * @defaultValue {@link acceptTextTurns}
   */
  accept?: (start: AgentWireMessage) => AgentError | undefined;
  /**
   * The greeting shown in an empty thread (attribute `empty_state_title`).
   * @defaultValue "How can I help you?"
   */
  emptyStateTitle?: string;
  /**
   * Most events of a running turn kept for late openers of its thread.
   * @defaultValue 512
   */
  replayLimit?: number;
  /** An XState inspector for the thread actors (e.g. roomstate/inspect's consoleInspector). */
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
}

/** A serving agent; `stop()` ends it. */
export interface ServedAgent {
  /** The thread ids with an actor now. */
  readonly threads: () => readonly string[];
  /** Cancels running and queued turns, clears `supports_agent_messages`, and stops listening. */
  stop(): Promise<void>;
}

/**
 * The default acceptance check: the backend, provider and model must be
 * unset (this agent has one of each), and the output text, as MeshAgent's
 * model-free chat backend checks.
 */
export function acceptTextTurns(start: AgentWireMessage): AgentError | undefined {
  const given = (field: string) => typeof start[field] === 'string' && (start[field] as string).trim() !== '';
  if (given('backend')) return { message: `unknown backend ${JSON.stringify(start.backend)}`, code: 'unknown_backend' };
  if (given('provider')) return { message: `unknown provider ${JSON.stringify(start.provider)}`, code: 'unknown_provider' };
  if (given('model')) return { message: `unknown model ${JSON.stringify(start.model)}`, code: 'unknown_model' };
  const modalities = Array.isArray(start.output_modalities) ? start.output_modalities : [];
  const other = modalities.filter((modality) => modality !== 'text');
  if (other.length > 0) return { message: `this agent does not support ${other.map((m) => JSON.stringify(m)).join(', ')} output modalities`, code: 'unsupported_modality' };
  return undefined;
}

type ThreadActor = Actor<typeof agentThreadMachine>;

/**
 * Serves agent turns as the participant of `room`.
 *
 * @example
 * ```ts
 * const agent = await serveAgent({
 *   room,
 *   name: 'echo',
 *   onTurn: async (turn) => {
 *     turn.writeText(turn.text);
 *   },
 * });
 * ```
 */
export async function serveAgent(options: ServeAgentOptions): Promise<ServedAgent> {
  const { room } = options;
  const accept = options.accept ?? acceptTextTurns;
  const threads = new Map<string, ThreadActor>();
  const events = new ThreadEvents(options.replayLimit ?? 512);
  const running = new Map<string, { readonly served: ServedTurn }>();
  const starts = new Map<string, AgentWireMessage>();
  const steerBodies = new Map<string, AgentWireMessage>();
  const subscription = new Subscription();

  const senderOf = (id: string): AgentSender => {
    const name = room.messaging.getParticipant(id)?.getAttribute('name');
    return { id, name: typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined };
  };
  const sendTo = (participantId: string, body: Record<string, unknown>) => {
    // Nowait: a recipient that left is not an error for the agent.
    room.messaging.sendMessageNowait({ to: participantId, type: AGENT_MESSAGE, message: body });
  };
  /** Sends a thread event to every opener, and to `also` (the turn's starter) if it has not opened the thread. */
  const publish = (threadId: string, type: string, fields: Record<string, unknown>, also?: string, buffered = true) => {
    const body = agentMessage(type, { thread_id: threadId, ...fields });
    const openers = threads.get(threadId)?.getSnapshot().context.openers ?? [];
    for (const id of openers) sendTo(id, body);
    if (also !== undefined && !openers.includes(also)) sendTo(also, body);
    if (buffered) events.record(threadId, body);
    return body;
  };
  const turnFields = (turn: ThreadTurn) => {
    const start = starts.get(turn.messageId);
    return { turn_id: turn.turnId, source_message_id: turn.messageId, content: start?.content, sender_name: start?.sender_name };
  };

  const threadOf = (threadId: string): ThreadActor => {
    const known = threads.get(threadId);
    if (known !== undefined) return known;
    const actor = createActor(agentThreadMachine, { input: { threadId }, inspect: options.inspect });
    actor.on('thread.replay', ({ participantId }) => {
      for (const body of events.replay(threadId)) sendTo(participantId, body);
    });
    actor.on('turn.accept', ({ turn }) => {
      events.queue(threadId, turn.messageId, publish(threadId, AgentMessageType.TurnStartAccepted, turnFields(turn), turn.senderId, false));
    });
    actor.on('turn.reject', ({ turn, error }) => {
      publish(threadId, AgentMessageType.TurnStartRejected, { source_message_id: turn.messageId, error }, turn.senderId, false);
      starts.delete(turn.messageId);
    });
    actor.on('turn.begin', ({ turn }) => {
      events.begin(threadId, turn.messageId);
      publish(threadId, AgentMessageType.TurnStarted, turnFields(turn), turn.senderId);
      run(actor, threadId, turn);
    });
    actor.on('turn.abort', ({ turn }) => running.get(turn.turnId)?.served.abort());
    actor.on('turn.interrupted', ({ turn, messageId }) => publish(threadId, AgentMessageType.TurnInterrupted, { turn_id: turn.turnId, source_message_id: messageId }, turn.senderId));
    actor.on('turn.end', ({ turn, error }) => {
      running.get(turn.turnId)?.served.close();
      running.delete(turn.turnId);
      starts.delete(turn.messageId);
      publish(threadId, AgentMessageType.TurnEnded, { turn_id: turn.turnId, error }, turn.senderId, false);
      events.end(threadId, turn.messageId);
    });
    actor.on('steer.accept', ({ turn, steer }) => publish(threadId, AgentMessageType.TurnSteerAccepted, { turn_id: turn.turnId, source_message_id: steer.messageId }, steer.senderId));
    actor.on('steer.deliver', ({ turn, steer }) => {
      const body = steerBodies.get(steer.messageId);
      const content = (body?.content ?? []) as AgentContent[];
      running.get(turn.turnId)?.served.deliver({ messageId: steer.messageId, content, text: content.map((c) => (c.type === 'text' ? c.text : '')).join(''), sender: senderOf(steer.senderId) });
    });
    actor.on('steer.applied', ({ turn, steer }) => {
      const body = steerBodies.get(steer.messageId);
      steerBodies.delete(steer.messageId);
      publish(threadId, AgentMessageType.TurnSteered, { turn_id: turn.turnId, source_message_id: steer.messageId, content: body?.content, sender_name: body?.sender_name }, steer.senderId);
    });
    actor.on('steer.reject', ({ turnId, steer, error }) => {
      steerBodies.delete(steer.messageId);
      publish(threadId, AgentMessageType.TurnSteerRejected, { turn_id: turnId, source_message_id: steer.messageId, error }, steer.senderId);
    });
    actor.on('interrupt.accept', ({ turn, messageId }) => publish(threadId, AgentMessageType.TurnInterruptAccepted, { turn_id: turn.turnId, source_message_id: messageId }, turn.senderId));
    threads.set(threadId, actor);
    actor.start();
    return actor;
  };

  /** A thread with no turn, no queue and no opener is forgotten: memory follows the threads in use. */
  const settle = (threadId: string) => {
    const actor = threads.get(threadId);
    const snapshot = actor?.getSnapshot();
    if (actor === undefined || snapshot === undefined || !snapshot.matches('idle')) return;
    if (snapshot.context.openers.length > 0 || snapshot.context.queue.length > 0) return;
    threads.delete(threadId);
    actor.stop();
  };

  const run = (actor: ThreadActor, threadId: string, turn: ThreadTurn) => {
    const start = starts.get(turn.messageId);
    const served = new ServedTurn(
      { threadId, turnId: turn.turnId, messageId: turn.messageId, content: (start?.content ?? []) as AgentContent[], sender: senderOf(turn.senderId), start: start ?? {} },
      {
        publish: (type, fields) => publish(threadId, type, { ...fields, turn_id: turn.turnId }),
        take: (messageId) => actor.send({ type: 'steer.taken', messageId }),
      },
    );
    running.set(turn.turnId, { served });
    // The handler runs after the current event is handled: the machine is never re-entered.
    void Promise.resolve()
      .then(() => options.onTurn(served))
      .then(
        () => {
          // The open text item ends with the handler, before turn.interrupted or turn.ended.
          served.close();
          actor.send({ type: 'handler.finished' });
          settle(threadId);
        },
        (error: unknown) => {
          served.close();
          const failure: ThreadError = { message: error instanceof Error ? error.message : String(error), code: error instanceof Error ? error.name : null };
          actor.send({ type: 'handler.finished', error: failure });
          settle(threadId);
        },
      );
  };

  const receive = (message: RoomMessage) => {
    if (message.type !== AGENT_MESSAGE) return;
    const senderId = message.fromParticipantId;
    // As MeshAgent's agent: a sender not in presence is dropped, as is a malformed message.
    if (room.messaging.getParticipant(senderId) === null) return;
    const decoded = decodeAgentMessage(message.message);
    if (decoded === undefined) return;
    const threadId = decoded.thread_id!;
    const sender = senderOf(senderId);
    switch (decoded.type) {
      case AgentMessageType.ThreadOpen:
        threadOf(threadId).send({ type: 'thread.opened', participantId: senderId });
        if (decoded.load === true) sendTo(senderId, agentMessage(AgentMessageType.ThreadLoaded, { thread_id: threadId, source_message_id: decoded.message_id, since_turn: decoded.since_turn }));
        return;
      case AgentMessageType.ThreadClose:
        threads.get(threadId)?.send({ type: 'thread.closed', participantId: senderId });
        settle(threadId);
        return;
      case AgentMessageType.TurnStart: {
        const start = { ...decoded, sender_name: sender.name } as AgentWireMessage;
        const turn: ThreadTurn = { turnId: decoded.turn_id ?? newMessageId(), messageId: decoded.message_id, senderId };
        starts.set(turn.messageId, start);
        const actor = threadOf(threadId);
        echo(actor, start, senderId);
        const rejection = accept(start);
        actor.send(rejection === undefined ? { type: 'turn.requested', turn } : { type: 'turn.requested', turn, rejection });
        settle(threadId);
        return;
      }
      case AgentMessageType.TurnSteer: {
        const steer = { ...decoded, sender_name: sender.name } as AgentWireMessage;
        steerBodies.set(decoded.message_id, steer);
        const actor = threadOf(threadId);
        echo(actor, steer, senderId);
        actor.send({ type: 'turn.steer', turnId: decoded.turn_id!, steer: { messageId: decoded.message_id, senderId } });
        settle(threadId);
        return;
      }
      case AgentMessageType.TurnInterrupt:
        threads.get(threadId)?.send({ type: 'turn.interrupt', turnId: decoded.turn_id!, messageId: decoded.message_id });
        return;
    }
  };

  /** The input is shown to the thread's other openers, as MeshAgent's chat channel does. */
  const echo = (actor: ThreadActor, input: AgentWireMessage, senderId: string) => {
    for (const id of actor.getSnapshot().context.openers) if (id !== senderId) sendTo(id, { ...input });
  };

  const own = room.localParticipant.getAttribute('name');
  if (options.name !== undefined && own !== options.name) {
    throw new ValidationError('name', `the agent is named ${describeValue(own)} by its token, not ${describeValue(options.name)}: mint the token for ${describeValue(options.name)}.`);
  }
  if (!room.messaging.isEnabled) await room.messaging.enable();
  room.localParticipant.setAttributes({
    [EMPTY_STATE_TITLE]: options.emptyStateTitle ?? 'How can I help you?',
    [SUPPORTS_AGENT_MESSAGES]: true,
  });
  subscription.add(room.messaging.messages$.subscribe(receive));
  subscription.add(
    room.messaging.participantRemoved$.subscribe((participant) => {
      for (const [threadId, actor] of [...threads]) {
        actor.send({ type: 'participant.left', participantId: participant.id });
        settle(threadId);
      }
    }),
  );

  return {
    threads: () => [...threads.keys()],
    async stop() {
      subscription.unsubscribe();
      for (const actor of threads.values()) actor.send({ type: 'agent.stop' });
      threads.clear();
      if (!room.isClosed) room.localParticipant.setAttribute(SUPPORTS_AGENT_MESSAGES, null);
    },
  };
}
