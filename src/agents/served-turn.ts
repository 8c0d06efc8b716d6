/**
 * The turn an agent's `onTurn` handler gets: its input, an `AbortSignal`
 * that fires on interruption, the steers as they arrive, and writers for
 * text deltas, tool-call events and the thread status. Each write becomes
 * one agent message to every participant that opened the thread.
 *
 * @packageDocumentation
 */
import { Observable } from 'rxjs';
import { RoomStateError, RoomStateErrorCode } from '../errors.js';
import { AgentMessageType, contentText, newMessageId, type AgentContent, type AgentError } from '../protocol/agent-turns.js';

/** Who sent a turn or a steer. */
export interface AgentSender {
  readonly id: string;
  /** The sender's `name` attribute, if any. */
  readonly name: string | undefined;
}

/** A steer, as the handler receives it. */
export interface TurnSteerInput {
  readonly messageId: string;
  readonly content: readonly AgentContent[];
  /** The text items of the content, joined. */
  readonly text: string;
  readonly sender: AgentSender;
}

/** A tool call the handler reports, from {@link ServedTurn.toolCall}. */
export interface ToolCallHandle {
  readonly itemId: string;
  /** Reports output lines of the running call (`tool_call.log_delta`). */
  log(lines: readonly { source: 'stdout' | 'stderr'; text: string }[]): void;
  /** Ends the call (`tool_call.ended`) with a result or an error. */
  end(outcome?: { result?: unknown; error?: AgentError }): void;
}

/** What a {@link ServedTurn} writes through. */
export interface TurnWriter {
  /** Publishes one agent message of this turn (type and fields; the runtime adds ids). */
  publish(type: string, fields: Record<string, unknown>): void;
  /** The handler took this steer. */
  take(messageId: string): void;
}

/** What a {@link ServedTurn} is made of. */
export interface ServedTurnInit {
  readonly threadId: string;
  readonly turnId: string;
  readonly messageId: string;
  readonly content: readonly AgentContent[];
  readonly sender: AgentSender;
  /** The whole `turn.start` message, for fields beyond the content (`model`, `instructions`, …). */
  readonly start: Readonly<Record<string, unknown>>;
}

/** One running turn, handed to `onTurn`. */
export class ServedTurn {
  readonly threadId: string;
  readonly turnId: string;
  /** The `message_id` of the `turn.start`. */
  readonly messageId: string;
  /** The input, as the protocol has it. */
  readonly content: readonly AgentContent[];
  /** The text items of the input, joined. */
  readonly text: string;
  /** The URLs of the input's files. */
  readonly files: readonly string[];
  readonly sender: AgentSender;
  readonly start: Readonly<Record<string, unknown>>;
  /** Fires when the turn is interrupted (or the agent stops): stop working, and return. */
  readonly signal: AbortSignal;
  /**
   * The steers for this turn as they arrive (those already waiting first);
   * each one delivered to a subscriber is taken (`turn.steered`).
   */
  readonly steers$: Observable<TurnSteerInput>;

  private readonly controller = new AbortController();
  private readonly waiting: TurnSteerInput[] = [];
  private readonly listeners = new Set<(steer: TurnSteerInput) => void>();
  private textItem: string | undefined;
  private over = false;

  constructor(
    init: ServedTurnInit,
    private readonly writer: TurnWriter,
  ) {
    this.threadId = init.threadId;
    this.turnId = init.turnId;
    this.messageId = init.messageId;
    this.content = init.content;
    this.text = contentText(init.content);
    this.files = init.content.flatMap((item) => (item.type === 'file' ? [item.url] : []));
    this.sender = init.sender;
    this.start = init.start;
    this.signal = this.controller.signal;
    this.steers$ = new Observable<TurnSteerInput>((subscriber) => {
      for (const steer of this.takeSteers()) subscriber.next(steer);
      const listener = (steer: TurnSteerInput) => subscriber.next(steer);
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    });
  }

  /** Takes the steers that arrived and were not taken yet (each one is then `turn.steered`). */
  takeSteers(): TurnSteerInput[] {
    const taken = this.waiting.splice(0);
    for (const steer of taken) this.writer.take(steer.messageId);
    return taken;
  }

  /** Writes a piece of the answer's text (`text_content.delta`; the item starts with the first). Empty text is skipped. */
  writeText(text: string): void {
    if (text === '' || !this.writable()) return;
    if (this.textItem === undefined) {
      this.textItem = newMessageId();
      this.writer.publish(AgentMessageType.TextStarted, { item_id: this.textItem });
    }
    this.writer.publish(AgentMessageType.TextDelta, { item_id: this.textItem, text });
  }

  /** Ends the current text item (`text_content.ended`); the next write starts another. */
  endText(): void {
    if (this.textItem === undefined) return;
    this.writer.publish(AgentMessageType.TextEnded, { item_id: this.textItem });
    this.textItem = undefined;
  }

  /** Reports a tool call: `tool_call.pending` and `tool_call.started` now; log and end it on the handle. */
  toolCall(call: { toolkit: string; tool: string; arguments?: Record<string, unknown> }): ToolCallHandle {
    this.endText();
    const itemId = newMessageId();
    const fields = { item_id: itemId, toolkit: call.toolkit, tool: call.tool, arguments: call.arguments };
    if (this.writable()) {
      this.writer.publish(AgentMessageType.ToolCallPending, fields);
      this.writer.publish(AgentMessageType.ToolCallStarted, fields);
    }
    let ended = false;
    return {
      itemId,
      log: (lines) => {
        if (!ended && this.writable()) this.writer.publish(AgentMessageType.ToolCallLogDelta, { item_id: itemId, lines });
      },
      end: (outcome = {}) => {
        if (ended) return;
        ended = true;
        if (this.writable()) this.writer.publish(AgentMessageType.ToolCallEnded, { item_id: itemId, toolkit: call.toolkit, tool: call.tool, result: outcome.result, error: outcome.error });
      },
    };
  }

  /** Sets the thread's status line (`thread.status`, e.g. "Thinking"); undefined clears it. */
  status(status: string | undefined, mode?: 'busy' | 'steerable'): void {
    if (this.writable()) this.writer.publish(AgentMessageType.ThreadStatus, { status: status ?? null, mode });
  }

  /** Publishes any other agent message of this turn (`thread_id` and `turn_id` are added). */
  publish(type: string, fields: Record<string, unknown> = {}): void {
    if (this.writable()) this.writer.publish(type, fields);
  }

  /** @internal A steer arrived: to a listener at once, else it waits. */
  deliver(steer: TurnSteerInput): void {
    const [listener] = this.listeners;
    if (listener === undefined) {
      this.waiting.push(steer);
      return;
    }
    this.writer.take(steer.messageId);
    for (const each of this.listeners) each(steer);
  }

  /** @internal Interrupted: later writes are dropped, as MeshAgent drops a cancelled turn's output. */
  abort(): void {
    this.controller.abort(new RoomStateError(RoomStateErrorCode.AgentTurnCancelled, 'the turn was interrupted.'));
  }

  /** @internal The turn ended: the open text item is closed, later writes are dropped. */
  close(): void {
    if (!this.over) this.endText();
    this.over = true;
    this.waiting.length = 0;
    this.listeners.clear();
  }

  private writable(): boolean {
    return !this.over && !this.signal.aborted;
  }
}
