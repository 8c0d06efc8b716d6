/**
 * One websocket to the room, as a cold observable of transport events. Each
 * subscription opens a socket; unsubscribing closes it with 1000. Frames are
 * reassembled with the codec's {@link PacketReassembler}; requests written
 * on the socket are correlated by a {@link RequestTracker} that lives and
 * dies with it.
 *
 * @packageDocumentation
 */
import { Observable } from 'rxjs';
import { CodecError } from '../errors.js';
import { encodePacketsWithTypeBytes, encodeType, PacketReassembler, type ProtocolMessage } from '../protocol/packets.js';
import { MessageType } from '../protocol/message-types.js';
import { CloseCode } from '../protocol/close-codes.js';
import { LinkLostError, RequestTracker, type Pending } from './requests.js';
import { socketFailureOf, type SocketFailure } from './socket-failure.js';
import type { ResumeSession } from './resume.js';
import { unpackEnvelope } from '../protocol/envelope.js';
import { decodeResumeAnswer } from '../protocol/resume.js';
import { ReadyState, type WebSocketConstructor, type WebSocketLike, type WebSocketLikeEventMap } from './websocket.js';

/** Writing to and requesting over one open websocket. */
export interface Link {
  /** Sends a one-way message; returns the message id it used, or -1 when the socket is not open. */
  send(type: string, data: Uint8Array): number;
  /**
   * Sends a request; `pending` is settled with the content of its
   * `__response__`, or rejected with {@link LinkLostError} (at once when the
   * socket is not open).
   */
  request(type: string, data: Uint8Array, pending: Pending): void;
}

/** What one websocket reports. `link` is the same object for all events of one socket. */
export type LinkEvent =
  | { type: 'transport.opened'; link: Link }
  | { type: 'transport.message'; link: Link; message: ProtocolMessage }
  | { type: 'transport.closed'; link: Link; code: number; reason: string; httpStatus?: number; error?: string }
  | { type: 'transport.failed'; link: Link; error: CodecError };

