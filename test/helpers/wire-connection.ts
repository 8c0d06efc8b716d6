/**
 * The one raw wire connection under the tests' {@link RawClient} and the
 * bench's lean driver (test/bench/drivers/roomstate-lean.ts): a `ws` socket
 * speaking the room protocol through the codec (src/protocol) and nothing
 * else. It reassembles packets, numbers requests, writes their frames (by
 * `ws.send`, or a writer that batches a tick's frames), and hands each
 * response to the request waiting for it; what it decodes beyond the packet
 * layer is left to its owner, so the bench pays for no decoding it does not
 * need. Imports neither vitest nor any test helper: the bench runs it in
 * plain Node.
 *
 * @example
 * ```ts
 * const wire = new WireConnection(ws, { message: (message) => console.log(message.type) });
 * const response = await wire.request(MessageType.InvokeTool, encodeInvoke('enable', {}));
 * console.log(decodeContent(response.data)); // { type: 'empty' }
 * ```
 */
import type { WebSocket } from 'ws';
import { encodePackets, encodePacketsWithTypeBytes, MessageType, PacketReassembler, type MessageId, type ProtocolMessage } from '../../src/protocol/index.js';

/** What a {@link WireConnection} tells its owner. */
export interface WireHandlers {
  /** A complete message from the server, in order; `claimed` when it was the response a {@link WireConnection.request} waited for (and got). */
  message(message: ProtocolMessage, claimed: boolean): void;
  /** A text frame arrived (the protocol is binary only: a server fault). */
  textFrame?(data: Buffer): void;
  /** Frames that could not be reassembled into a message (a server fault). */
  codecError?(error: Error): void;
}

/** Options of a {@link WireConnection}. */
export interface WireConnectionOptions {
  /**
   * Writes one frame; the bench passes one that batches a tick's frames into a write.
   * @defaultValue `ws.send(frame)`
   */
  write?: (frame: Uint8Array) => void;
}

interface Pending {
  readonly type: string | Uint8Array;
  resolve(message: ProtocolMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** A message type as text, for error messages. */
function typeName(type: string | Uint8Array): string {
  return typeof type === 'string' ? type : new TextDecoder().decode(type);
}

/** A protocol connection over one `ws` socket: requests out, messages in. */
export class WireConnection {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly reassembler = new PacketReassembler();
  private readonly write: (frame: Uint8Array) => void;
  private closedWith: string | undefined;

  /**
   * Without `handlers` the connection only writes (an abuser that never
   * reads): nothing it receives is reassembled, and requests cannot be made.
   */
  constructor(
    readonly ws: WebSocket,
    private readonly handlers?: WireHandlers,
    options: WireConnectionOptions = {},
  ) {
    this.write = options.write ?? ((frame) => ws.send(frame));
    if (handlers === undefined) return;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        handlers.textFrame?.(data);
        return;
      }
      let message: ProtocolMessage | undefined;
      try {
        // A plain view: a Buffer's slice() aliases its pool, so nothing decoded may stay a Buffer.
        message = this.reassembler.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (error) {
        handlers.codecError?.(error as Error);
        return;
      }
      if (message !== undefined) this.receive(message);
    });
    ws.once('close', (code: number, reason: Buffer) => {
      this.closedWith = `${code} ${reason.toString()}`;
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`connection closed (${this.closedWith}) before the response to ${typeName(pending.type)} (id ${id})`));
      }
      this.pending.clear();
    });
  }

  /** A fresh request id (counting from 0, as the TS client does). */
  allocateId(): number {
    return this.nextId++;
  }

  /** Encodes and writes one message: `type` as text, or as bytes the codec encoded once (`encodeType`). */
  send(id: MessageId, type: string | Uint8Array, data: Uint8Array): void {
    const frames = typeof type === 'string' ? encodePackets(id, type, data) : encodePacketsWithTypeBytes(id, type, data);
    for (const frame of frames) this.write(frame);
  }

  /**
   * Sends a request under a fresh id (or `id`, already allocated) and
   * resolves with its `__response__`; rejects when the connection closes
   * first, or after `timeoutMs` when given.
   */
  request(type: string | Uint8Array, data: Uint8Array, options: { timeoutMs?: number; id?: number } = {}): Promise<ProtocolMessage> {
    const id = options.id ?? this.allocateId();
    if (this.handlers === undefined) return Promise.reject(new Error(`a write-only connection cannot wait for the response to request ${id}`));
    if (this.closedWith !== undefined) return Promise.reject(new Error(`connection closed (${this.closedWith}) before request ${id} was sent`));
    const { timeoutMs } = options;
    const response = new Promise<ProtocolMessage>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.pending.delete(id);
              reject(new Error(`no response to ${typeName(type)} (id ${id}) within ${timeoutMs} ms`));
            }, timeoutMs);
      this.pending.set(id, { type, resolve, reject, timer });
    });
    this.send(id, type, data);
    return response;
  }

  private receive(message: ProtocolMessage): void {
    const pending = message.type === MessageType.Response ? this.pending.get(message.id) : undefined;
    if (pending !== undefined) {
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
    }
    this.handlers!.message(message, pending !== undefined);
    pending?.resolve(message);
  }
}
