/**
 * One turn, for the caller: an {@link agentTurnMachine} actor fed with the
 * agent's messages for this turn, its state and events as observables, its
 * text as a stream of deltas, steering, interruption, and a promise that
 * settles when the turn is over.
 *
 * @packageDocumentation
 */
import { Observable, Subject, filter, map } from 'rxjs';
import { createActor, type ActorOptions, type AnyActorLogic } from 'xstate';
import { agentTurnMachine, agentTurnStateName, type AgentTurnEvent, type AgentTurnStateName } from '../../machines/agent-turn.js';
import { select } from '../client/observe.js';
import { AgentMessageType, agentMessage, type AgentContent, type AgentWireMessage } from '../protocol/agent-turns.js';
import { agentEventOf, type AgentEvent } from './agent-events.js';
import { AgentLeftError, AgentSteerRejectedError, AgentTurnCancelledError, AgentTurnFailedError, AgentTurnRejectedError, AgentTurnTimeoutError, type AgentTurnError } from './errors.js';

/** How a turn ended well. */
export interface TurnResult {
  /** The agent's id of the turn. */
  readonly turnId: string;
  /** The text deltas of the turn, joined. */
  readonly text: string;
}

/** What a turn needs from its thread. */
export interface TurnLink {
  readonly threadId: string;
  /** Sends an agent message body to the agent; rejects when it cannot be delivered. */
  send(body: Record<string, unknown>): Promise<void>;
  /** The turn is over: stop routing to it. */
  forget(turn: AgentTurn): void;
  readonly inspect: ActorOptions<AnyActorLogic>['inspect'];
}

/** Timeouts of a turn. */
export interface TurnTimeouts {
  /**
   * Time in ms for the agent to accept or reject the start.
   * @defaultValue 30000
   */
  answerTimeout?: number;
  /**
   * Time in ms for the whole turn, from the start to `turn.ended`; 0 for no limit.
   * @defaultValue 0
   */
  timeout?: number;
}

interface PendingSteer {
  resolve(): void;
  reject(error: Error): void;
}

/** A turn started with {@link AgentThread.startTurn}. */
export class AgentTurn {
  /** The `message_id` of the `turn.start`. */
  readonly messageId: string;
  /** The thread it runs on. */
  readonly threadId: string;
  /** The lifecycle state: `starting`, `queued`, `started`, `streaming`, then one of the final states. */
  readonly state$: Observable<AgentTurnStateName>;
  /** The turn's agent messages, typed, in order; completes when the turn is over. Subscribe before awaiting. */
  readonly events$: Observable<AgentEvent>;
  /** The turn's text, as the deltas come. */
  readonly text$: Observable<string>;
  /** Resolves on a clean `turn.ended`; rejects with an {@link AgentTurnError} subclass. */
  readonly done: Promise<TurnResult>;

  private readonly actor;
  private readonly events = new Subject<AgentEvent>();
  private readonly steers = new Map<string, PendingSteer>();
  /** Steer bodies waiting for the machine's `steer.send` (which adds the turn id). */
  private readonly pendingBodies = new Map<string, Record<string, unknown>>();
  private readonly text: string[] = [];
  private settle!: { resolve: (result: TurnResult) => void; reject: (error: AgentTurnError) => void };

