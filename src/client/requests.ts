/**
 * Request/response correlation for one websocket: a message id counter that
 * starts at 0 for every new socket (as the official TypeScript client does)
 * and a map from request id to its pending promise. `__response__` messages
 * carry the id of their request; their content decodes with
 * {@link decodeContent}, and `error` content becomes a {@link RoomServerError}.
 *
 * @packageDocumentation
 */
import { RoomServerError, RoomStateError, RoomStateErrorCode } from '../errors.js';
import { decodeContent, encodeContent, type Content } from '../protocol/content.js';

// Most answers (every accepted send) are exactly the `empty` content: recognised by its bytes, not parsed.
const EMPTY_BYTES = encodeContent({ type: 'empty' });
const EMPTY_CONTENT: Content = Object.freeze({ type: 'empty' as const });

function isEmptyContent(data: Uint8Array): boolean {
  if (data.byteLength !== EMPTY_BYTES.byteLength) return false;
  for (let i = 0; i < data.byteLength; i++) if (data[i] !== EMPTY_BYTES[i]) return false;
  return true;
}

/**
 * The socket a request was written to closed before its answer came. The
 * client never lets this escape to callers: queued messaging sends are
 * retried after the reconnect, and the room-closed path rejects with
 * {@link RoomClosedError}.
 */
export class LinkLostError extends RoomStateError {
  constructor() {
    super(RoomStateErrorCode.Closed, 'the websocket closed before the server answered the request.');
    this.name = 'LinkLostError';
  }
}

/** Who is told a request's answer: callbacks, so a caller that already holds a promise (a queued send) adds none. */
export interface Pending {
  resolve(content: Content): void;
  reject(error: unknown): void;
}

/** Message ids and pending requests of one websocket. */
export class RequestTracker {
  private next = 0;
  private readonly pending = new Map<number, Pending>();

  /** Takes the next message id (every message uses one, answered or not). */
  nextId(): number {
    return this.next++;
  }

  /** Number of requests waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Registers request `id`; `pending` is settled with its answer. */
  expect(id: number, pending: Pending): void {
    this.pending.set(id, pending);
  }

  /**
   * Settles request `id` with the `__response__` data. Returns false when no
   * such request is pending (a one-way request, or a stray answer).
   * Undecodable data rejects the request with the {@link CodecError}.
   */
  settle(id: number, data: Uint8Array): boolean {
    const pending = this.pending.get(id);
    if (pending === undefined) return false;
    this.pending.delete(id);
    if (isEmptyContent(data)) {
      pending.resolve(EMPTY_CONTENT);
      return true;
    }
    let content: Content;
    try {
      content = decodeContent(data);
    } catch (error) {
      pending.reject(error);
      return true;
    }
    if (content.type === 'error') pending.reject(new RoomServerError(content.text, content.code));
    else pending.resolve(content);
    return true;
  }

  /** Rejects every pending request with `error` (the socket is gone). */
  failAll(error: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const pending of all) pending.reject(error);
  }
}
