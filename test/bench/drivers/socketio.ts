/**
 * Socket.IO 4 client driver (websocket transport only, no reconnection): sends
 * are `emitWithAck`, so they resolve on the server's acknowledgement.
 */
import { io, type Socket } from 'socket.io-client';
import type { BenchBody, BenchDriver, BenchPeer, ReceivedMessage } from './types.js';
import { BENCH_MESSAGE_TYPE } from './types.js';

interface Reply {
  error?: string;
  participants?: Array<{ id: string }>;
}

interface Push {
  from: string;
  type: string;
  message: BenchBody;
}

class SocketIoPeer implements BenchPeer {
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  onPresence: (() => void) | undefined;
  onClose: ((why: string) => void) | undefined;
  closedWith: string | undefined;
  private readonly presence = new Set<string>();
  /** Set by {@link SocketIoPeer.close}: a close the workload asked for is not reported. */
  private closing = false;

  constructor(private readonly socket: Socket) {
    // Reported so that a member the server dropped fails presenceComplete at once, not at its deadline.
    socket.on('disconnect', (reason) => {
      if (this.closing) return;
      this.closedWith = `disconnected (${reason})`;
      this.onClose?.(this.closedWith);
    });
    socket.on('message', (push: Push, attachment?: ArrayBuffer | Uint8Array) => {
      this.onMessage?.({ from: push.from, body: push.message, attachmentBytes: attachment?.byteLength ?? 0 });
    });
    socket.on('participant.enabled', (participant: { id: string }) => {
      this.presence.add(participant.id);
      this.onPresence?.();
    });
    socket.on('participant.disabled', (participant: { id: string }) => {
      this.presence.delete(participant.id);
      this.onPresence?.();
    });
  }

  get id(): string {
    return this.socket.id ?? '';
  }

  async enable(): Promise<void> {
    const reply = (await this.socket.emitWithAck('enable')) as Reply;
    for (const participant of reply.participants ?? []) this.presence.add(participant.id);
    this.onPresence?.();
  }

  async send(to: string, body: BenchBody, attachment?: Uint8Array): Promise<void> {
    const message = { to, type: BENCH_MESSAGE_TYPE, message: body };
    const reply = (attachment ? await this.socket.emitWithAck('send', message, attachment) : await this.socket.emitWithAck('send', message)) as Reply | null;
    if (reply?.error) throw new Error(reply.error);
  }

  async broadcast(body: BenchBody): Promise<void> {
    await this.socket.emitWithAck('broadcast', { type: BENCH_MESSAGE_TYPE, message: body });
  }

  presenceSize(): number {
    return this.presence.size;
  }

  close(): Promise<void> {
    this.closing = true;
    this.socket.close();
    return Promise.resolve();
  }
}

/** Creates the Socket.IO driver for a server at `url` (a `ws:` URL). */
export function socketIoDriver(url: string): BenchDriver {
  const httpUrl = url.replace(/^ws/, 'http');
  return {
    acknowledged: true,
    connect: (room, name) =>
      new Promise<BenchPeer>((resolve, reject) => {
        // The roomstate drivers wait as long for a handshake (a 10,000 room keeps the server busy
        // for minutes); the client's default 20 s connect timeout would end Socket.IO's run early.
        const socket = io(httpUrl, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 15 * 60_000, auth: { room, name } });
        socket.once('connect', () => {
          socket.off('connect_error');
          resolve(new SocketIoPeer(socket));
        });
        socket.once('connect_error', (error) => {
          socket.close();
          reject(error);
        });
      }),
  };
}