  constructor(
    private readonly link: TurnLink,
    start: Record<string, unknown>,
    timeouts: TurnTimeouts,
  ) {
    this.messageId = start.message_id as string;
    this.threadId = link.threadId;
    this.done = new Promise<TurnResult>((resolve, reject) => (this.settle = { resolve, reject }));
    // The caller may only look at events$; a rejection it never awaits is not a crash.
    this.done.catch(() => undefined);
    this.events$ = this.events.asObservable();
    this.text$ = this.events$.pipe(
      filter((event): event is Extract<AgentEvent, { kind: 'text.delta' }> => event.kind === 'text.delta'),
      map((event) => event.text),
    );
    this.actor = createActor(agentTurnMachine, {
      input: { threadId: link.threadId, messageId: this.messageId, answerTimeoutMs: timeouts.answerTimeout, turnTimeoutMs: timeouts.timeout },
      inspect: link.inspect,
    });
    this.state$ = select(this.actor, agentTurnStateName);
    this.actor.on('steer.send', ({ messageId, turnId }) => this.sendSteer(messageId, turnId));
    this.actor.on('steer.refused', ({ messageId }) => this.settleSteer(messageId, 'the turn has no id yet (the agent has not accepted it)', null));
    this.actor.on('interrupt.send', ({ turnId }) => {
      this.deliver(agentMessage(AgentMessageType.TurnInterrupt, { thread_id: this.threadId, turn_id: turnId }));
    });
    this.actor.subscribe((snapshot) => {
      if (snapshot.status === 'done') this.finish();
    });
    this.actor.start();
    this.deliver(start);
  }

  /** The agent's id of the turn, once it has answered. */
  get turnId(): string | undefined {
    return this.actor.getSnapshot().context.turnId;
  }

  /** The lifecycle state now. */
  get state(): AgentTurnStateName {
    return agentTurnStateName(this.actor.getSnapshot());
  }

  /**
   * Steers the running turn with more input. Resolves when the agent applied
   * it (`turn.steered`); rejects with {@link AgentSteerRejectedError}
   * (`agentCode` `turn_not_in_progress`, `turn_ended`, …), also when the turn
   * has no id yet or ends before the agent answered.
   */
  steer(input: string | readonly AgentContent[]): Promise<void> {
    const content = typeof input === 'string' ? [{ type: 'text', text: input }] : input;
    const body = agentMessage(AgentMessageType.TurnSteer, { thread_id: this.threadId, content });
    const messageId = body.message_id as string;
    const answered = new Promise<void>((resolve, reject) => this.steers.set(messageId, { resolve, reject }));
    this.pendingBodies.set(messageId, body);
    if (this.actor.getSnapshot().status !== 'active') this.settleSteer(messageId, 'the turn is over', null);
    else this.actor.send({ type: 'turn.steer', messageId });
    return answered;
  }

  /**
   * Asks the agent to interrupt the turn (sent once the turn has an id). The
   * turn then ends as cancelled: {@link done} rejects with
   * {@link AgentTurnCancelledError}.
   */
  interrupt(): void {
    this.actor.send({ type: 'turn.interrupt' });
  }

  /** @internal Routes one agent message of the thread; true when it was this turn's. */
  handle(message: AgentWireMessage): boolean {
    const event = this.machineEventOf(message);
    if (event === null) return false;
    this.events.next(agentEventOf(message));
    if (message.type === AgentMessageType.TextDelta) this.text.push(message.text as string);
    if (event !== undefined) this.actor.send(event);
    return true;
  }

  /** @internal The agent left, or the room closed. */
  agentLeft(): void {
    this.actor.send({ type: 'agent.left' });
  }

  /** The machine event of a message of this turn; undefined for one that only goes to events$; null when not this turn's. */
  private machineEventOf(message: AgentWireMessage): AgentTurnEvent | undefined | null {
    const ours = message.source_message_id === this.messageId;
    const turnId = this.turnId;
    switch (message.type) {
      case AgentMessageType.TurnStartAccepted:
        return ours ? { type: 'turn.accepted', turnId: message.turn_id ?? turnId ?? '' } : null;
      case AgentMessageType.TurnStartRejected:
        return ours ? { type: 'turn.rejected', error: message.error! } : null;
      case AgentMessageType.TurnStarted:
        return ours || (turnId !== undefined && message.turn_id === turnId) ? { type: 'turn.started', turnId: message.turn_id! } : null;
    }
    if (turnId === undefined) return null;
    if (message.type === AgentMessageType.ThreadStatus) {
      const running = this.state === 'started' || this.state === 'streaming';
      return message.turn_id === turnId || (message.turn_id === undefined && running) ? undefined : null;
    }
    if (message.turn_id !== turnId) return null;
    switch (message.type) {
      case AgentMessageType.TurnEnded:
        return message.error === undefined ? { type: 'turn.ended' } : { type: 'turn.ended', error: message.error };
      case AgentMessageType.TurnSteerAccepted:
      case AgentMessageType.TurnSteered:
      case AgentMessageType.TurnSteerRejected:
        return this.steerEvent(message);
      case AgentMessageType.TurnInterruptAccepted:
        return { type: 'interrupt.accepted' };
      case AgentMessageType.TurnInterrupted:
        return { type: 'turn.interrupted' };
      default:
        return { type: 'turn.output' };
    }
  }

