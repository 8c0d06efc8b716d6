/**
 * One thread of an agent, as the agent runtime runs it: one active turn at a
 * time, a first-in-first-out queue of accepted turns, steers delivered to
 * the active turn (and rejected with `turn_ended` when it ends before it
 * takes them), interruption ending the turn as cancelled, and the
 * participants that opened the thread (every thread event goes to each).
 *
 * - `idle`: no turn runs; an accepted turn starts at once.
 * - `running.working`: the active turn's handler runs.
 * - `running.interrupting`: an interrupt was accepted; the handler has been
 *   told to stop, and the turn ends as `cancelled` when it returns.
 * - `stopped` (final): the agent stopped; queued turns end as cancelled.
 *
 * Pure: imports only `xstate`. Effects leave as emitted events:
 * `turn.accept`, `turn.reject`, `turn.begin`, `turn.abort`, `turn.interrupted`,
 * `turn.end`, `steer.accept`, `steer.deliver`, `steer.applied`,
 * `steer.reject`, `interrupt.accept`, `thread.replay`.
 *
 * @packageDocumentation
 */
import { assign, emit, enqueueActions, setup } from 'xstate';

/** An error as the protocol carries it. */
export interface ThreadError {
  readonly message: string;
  readonly code: string | null;
}

/** A turn the thread knows: who asked, and the ids that answer it. */
export interface ThreadTurn {
  readonly turnId: string;
  /** The `message_id` of its `turn.start`. */
  readonly messageId: string;
  /** The participant that started it. */
  readonly senderId: string;
}

/** A steer waiting for the active turn to take it. */
export interface ThreadSteer {
  readonly messageId: string;
  readonly senderId: string;
}

/** What a thread machine is created with. */
export interface AgentThreadInput {
  readonly threadId: string;
}

/** What a thread machine knows. */
export interface AgentThreadContext {
  readonly id: string;
  readonly threadId: string;
  /** Participant ids that opened the thread, in order of opening. */
  readonly openers: readonly string[];
  /** Accepted turns waiting, first in first out. */
  readonly queue: readonly ThreadTurn[];
  /** The running turn. */
  readonly active: ThreadTurn | undefined;
  /** Steers accepted for the active turn and not yet taken by it. */
  readonly steers: readonly ThreadSteer[];
  /** The `message_id` of the interrupt being honoured. */
  readonly interruptId: string | undefined;
}

/** Events a thread machine accepts. */
export type AgentThreadEvent =
  | { type: 'thread.opened'; participantId: string }
  | { type: 'thread.closed'; participantId: string }
  | { type: 'participant.left'; participantId: string }
  /** A `turn.start`; `rejection` set when the runtime's checks refuse it. */
  | { type: 'turn.requested'; turn: ThreadTurn; rejection?: ThreadError }
  | { type: 'turn.steer'; turnId: string; steer: ThreadSteer }
  | { type: 'turn.interrupt'; turnId: string; messageId: string }
  /** The active turn's handler took the steer `messageId`. */
  | { type: 'steer.taken'; messageId: string }
  /** The active turn's handler returned (or threw `error`). */
  | { type: 'handler.finished'; error?: ThreadError }
  | { type: 'agent.stop' };

/** Effects a thread machine asks for. */
export type AgentThreadEmitted =
  | { type: 'turn.accept'; turn: ThreadTurn }
  | { type: 'turn.reject'; turn: ThreadTurn; error: ThreadError }
  /** Send `turn.started` and run the handler. */
  | { type: 'turn.begin'; turn: ThreadTurn }
  /** Abort the handler's signal. */
  | { type: 'turn.abort'; turn: ThreadTurn }
  | { type: 'turn.interrupted'; turn: ThreadTurn; messageId: string }
  | { type: 'turn.end'; turn: ThreadTurn; error?: ThreadError }
  | { type: 'steer.accept'; turn: ThreadTurn; steer: ThreadSteer }
  /** Hand the steer to the running handler. */
  | { type: 'steer.deliver'; turn: ThreadTurn; steer: ThreadSteer }
  /** Send `turn.steered`: the handler took it. */
  | { type: 'steer.applied'; turn: ThreadTurn; steer: ThreadSteer }
  | { type: 'steer.reject'; turnId: string; steer: ThreadSteer; error: ThreadError }
  | { type: 'interrupt.accept'; turn: ThreadTurn; messageId: string }
  /** Send the running turn's events so far to a late opener. */
  | { type: 'thread.replay'; participantId: string };

