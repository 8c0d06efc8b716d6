/**
 * The one road to the socket. Everything the client writes (sends and
 * broadcasts from the outbox, `enable` and `disable`, `set_attributes`)
 * goes through the port of the socket that is open now, and every answer
 * that concerns the messaging machine (an enable refused, a disable
 * completed, a send answered "not found") comes back out of it as a
 * messaging event, for the pipeline to send. The pipeline connects and
 * disconnects the port as sockets open and close; it is the port's only
 * reader.
 *
 * @packageDocumentation
 */
import { Observable } from 'rxjs';
import type { MessagingEvent } from '../../machines/index.js';
import { RoomServerError } from '../errors.js';
import { MessageType } from '../protocol/message-types.js';
import type { Link } from './link.js';
import { LinkLostError, type Pending } from './requests.js';
import { encodeInvoke, type MessagingTool } from '../protocol/messaging.js';

/** Where warnings go. */
export interface PortLogger {
  warn(message: string, ...details: unknown[]): void;
}

// Makes tool_call_ids unique within this runtime; no randomness needed.
let toolCalls = 0;

/** The port to the socket that is open now, if any. */
export class SocketPort {
  private link: Link | undefined;
  private listener: ((event: MessagingEvent) => void) | undefined;

  constructor(private readonly logger: PortLogger) {}

  /** A socket opened: writes go to it from now on. */
  connect(link: Link): void {
    this.link = link;
  }

  /** `link` closed (or was torn down): writes fail until the next one opens. */
  disconnect(link: Link): void {
    if (this.link === link) this.link = undefined;
  }

  /** The answers for the messaging machine, in the order they came. One reader (the pipeline). */
  answers(): Observable<MessagingEvent> {
    return new Observable<MessagingEvent>((subscriber) => {
      this.listener = (event) => subscriber.next(event);
      return () => {
        this.listener = undefined;
      };
    });
  }

  /** Passes an answer on to the messaging machine (the outbox's "not found"). */
  answer(event: MessagingEvent): void {
    this.listener?.(event);
  }

  /**
   * Invokes a messaging tool on the open socket; `pending` is settled with
   * the answer, or rejected with {@link LinkLostError} when there is none.
   */
  invoke(tool: MessagingTool, json: Record<string, unknown>, pending: Pending, attachment?: Uint8Array): void {
    const link = this.link;
    if (link === undefined) {
      // Never settled synchronously: the outbox may be iterating its queue.
      queueMicrotask(() => pending.reject(new LinkLostError()));
      return;
    }
    // 0.39.9 gives one-way invocations (enable, disable) a tool_call_id.
    const toolCallId = tool === 'enable' || tool === 'disable' ? `${Date.now()}-${++toolCalls}` : undefined;
    link.request(MessageType.InvokeTool, encodeInvoke(tool, json, toolCallId, attachment), pending);
  }

  /** Writes a one-way message (`set_attributes`); moot when no socket is open (the state is re-sent on the next). */
  notify(type: string, data: Uint8Array): void {
    this.link?.send(type, data);
  }

  /** Asks to enable messaging; a refusal comes back as `messaging.enable_failed` (success as the server's snapshot). */
  enable(): void {
    this.invoke('enable', {}, {
      resolve: () => undefined,
      reject: (error: unknown) => {
        // An answer lost with its socket is moot: the machine re-enables after the reconnect.
        if (error instanceof LinkLostError) return;
        const code = error instanceof RoomServerError ? error.protocolCode : undefined;
        const message = error instanceof Error ? error.message : String(error);
        this.answer(code === undefined ? { type: 'messaging.enable_failed', message } : { type: 'messaging.enable_failed', message, code });
      },
    });
  }

  /** Asks to disable messaging; the answer (or a failure, logged) comes back as `messaging.disable_completed`. */
  disable(): void {
    this.invoke('disable', {}, {
      resolve: () => this.answer({ type: 'messaging.disable_completed' }),
      reject: (error: unknown) => {
        if (error instanceof LinkLostError) return;
        this.logger.warn(`roomstate client: one-way room request failed for messaging.disable: ${(error as Error).message}`);
        this.answer({ type: 'messaging.disable_completed' });
      },
    });
  }
}