  /** Steer answers: only this caller's steers move the machine; the others are shown in events$. */
  private steerEvent(message: AgentWireMessage): AgentTurnEvent | undefined {
    const id = message.source_message_id!;
    if (!this.steers.has(id)) return undefined;
    if (message.type === AgentMessageType.TurnSteerAccepted) return { type: 'steer.accepted' };
    if (message.type === AgentMessageType.TurnSteered) {
      this.settleSteer(id);
      return { type: 'steer.applied' };
    }
    this.settleSteer(id, `the agent rejected the steer: ${message.error!.message}`, message.error!.code);
    return { type: 'steer.rejected' };
  }

  private sendSteer(messageId: string, turnId: string): void {
    const body = this.pendingBodies.get(messageId);
    this.pendingBodies.delete(messageId);
    if (body !== undefined) this.deliver({ ...body, turn_id: turnId });
  }

  private settleSteer(messageId: string, rejection?: string, agentCode: string | null = null): void {
    const pending = this.steers.get(messageId);
    this.steers.delete(messageId);
    this.pendingBodies.delete(messageId);
    if (pending === undefined) return;
    if (rejection === undefined) pending.resolve();
    else pending.reject(new AgentSteerRejectedError(`${rejection}.`, { threadId: this.threadId, turnId: this.turnId, agentCode }));
  }

  private deliver(body: Record<string, unknown>): void {
    // Not delivered means the agent is gone (or the room closed).
    this.link.send(body).catch(() => this.agentLeft());
  }

  private finish(): void {
    const snapshot = this.actor.getSnapshot();
    const name = agentTurnStateName(snapshot);
    const { turnId, error, timeout, answerTimeoutMs, turnTimeoutMs } = snapshot.context;
    const details = { threadId: this.threadId, ...(turnId === undefined ? {} : { turnId }) };
    for (const id of [...this.steers.keys()]) this.settleSteer(id, 'the turn ended before the agent answered the steer', 'turn_ended');
    this.link.forget(this);
    this.events.complete();
    switch (name) {
      case 'ended':
        this.settle.resolve({ turnId: turnId!, text: this.text.join('') });
        return;
      case 'rejected':
        this.settle.reject(new AgentTurnRejectedError(`the agent rejected the turn: ${error!.message} (code ${error!.code ?? 'null'}).`, { threadId: this.threadId, agentCode: error!.code }));
        return;
      case 'cancelled':
        this.settle.reject(new AgentTurnCancelledError(`the turn was cancelled: ${error!.message}.`, details));
        return;
      case 'failed':
        this.settle.reject(new AgentTurnFailedError(`the turn failed: ${error!.message} (code ${error!.code ?? 'null'}).`, { ...details, agentCode: error!.code }));
        return;
      case 'timedOut': {
        const limit = timeout ?? 'turn';
        const ms = limit === 'answer' ? answerTimeoutMs : turnTimeoutMs;
        const what = limit === 'answer' ? 'did not accept or reject the turn' : 'did not end the turn';
        this.settle.reject(new AgentTurnTimeoutError(`the agent ${what} within ${ms / 1000}s.`, { ...details, limit }));
        return;
      }
      default:
        this.settle.reject(new AgentLeftError('the agent left the room before the turn ended.', details));
    }
  }
}