/** Options of {@link openLink}. */
export interface OpenLinkOptions {
  /** The websocket constructor. */
  WebSocket: WebSocketConstructor;
  /** The full room URL, token included. */
  url: string;
  /** Called with a promise that settles when a socket closed by unsubscribing has finished closing. */
  onClosing?: (closed: Promise<void>) => void;
  /**
   * The client's resume state, when it resumes after drops: the socket
   * asks for (or resumes with) a key, numbers requests with the session's
   * ids and leaves unanswered requests pending when it closes (the session
   * settles them).
   */
  resume?: ResumeSession;
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

const noop = (): void => {};

// The client writes a handful of message types; each is UTF-8 encoded once, not per message.
const typeBytes = new Map<string, Uint8Array>();
function encodedType(type: string): Uint8Array {
  let bytes = typeBytes.get(type);
  if (bytes === undefined) typeBytes.set(type, (bytes = encodeType(type)));
  return bytes;
}

/**
 * Opens a websocket per subscription and reports `transport.opened`,
 * `transport.message` (whole protocol messages other than `__response__`,
 * which settle their requests), `transport.failed` (a frame
 * the codec refused; the connection carries on) and finally
 * `transport.closed`, then completes.
 *
 * @example
 * ```ts
 * openLink({ WebSocket, url }).subscribe((event) => console.log(event.type));
 * ```
 */
export function openLink(options: OpenLinkOptions): Observable<LinkEvent> {
  return new Observable<LinkEvent>((subscriber) => {
    const resume = options.resume;
    const socket: WebSocketLike = new options.WebSocket(resume === undefined ? options.url : resume.url(options.url));
    socket.binaryType = 'arraybuffer';
    // A permanent error listener: `ws` throws an 'error' event that has none
    // (e.g. when a socket still connecting is closed during teardown).
    socket.addEventListener('error', noop);
    const tracker = resume?.tracker ?? new RequestTracker();
    // Resuming: messages after `connected` are counted (the server numbers the same ones).
    let counting = false;
    const reassembler = new PacketReassembler();
    // The first error event that says anything is the one that explains the close.
    let failure: SocketFailure = {};

    const write = (type: string, data: Uint8Array): number => {
      // A one-way message on a socket that is no longer open is moot: the
      // state it carries is re-sent on the next connection.
      if (socket.readyState !== ReadyState.Open) return -1;
      const id = tracker.nextId();
      // Frames of one message go out back to back: never interleaved.
      for (const frame of encodePacketsWithTypeBytes(id, encodedType(type), data)) socket.send(frame);
      return id;
    };
    const link: Link = {
      send: write,
      request(type, data, pending) {
        if (socket.readyState !== ReadyState.Open) {
          // Never settled synchronously: the caller may be iterating its queue.
          queueMicrotask(() => pending.reject(new LinkLostError()));
          return;
        }
        const id = tracker.nextId();
        tracker.expect(id, pending);
        resume?.wrote(id, type, data);
        for (const frame of encodePacketsWithTypeBytes(id, encodedType(type), data)) socket.send(frame);
      },
    };
    const rewrite = (id: number, type: string, data: Uint8Array): void => {
      for (const frame of encodePacketsWithTypeBytes(id, encodedType(type), data)) socket.send(frame);
    };

    // Listeners straight on the socket, not fromEvent + merge: a received
    // message then costs one call into this observable's subscriber, not an
    // event object and three operator hops (the receive path's floor).
    let closed = false;
    const onOpen = (): void => subscriber.next({ type: 'transport.opened', link });
    const onMessage = (event: WebSocketLikeEventMap['message']): void => {
      const bytes = bytesOf(event.data);
      if (bytes === undefined) {
        subscriber.next({ type: 'transport.failed', link, error: new CodecError('received a text frame; the protocol uses binary frames only.') });
        return;
      }
      let message: ProtocolMessage | undefined;
      try {
        message = reassembler.push(bytes);
      } catch (error) {
        subscriber.next({ type: 'transport.failed', link, error: error as CodecError });
        return;
      }
      if (message === undefined) return;
      if (resume !== undefined) {
        if (counting) resume.received++;
        else if (message.type === MessageType.Connected) counting = true;
        else if (message.type === MessageType.RoomReady) adoptResume(resume, message.data);
      }
      // Answers settle their request here; one-way requests have none pending and are dropped.
      if (message.type === MessageType.Response) {
        if (tracker.settle(message.id, message.data)) resume?.answered(message.id);
      } else subscriber.next({ type: 'transport.message', link, message });
    };
    const onError = (event: WebSocketLikeEventMap['error']): void => {
      if (failure.httpStatus === undefined && failure.error === undefined) failure = socketFailureOf(event);
    };
    const onClose = (event: WebSocketLikeEventMap['close']): void => {
      closed = true;
      // A resumable session keeps them: a resume answers or rewrites them, a refusal fails them.
      if (resume === undefined && tracker.size > 0) tracker.failAll(new LinkLostError());
      subscriber.next({
        type: 'transport.closed',
        link,
        code: event.code,
        // A refused upgrade has no close reason; the server's refusal reason stands in.
        reason: failure.httpReason ?? (typeof event.reason === 'string' ? event.reason : String(event.reason ?? '')),
        ...(failure.httpStatus === undefined ? {} : { httpStatus: failure.httpStatus }),
        ...(failure.error === undefined ? {} : { error: failure.error }),
      });
      subscriber.complete();
    };
    socket.addEventListener('open', onOpen);
    socket.addEventListener('message', onMessage);
    socket.addEventListener('error', onError);
    socket.addEventListener('close', onClose);
    const unlisten = (): void => {
      socket.removeEventListener('open', onOpen);
      socket.removeEventListener('message', onMessage);
      socket.removeEventListener('error', onError);
      socket.removeEventListener('close', onClose);
    };

    const adoptResume = (session: ResumeSession, data: Uint8Array): void => {
      try {
        session.adopt(decodeResumeAnswer(unpackEnvelope(data).header), rewrite);
      } catch (error) {
        // A malformed answer: the session starts over, as with a server that offers nothing.
        session.adopt(undefined, rewrite);
        subscriber.next({ type: 'transport.failed', link, error: error as CodecError });
      }
    };

    return () => {
      unlisten();
      if (resume === undefined && tracker.size > 0) tracker.failAll(new LinkLostError());
      if (closed || socket.readyState === ReadyState.Closed) return;
      const finished = new Promise<void>((resolve) => {
        const done = (): void => {
          socket.removeEventListener('close', done);
          resolve();
        };
        socket.addEventListener('close', done);
      });
      options.onClosing?.(finished);
      if (socket.readyState === ReadyState.Connecting || socket.readyState === ReadyState.Open) socket.close(CloseCode.Normal);
    };
  });
}
