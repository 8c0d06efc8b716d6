/**
 * The roomstate client driver: the real `RoomClient` from `src/client/node.ts`,
 * used as an application would use it. Presence is tracked from
 * `participantAdded$` / `participantRemoved$`, messages from `messages$`;
 * sends are `sendMessage` / `broadcastMessage`, which resolve on the server's
 * response.
 */
import { mintToken } from '../../../src/auth/token.js';
import { RoomClient } from '../../../src/client/node.js';
import type { BenchBody, BenchDriver, BenchPeer, ReceivedMessage } from './types.js';
import { BENCH_MESSAGE_TYPE } from './types.js';

class RoomstatePeer implements BenchPeer {
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  onPresence: (() => void) | undefined;
  private readonly presence = new Set<string>();

  constructor(private readonly client: RoomClient) {
    const messaging = client.messaging;
    messaging.messages$.subscribe((message) => {
      this.onMessage?.({ from: message.fromParticipantId, body: message.message as BenchBody, attachmentBytes: message.attachment?.byteLength ?? 0 });
    });
    messaging.participantAdded$.subscribe((participant) => {
      this.presence.add(participant.id);
      this.onPresence?.();
    });
    messaging.participantRemoved$.subscribe((participant) => {
      this.presence.delete(participant.id);
      this.onPresence?.();
    });
  }

  get id(): string {
    return this.client.localParticipant.id;
  }

  enable(): Promise<void> {
    return this.client.messaging.enable();
  }

  send(to: string, body: BenchBody, attachment?: Uint8Array): Promise<void> {
    return this.client.messaging.sendMessage(attachment ? { to, type: BENCH_MESSAGE_TYPE, message: body, attachment } : { to, type: BENCH_MESSAGE_TYPE, message: body });
  }

  broadcast(body: BenchBody): Promise<void> {
    return this.client.messaging.broadcastMessage({ type: BENCH_MESSAGE_TYPE, message: body });
  }

  presenceSize(): number {
    return this.presence.size;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Creates the roomstate client driver for a roomstate server at `url`. */
export function roomstateClientDriver(url: string, secret: string): BenchDriver {
  return {
    acknowledged: true,
    connect: async (room, name) => {
      const token = await mintToken({ secret, room, name });
      // No reconnects: a benchmark connection that drops is a failure to report, not to hide.
      // Long handshake/enable timeouts: filling a 1000-member room keeps this one process
      // busy with presence for minutes, and a late reply is a figure, not a failure.
      const patience = 15 * 60_000;
      const client = new RoomClient({ url, room, token, reconnectTimeout: 0, connectTimeout: patience, handshakeTimeout: patience, enableTimeout: patience });
      const peer = new RoomstatePeer(client);
      await client.start();
      return peer;
    },
  };
}
