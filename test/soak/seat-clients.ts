/**
 * The clients of the soak, behind one small interface: the official
 * MeshAgent client (npm `@meshagent/meshagent` 0.39.9, unmodified) and
 * roomstate's own `RoomClient`. Neither reconnects: a lost connection ends
 * the client, and the soak seats a new one (a new participant).
 */
import { mintToken } from '../../src/auth/token.js';
import { RoomClient } from '../../src/client/node.js';
import { OfficialPeer } from '../helpers/official-client.js';

/** A message a soak client received. */
export interface Received {
  readonly from: string;
  readonly type: string;
  readonly body: unknown;
}

/** One connected, messaging-enabled soak client. */
export interface SeatClient {
  readonly kind: 'official' | 'roomstate';
  /** The participant id of this connection. */
  readonly id: string;
  /** Ids of the remote participants this client's presence lists. */
  presentIds(): string[];
  send(to: string, type: string, body: unknown): Promise<void>;
  broadcast(type: string, body: unknown): Promise<void>;
  /** Resolves once the connection is gone. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** How a seat connects. */
export interface SeatTarget {
  readonly url: string;
  readonly room: string;
  readonly name: string;
  readonly secret: string;
  readonly onMessage: (message: Received) => void;
}

/** Connects the official client and enables messaging. */
export async function officialSeat(target: SeatTarget, timeoutMs: number): Promise<SeatClient> {
  const peer = await OfficialPeer.connect({ baseUrl: target.url, room: target.room, name: target.name, secret: target.secret });
  const messaging = peer.client.messaging;
  messaging.on('message', (event: { message: { fromParticipantId: string; type: string; message: unknown } }) => {
    const { fromParticipantId, type, message } = event.message;
    target.onMessage({ from: fromParticipantId, type, body: message });
  });
  const closed = peer.client.waitForClose().catch(() => undefined);
  try {
    await peer.enable({ timeoutMs });
  } catch (error) {
    await peer.leave().catch(() => undefined);
    throw error;
  }
  return {
    kind: 'official',
    id: peer.id,
    presentIds: () => messaging.getParticipants().map((participant) => participant.id),
    async send(to, type, body) {
      const participant = messaging.getParticipants().find((candidate) => candidate.id === to);
      if (participant === undefined) throw new Error('not listed');
      await messaging.sendMessage({ to: participant, type, message: body as Record<string, unknown> });
    },
    broadcast: (type, body) => messaging.broadcastMessage({ type, message: body as Record<string, unknown> }),
    closed: closed.then(() => undefined),
    close: () => peer.leave().catch(() => undefined),
  };
}

/** Connects roomstate's client and enables messaging. */
export async function roomstateSeat(target: SeatTarget, timeoutMs: number): Promise<SeatClient> {
  const token = await mintToken({ secret: target.secret, room: target.room, name: target.name });
  const client = new RoomClient({ url: target.url, room: target.room, token, reconnectTimeout: 0, connectTimeout: timeoutMs, enableTimeout: timeoutMs });
  const subscription = client.messaging.messages$.subscribe((message) => target.onMessage({ from: message.fromParticipantId, type: message.type, body: message.message }));
  const closed = client.waitForClose().catch(() => undefined);
  void closed.then(() => subscription.unsubscribe());
  try {
    await client.start();
    await client.messaging.enable();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return {
    kind: 'roomstate',
    id: client.localParticipant.id,
    presentIds: () => client.messaging.getParticipants().map((participant) => participant.id),
    send: (to, type, body) => client.messaging.sendMessage({ to, type, message: body }),
    broadcast: (type, body) => client.messaging.broadcastMessage({ type, message: body }),
    closed: closed.then(() => undefined),
    close: () => client.close().catch(() => undefined),
  };
}
