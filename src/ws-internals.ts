/**
 * Everything roomstate takes from the `ws` package beyond its public API, in
 * one place. ws 8 keeps these private, so each is read through a feature
 * check that degrades (returns undefined, or "idle") instead of breaking when
 * a ws release renames it, and test/server/ws-internals.test.ts fails when
 * one of them stops working against the installed ws. `ws` is pinned with
 * `~` in package.json for the same reason.
 *
 * - `_socket`: the `net.Socket` under a websocket, corked to batch a tick's
 *   frames into one write (the server's binding, the Node client, the bench);
 * - `_receiver`: ws's frame parser, read to tell whether a frame or a
 *   fragmented message is half-received (the server's partial-message timeout);
 * - `binaryType`: an accessor on ws's prototype, wrapped so `'arraybuffer'`
 *   delivers `Buffer`s (no copy per frame);
 * - `_handle.bytesWritten` and `_handle.writeQueueSize` of a `net.Socket`
 *   (Node's, not ws's): what the kernel has taken of the socket's output,
 *   which tells a peer that reads slowly from one that reads nothing (the
 *   server's heartbeat and slow-consumer check);
 * - the text of ws's error for a refused upgrade, "Unexpected server response: 403".
 *
 * Imports nothing of `ws` or `node:*` at run time (types only), so the
 * browser-safe client may use the error text.
 */
import type { Socket } from 'node:net';
import { RoomStateError, RoomStateErrorCode } from './errors.js';

/** The `net.Socket` under a ws websocket, or undefined when ws no longer keeps it where 8.x does (or not yet: still connecting). */
export function tcpSocketOf(ws: object): Socket | undefined {
  const socket = (ws as { _socket?: unknown })._socket;
  if (socket === null || typeof socket !== 'object') return undefined;
  const candidate = socket as Partial<Socket>;
  return typeof candidate.cork === 'function' && typeof candidate.uncork === 'function' && typeof candidate.write === 'function' ? (socket as Socket) : undefined;
}

/** {@link tcpSocketOf} for callers (tests, benches) that cannot go on without it: throws naming the ws version to check. */
export function requireTcpSocket(ws: object): Socket {
  const socket = tcpSocketOf(ws);
  if (socket === undefined) throw new RoomStateError(RoomStateErrorCode.Validation, 'ws keeps no net.Socket in `_socket` (a ws release other than 8.x?): see src/ws-internals.ts.');
  return socket;
}

/**
 * The counters of a net.Socket's (private) libuv stream handle: Node's own
 * socket timeout reads `writeQueueSize` the same way, to tell a write in
 * progress from an idle socket.
 */
interface StreamHandleCounters {
  /** Bytes Node handed to libuv, whether or not the kernel took them yet. */
  bytesWritten: number;
  /** Of those, bytes libuv still holds because the kernel refused them (its buffers are full). */
  writeQueueSize: number;
}

function countersOf(socket: Socket): StreamHandleCounters | undefined {
  const handle = (socket as unknown as { _handle?: Partial<StreamHandleCounters> | null })._handle;
  if (handle === undefined || handle === null) return undefined;
  const { bytesWritten, writeQueueSize } = handle;
  return typeof bytesWritten === 'number' && typeof writeQueueSize === 'number' ? (handle as StreamHandleCounters) : undefined;
}

/**
 * Bytes of `socket`'s output the kernel has accepted so far: what Node
 * handed to libuv less what libuv still queues. It grows while the peer
 * reads (or while the kernel's buffers have room) and stands still once the
 * buffers are full and the peer reads nothing. Undefined when the socket has
 * no handle (closed) or Node keeps these counters elsewhere: callers then
 * judge without it. (The public `socket.bytesWritten` also counts bytes the
 * kernel has not taken, and walks the whole write buffer to do so.)
 */
export function kernelBytesTaken(socket: Socket): number | undefined {
  const counters = countersOf(socket);
  return counters === undefined ? undefined : counters.bytesWritten - counters.writeQueueSize;
}

/**
 * Bytes libuv holds for `socket` because the kernel refused them: more than
 * 0 only while the kernel's buffers are full. 0 when that cannot be read.
 */
export function kernelRefusedBytes(socket: Socket): number {
  return countersOf(socket)?.writeQueueSize ?? 0;
}

/** The parts of ws's (private) frame parser that say whether it holds part of a message. */
interface ReceiverState {
  _state: number;
  _bufferedBytes: number;
  _fragmented: number;
}

function receiverOf(ws: object): ReceiverState | undefined {
  const receiver = (ws as { _receiver?: Partial<ReceiverState> })._receiver;
  if (receiver === undefined || receiver === null) return undefined;
  const { _state, _bufferedBytes, _fragmented } = receiver;
  return typeof _state === 'number' && typeof _bufferedBytes === 'number' && typeof _fragmented === 'number' ? (receiver as ReceiverState) : undefined;
}

/** Whether this ws exposes its frame parser's state as 8.x does. */
export function canReadReceiver(ws: object): boolean {
  return receiverOf(ws) !== undefined;
}

/**
 * True when ws's receiver holds no part of a frame nor of a fragmented
 * message. A receiver that cannot be read counts as idle, so a ws release
 * that renames these fields turns the partial-message check off rather than
 * cutting healthy peers.
 */
export function receiverIdle(ws: object): boolean {
  const receiver = receiverOf(ws);
  if (receiver === undefined) return true;
  // State 0 is GET_INFO: waiting for the first byte of a new frame.
  return receiver._state === 0 && receiver._bufferedBytes === 0 && receiver._fragmented === 0;
}

/**
 * Makes `binaryType = 'arraybuffer'` on instances of `Subclass` (a subclass
 * of ws's WebSocket) deliver Node `Buffer`s instead, which are Uint8Array
 * views and need no copy per frame. ws defines `binaryType` as an accessor on
 * its prototype; returns false (and leaves ws's behaviour) when it does not.
 */
export function deliverArrayBuffersAsBuffers(Subclass: { prototype: object }, WsClass: { prototype: object }): boolean {
  const accessor = Object.getOwnPropertyDescriptor(WsClass.prototype, 'binaryType');
  if (accessor?.get === undefined || accessor.set === undefined) return false;
  const { get, set } = accessor;
  Object.defineProperty(Subclass.prototype, 'binaryType', {
    configurable: true,
    enumerable: accessor.enumerable ?? false,
    get(this: object): unknown {
      return get.call(this);
    },
    set(this: object, type: unknown): void {
      set.call(this, type === 'arraybuffer' ? 'nodebuffer' : type);
    },
  });
  return true;
}

/** ws's error message for an upgrade answered with another status than 101, as ws words it. */
export function upgradeRefusedText(status: number): string {
  return `Unexpected server response: ${status}`;
}

/** The HTTP status in ws's refused-upgrade error message, if `text` is one. */
export function upgradeRefusedStatus(text: string): number | undefined {
  const match = /Unexpected server response: (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
}
