/**
 * One agent turn, as its caller sees it: MeshAgent's turn protocol
 * (`turn.start` → `turn.start.accepted` or `…rejected` → `turn.started` →
 * live output → `turn.ended`) with steering and interruption as parallel
 * concerns, the agent leaving, and timeouts.
 *
 * - `active.lifecycle`: `starting` (sent, unanswered; bounded by
 *   `answerTimeout`) → `queued` (accepted, waiting its turn on the thread)
 *   → `started` → `streaming` (output has come).
 * - `active.steering`: `idle` or `pending` (steers sent, not yet applied or
 *   rejected; `context.steers` counts them).
 * - `active.interruption`: `none` → `deferred` (asked before the turn had
 *   an id: sent when it is accepted) or `requested` → `accepted` →
 *   `interrupted`.
 * - `active.deadline`: `unbounded`, or `bounded` by `turnTimeout` when the
 *   input gives one.
 * - Final: `ended`, `cancelled` (ended with code `cancelled`), `failed`
 *   (ended with another error), `rejected`, `agentLeft`, `timedOut`.
 *
 * Pure: imports only `xstate`. Effects leave as emitted events:
 * `steer.send`, `steer.refused`, `interrupt.send`.
 *
 * @packageDocumentation
 */
import { assign, emit, setup } from 'xstate';

/** Default time allowed for the agent to accept or reject a turn. */
export const TURN_ANSWER_TIMEOUT_MS = 30_000;

/** An agent's error, as the protocol carries it (`code` may be null). */
export interface TurnError {
  readonly message: string;
  readonly code: string | null;
}

/** What a turn machine is created with. */
export interface AgentTurnInput {
  /** The thread's id (path). */
  readonly threadId: string;
  /** The `message_id` of the `turn.start` (answers name it as `source_message_id`). */
  readonly messageId: string;
  /** Time allowed for the agent to answer the start, in ms. @defaultValue 30000 */
  readonly answerTimeoutMs?: number;
  /** Time allowed for the whole turn, in ms; 0 or absent for no limit. */
  readonly turnTimeoutMs?: number;
}

/** What a turn machine knows. */
export interface AgentTurnContext {
  readonly id: string;
  readonly threadId: string;
  readonly messageId: string;
  readonly turnId: string | undefined;
  readonly answerTimeoutMs: number;
  readonly turnTimeoutMs: number;
  /** Steers sent and not yet applied or rejected. */
  readonly steers: number;
  /** Output events seen (text deltas, tool calls, …). */
  readonly outputs: number;
  /** The `turn.ended` or `turn.start.rejected` error. */
  readonly error: TurnError | undefined;
  /** Which limit ran out, in `timedOut`. */
  readonly timeout: 'answer' | 'turn' | undefined;
}

/** Events a turn machine accepts. */
export type AgentTurnEvent =
  // agent facts
  | { type: 'turn.accepted'; turnId: string }
  | { type: 'turn.rejected'; error: TurnError }
  | { type: 'turn.started'; turnId: string }
  | { type: 'turn.output' }
  | { type: 'turn.ended'; error?: TurnError }
  | { type: 'steer.accepted' }
  | { type: 'steer.applied' }
  | { type: 'steer.rejected' }
  | { type: 'interrupt.accepted' }
  | { type: 'turn.interrupted' }
  | { type: 'agent.left' }
  // caller commands
  | { type: 'turn.steer'; messageId: string }
  | { type: 'turn.interrupt' };

/** Effects a turn machine asks for. */
export type AgentTurnEmitted =
  /** Send the steer `messageId` (now that the turn has an id). */
  | { type: 'steer.send'; messageId: string; turnId: string }
  /** Refuse the steer `messageId` locally: the turn has no id yet, or is over. */
  | { type: 'steer.refused'; messageId: string }
  /** Send `turn.interrupt` for `turnId`. */
  | { type: 'interrupt.send'; turnId: string };

/** The state names of a turn machine's lifecycle, and its final states. */
export type AgentTurnStateName = 'starting' | 'queued' | 'started' | 'streaming' | 'ended' | 'cancelled' | 'failed' | 'rejected' | 'agentLeft' | 'timedOut';

/**
 * One turn, for the caller.
 *
 * @example
 * ```ts
 * const actor = createActor(agentTurnMachine, { input: { threadId, messageId } });
 * actor.on('interrupt.send', ({ turnId }) => sendInterrupt(turnId));
 * actor.start();
 * actor.send({ type: 'turn.accepted', turnId });
 * ```
 */
