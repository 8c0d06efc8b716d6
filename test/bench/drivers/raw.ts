/**
 * Client of the raw ws relay: bare `ws` sockets, frames built by hand. The
 * payload after the addressing bytes is `[bodyLength u32][JSON body][attachment]`.
 * There is no acknowledgement: workloads count deliveries at the receiver.
 * Writes are batched per tick, as in the relay.
 */
import WebSocket from 'ws';
import { corkedSender } from '../cork.js';
import { RawOp } from '../servers/raw-relay.js';
import type { BenchBody, BenchDriver, BenchPeer, ReceivedMessage } from './types.js';
import { closeSocket } from './types.js';

class RawPeer implements BenchPeer {
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  onPresence: (() => void) | undefined;
  private readonly presence = new Set<string>();
  private enabled: (() => void) | undefined;
  private readonly write: (frame: Uint8Array) => void;

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
  ) {
    this.write = corkedSender(ws);
    ws.on('message', (data: Buffer) => this.receive(data));
  }

  enable(): Promise<void> {
    return new Promise((resolve) => {
      this.enabled = resolve;
      this.write(Buffer.of(RawOp.Enable));
    });
  }

  send(to: string, body: BenchBody, attachment?: Uint8Array): undefined {
    const json = JSON.stringify(body);
    const idLength = Buffer.byteLength(to);
    const bodyLength = Buffer.byteLength(json);
    const frame = Buffer.allocUnsafe(2 + idLength + 4 + bodyLength + (attachment?.byteLength ?? 0));
    frame[0] = RawOp.Direct;
    frame[1] = idLength;
    frame.write(to, 2);
    frame.writeUInt32BE(bodyLength, 2 + idLength);
    frame.write(json, 6 + idLength);
    if (attachment) frame.set(attachment, 6 + idLength + bodyLength);
    this.write(frame);
    return undefined;
  }

  broadcast(body: BenchBody): undefined {
    const json = JSON.stringify(body);
    const bodyLength = Buffer.byteLength(json);
    const frame = Buffer.allocUnsafe(5 + bodyLength);
    frame[0] = RawOp.Broadcast;
    frame.writeUInt32BE(bodyLength, 1);
    frame.write(json, 5);
    this.write(frame);
    return undefined;
  }

  presenceSize(): number {
    return this.presence.size;
  }

  close(): Promise<void> {
    return closeSocket(this.ws);
  }

  private receive(frame: Buffer): void {
    const op = frame[0];
    if (op === RawOp.Direct || op === RawOp.Broadcast) {
      const start = op === RawOp.Direct ? 2 + frame[1] : 1;
      const bodyLength = frame.readUInt32BE(start);
      const body = JSON.parse(frame.toString('utf8', start + 4, start + 4 + bodyLength)) as BenchBody;
      this.onMessage?.({ from: '', body, attachmentBytes: frame.byteLength - start - 4 - bodyLength });
    } else if (op === RawOp.Enable) {
      const list = frame.toString('utf8', 1);
      if (list) for (const id of list.split('\n')) this.presence.add(id);
      this.enabled?.();
      this.enabled = undefined;
      this.onPresence?.();
    } else if (op === RawOp.Joined) {
      this.presence.add(frame.toString('utf8', 1));
      this.onPresence?.();
    } else if (op === RawOp.Left) {
      this.presence.delete(frame.toString('utf8', 1));
      this.onPresence?.();
    }
  }
}

/** Creates the raw relay driver for a relay at `url`. */
export function rawDriver(url: string): BenchDriver {
  return {
    acknowledged: false,
    connect: (room, name) =>
      new Promise<BenchPeer>((resolve, reject) => {
        const ws = new WebSocket(`${url}/rooms/${encodeURIComponent(room)}?id=${encodeURIComponent(name)}`, { perMessageDeflate: false });
        ws.once('open', () => {
          ws.off('error', reject);
          ws.on('error', () => undefined);
          resolve(new RawPeer(name, ws));
        });
        ws.once('error', reject);
      }),
  };
}