/** Error of a turn ended by an interrupt (or by the agent stopping). */
export const TURN_CANCELLED: ThreadError = { message: 'turn cancelled', code: 'cancelled' };
/** Rejection of a steer for a turn that is not running. */
export const STEER_NOT_IN_PROGRESS: ThreadError = { message: 'turn is not in progress', code: 'turn_not_in_progress' };
/** Rejection of a steer accepted but not taken before its turn ended. */
export const STEER_TURN_ENDED: ThreadError = { message: 'turn ended before queued steer was processed', code: 'turn_ended' };

/**
 * One thread of an agent.
 *
 * @example
 * ```ts
 * const thread = createActor(agentThreadMachine, { input: { threadId } });
 * thread.on('turn.begin', ({ turn }) => runHandler(turn));
 * thread.start();
 * thread.send({ type: 'turn.requested', turn });
 * ```
 */
export const agentThreadMachine = setup({
  types: {
    input: {} as AgentThreadInput,
    context: {} as AgentThreadContext,
    events: {} as AgentThreadEvent,
    emitted: {} as AgentThreadEmitted,
  },
  guards: {
    isRejected: ({ event }) => event.type === 'turn.requested' && event.rejection !== undefined,
    hasQueued: ({ context }) => context.queue.length > 0,
    isActiveTurn: ({ context, event }) =>
      (event.type === 'turn.steer' || event.type === 'turn.interrupt') && context.active !== undefined && context.active.turnId === event.turnId,
    isPendingSteer: ({ context, event }) => event.type === 'steer.taken' && context.steers.some((steer) => steer.messageId === event.messageId),
    isNewOpener: ({ context, event }) => event.type === 'thread.opened' && !context.openers.includes(event.participantId),
  },
  actions: {
    addOpener: assign({
      openers: ({ context, event }) => (event.type === 'thread.opened' ? [...context.openers, event.participantId] : context.openers),
    }),
    removeOpener: assign({
      openers: ({ context, event }) =>
        event.type === 'thread.closed' || event.type === 'participant.left' ? context.openers.filter((id) => id !== event.participantId) : context.openers,
    }),
    replay: emit(({ event }) => ({ type: 'thread.replay' as const, participantId: event.type === 'thread.opened' ? event.participantId : '' })),
    reject: emit(({ event }) => {
      const requested = event as Extract<AgentThreadEvent, { type: 'turn.requested' }>;
      return { type: 'turn.reject' as const, turn: requested.turn, error: requested.rejection! };
    }),
    accept: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'turn.requested') return;
      enqueue.assign({ queue: [...context.queue, event.turn] });
      enqueue.emit({ type: 'turn.accept', turn: event.turn });
    }),
    beginNext: enqueueActions(({ context, enqueue }) => {
      const [next, ...rest] = context.queue;
      if (next === undefined) return;
      enqueue.assign({ active: next, queue: rest, steers: [], interruptId: undefined });
      enqueue.emit({ type: 'turn.begin', turn: next });
    }),
    acceptSteer: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'turn.steer' || context.active === undefined) return;
      enqueue.assign({ steers: [...context.steers, event.steer] });
      enqueue.emit({ type: 'steer.accept', turn: context.active, steer: event.steer });
      enqueue.emit({ type: 'steer.deliver', turn: context.active, steer: event.steer });
    }),
    rejectSteer: emit(({ event }) => {
      const steer = event as Extract<AgentThreadEvent, { type: 'turn.steer' }>;
      return { type: 'steer.reject' as const, turnId: steer.turnId, steer: steer.steer, error: STEER_NOT_IN_PROGRESS };
    }),
    applySteer: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'steer.taken' || context.active === undefined) return;
      const steer = context.steers.find((candidate) => candidate.messageId === event.messageId)!;
      enqueue.assign({ steers: context.steers.filter((candidate) => candidate !== steer) });
      enqueue.emit({ type: 'steer.applied', turn: context.active, steer });
    }),
    acceptInterrupt: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'turn.interrupt' || context.active === undefined) return;
      enqueue.assign({ interruptId: event.messageId });
      enqueue.emit({ type: 'interrupt.accept', turn: context.active, messageId: event.messageId });
      enqueue.emit({ type: 'turn.abort', turn: context.active });
    }),
    /** Ends the active turn: steers it never took are rejected first, then `turn.end`. */
    endActive: enqueueActions(({ context, event, enqueue }) => {
      const turn = context.active;
      if (turn === undefined) return;
      for (const steer of context.steers) enqueue.emit({ type: 'steer.reject', turnId: turn.turnId, steer, error: STEER_TURN_ENDED });
      const interrupted = context.interruptId !== undefined;
      if (interrupted) enqueue.emit({ type: 'turn.interrupted', turn, messageId: context.interruptId! });
      const error = interrupted || event.type === 'agent.stop' ? TURN_CANCELLED : event.type === 'handler.finished' ? event.error : undefined;
      enqueue.emit(error === undefined ? { type: 'turn.end', turn } : { type: 'turn.end', turn, error });
      enqueue.assign({ active: undefined, steers: [], interruptId: undefined });
    }),
    abortActive: enqueueActions(({ context, enqueue }) => {
      if (context.active !== undefined) enqueue.emit({ type: 'turn.abort', turn: context.active });
    }),
    cancelQueued: enqueueActions(({ context, enqueue }) => {
      for (const turn of context.queue) enqueue.emit({ type: 'turn.end', turn, error: TURN_CANCELLED });
      enqueue.assign({ queue: [] });
    }),
  },
}).createMachine({
  id: 'agentThread',
  context: ({ input }) => ({
    id: input.threadId,
    threadId: input.threadId,
    openers: [],
    queue: [],
    active: undefined,
    steers: [],
    interruptId: undefined,
  }),
  initial: 'idle',
  on: {
    'thread.opened': [{ guard: 'isNewOpener', actions: ['addOpener', 'replay'] }, { actions: 'replay' }],
    'thread.closed': { actions: 'removeOpener' },
    'participant.left': { actions: 'removeOpener' },
    'turn.requested': [{ guard: 'isRejected', actions: 'reject' }, { actions: 'accept' }],
    'agent.stop': { target: '.stopped', actions: ['abortActive', 'endActive', 'cancelQueued'] },
  },
  states: {
    idle: {
      always: { guard: 'hasQueued', target: 'running', actions: 'beginNext' },
      on: {
        'turn.steer': { actions: 'rejectSteer' },
        'turn.interrupt': {},
      },
    },
    running: {
      initial: 'working',
      on: {
        'turn.steer': [{ guard: 'isActiveTurn', actions: 'acceptSteer' }, { actions: 'rejectSteer' }],
        'steer.taken': { guard: 'isPendingSteer', actions: 'applySteer' },
        'handler.finished': { target: 'idle', actions: 'endActive' },
      },
      states: {
        working: {
          on: {
            // An interrupt for another turn (or a turn not running) is ignored, as MeshAgent does.
            'turn.interrupt': { guard: 'isActiveTurn', target: 'interrupting', actions: 'acceptInterrupt' },
          },
        },
        interrupting: {
          on: {
            'turn.interrupt': {},
          },
        },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});

/** The thread machine's type. */
export type AgentThreadMachine = typeof agentThreadMachine;