export const agentTurnMachine = setup({
  types: {
    input: {} as AgentTurnInput,
    context: {} as AgentTurnContext,
    events: {} as AgentTurnEvent,
    emitted: {} as AgentTurnEmitted,
  },
  delays: {
    answerTimeout: ({ context }) => context.answerTimeoutMs,
    turnTimeout: ({ context }) => context.turnTimeoutMs,
  },
  guards: {
    hasTurnLimit: ({ context }) => context.turnTimeoutMs > 0,
    hasTurnId: ({ context }) => context.turnId !== undefined,
    endedClean: ({ event }) => event.type === 'turn.ended' && event.error === undefined,
    endedCancelled: ({ event }) => event.type === 'turn.ended' && event.error?.code === 'cancelled',
    lastSteer: ({ context }) => context.steers <= 1,
  },
  actions: {
    recordTurnId: assign({
      turnId: ({ context, event }) => (event.type === 'turn.accepted' || event.type === 'turn.started' ? event.turnId : context.turnId),
    }),
    recordError: assign({
      error: ({ event }) => (event.type === 'turn.ended' || event.type === 'turn.rejected' ? event.error : undefined),
    }),
    countOutput: assign({ outputs: ({ context }) => context.outputs + 1 }),
    addSteer: assign({ steers: ({ context }) => context.steers + 1 }),
    settleSteer: assign({ steers: ({ context }) => Math.max(0, context.steers - 1) }),
    sendSteer: emit(({ context, event }) => ({
      type: 'steer.send' as const,
      messageId: event.type === 'turn.steer' ? event.messageId : '',
      turnId: context.turnId ?? '',
    })),
    refuseSteer: emit(({ event }) => ({ type: 'steer.refused' as const, messageId: event.type === 'turn.steer' ? event.messageId : '' })),
    sendInterrupt: emit(({ context }) => ({ type: 'interrupt.send' as const, turnId: context.turnId ?? '' })),
    recordAnswerTimeout: assign({ timeout: 'answer' as const }),
    recordTurnTimeout: assign({ timeout: 'turn' as const }),
  },
}).createMachine({
  id: 'agentTurn',
  context: ({ input }) => ({
    id: input.messageId,
    threadId: input.threadId,
    messageId: input.messageId,
    turnId: undefined,
    answerTimeoutMs: input.answerTimeoutMs ?? TURN_ANSWER_TIMEOUT_MS,
    turnTimeoutMs: input.turnTimeoutMs ?? 0,
    steers: 0,
    outputs: 0,
    error: undefined,
    timeout: undefined,
  }),
  initial: 'active',
  states: {
    active: {
      type: 'parallel',
      on: {
        'agent.left': { target: 'agentLeft' },
      },
      states: {
        lifecycle: {
          initial: 'starting',
          states: {
            starting: {
              after: { answerTimeout: { target: '#agentTurn.timedOut', actions: 'recordAnswerTimeout' } },
              on: {
                'turn.accepted': { target: 'queued', actions: 'recordTurnId' },
                // A late opener may see the start only once it has left the queue.
                'turn.started': { target: 'started', actions: 'recordTurnId' },
                'turn.rejected': { target: '#agentTurn.rejected', actions: 'recordError' },
              },
            },
            queued: {
              on: {
                'turn.started': { target: 'started' },
              },
            },
            started: {
              on: {
                'turn.output': { target: 'streaming', actions: 'countOutput' },
              },
            },
            streaming: {
              on: {
                'turn.output': { actions: 'countOutput' },
              },
            },
          },
          on: {
            'turn.ended': [
              { guard: 'endedClean', target: '#agentTurn.ended' },
              { guard: 'endedCancelled', target: '#agentTurn.cancelled', actions: 'recordError' },
              { target: '#agentTurn.failed', actions: 'recordError' },
            ],
          },
        },
        steering: {
          initial: 'idle',
          states: {
            idle: {
              on: {
                'turn.steer': [
                  { guard: 'hasTurnId', target: 'pending', actions: ['addSteer', 'sendSteer'] },
                  { actions: 'refuseSteer' },
                ],
              },
            },
            pending: {
              on: {
                'turn.steer': { actions: ['addSteer', 'sendSteer'] },
                'steer.accepted': {},
                'steer.applied': [{ guard: 'lastSteer', target: 'idle', actions: 'settleSteer' }, { actions: 'settleSteer' }],
                'steer.rejected': [{ guard: 'lastSteer', target: 'idle', actions: 'settleSteer' }, { actions: 'settleSteer' }],
              },
            },
          },
        },
        interruption: {
          initial: 'none',
          states: {
            none: {
              on: {
                'turn.interrupt': [{ guard: 'hasTurnId', target: 'requested', actions: 'sendInterrupt' }, { target: 'deferred' }],
              },
            },
            deferred: {
              on: {
                'turn.accepted': { target: 'requested', actions: ['recordTurnId', 'sendInterrupt'] },
                'turn.started': { target: 'requested', actions: ['recordTurnId', 'sendInterrupt'] },
              },
            },
            requested: {
              on: {
                'interrupt.accepted': { target: 'accepted' },
                'turn.interrupted': { target: 'interrupted' },
              },
            },
            accepted: {
              on: {
                'turn.interrupted': { target: 'interrupted' },
              },
            },
            interrupted: {},
          },
        },
        deadline: {
          initial: 'choosing',
          states: {
            choosing: {
              always: [{ guard: 'hasTurnLimit', target: 'bounded' }, { target: 'unbounded' }],
            },
            unbounded: {},
            bounded: {
              after: { turnTimeout: { target: '#agentTurn.timedOut', actions: 'recordTurnTimeout' } },
            },
          },
        },
      },
    },
    ended: { type: 'final' },
    cancelled: { type: 'final' },
    failed: { type: 'final' },
    rejected: { type: 'final' },
    agentLeft: { type: 'final' },
    timedOut: { type: 'final' },
  },
});

/** The turn machine's type. */
export type AgentTurnMachine = typeof agentTurnMachine;

/** The lifecycle state (or the final state) of a turn snapshot. */
export function agentTurnStateName(snapshot: { value: unknown }): AgentTurnStateName {
  const value = snapshot.value;
  if (typeof value === 'string') return value as AgentTurnStateName;
  const active = (value as { active: { lifecycle: AgentTurnStateName } }).active;
  return active.lifecycle;
}
