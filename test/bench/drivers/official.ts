/**
 * The official MeshAgent TypeScript client (npm `@meshagent/meshagent`
 * 0.39.9, loaded with `require` by test/helpers/official-client.ts), used as
 * an application would use it: `RoomClient.start()`, `messaging.enable()`,
 * `sendMessage` / `broadcastMessage` (which resolve on the server's answer),
 * presence from `messaging_enabled` / `participant_added` /
 * `participant_removed`, messages from `on('message')`. It connects to the
 * roomstate server, so comparing it with the roomstate client on the same
 * server measures the clients alone.
 */
import type * as Mesh from '@meshagent/meshagent';
import { clearMeshagentEnv, meshagent, mintOfficialToken, roomUrl } from '../../helpers/official-client.js';
import type { BenchBody, BenchDriver, BenchPeer, ReceivedMessage } from './types.js';
import { BENCH_MESSAGE_TYPE } from './types.js';

const PRESENCE_TYPES = new Set(['messaging.enabled', 'participant.enabled', 'participant.disabled', 'participant.attributes']);

class OfficialBenchPeer implements BenchPeer {
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  onPresence: (() => void) | undefined;
  onClose: ((why: string) => void) | undefined;
  closedWith: string | undefined;
  private readonly presence = new Set<string>();
  private enabled: (() => void) | undefined;
  /** Set by {@link OfficialBenchPeer.close}: a close the workload asked for is not reported. */
  private closing = false;

  constructor(private readonly client: Mesh.RoomClient) {
    // Reported so that a member the server dropped fails presenceComplete at once, not at its deadline.
    const ended = (why: string): void => {
      if (this.closing) return;
      this.closedWith = why;
      this.onClose?.(why);
    };
    client.waitForClose().then(
      () => ended('closed (the official client\'s protocol ended)'),
      (error: unknown) => ended(`closed (${error instanceof Error ? error.message : String(error)})`),
    );
    const messaging = client.messaging;
    messaging.on('message', (event: Mesh.RoomMessageEvent) => {
      const message = event.message;
      if (PRESENCE_TYPES.has(message.type)) return;
      this.onMessage?.({ from: message.fromParticipantId, body: message.message as unknown as BenchBody, attachmentBytes: message.attachment?.byteLength ?? 0 });
    });
    messaging.on('messaging_enabled', (event: Mesh.RoomMessageEvent) => {
      this.presence.clear();
      for (const participant of (event.message.message as { participants: Array<{ id: string }> }).participants) this.presence.add(participant.id);
      this.enabled?.();
      this.enabled = undefined;
      this.onPresence?.();
    });
    messaging.on('participant_added', (event: Mesh.RoomMessageEvent) => {
      this.presence.add(String((event.message.message as { id: string }).id));
      this.onPresence?.();
    });
    messaging.on('participant_removed', (event: Mesh.RoomMessageEvent) => {
      this.presence.delete(String((event.message.message as { id: string }).id));
      this.onPresence?.();
    });
  }

  get id(): string {
    return this.client.localParticipant?.id ?? '';
  }

  enable(): Promise<void> {
    return new Promise((resolve) => {
      this.enabled = resolve;
      this.client.messaging.enable();
    });
  }

  send(to: string, body: BenchBody, attachment?: Uint8Array): Promise<void> {
    return this.client.messaging.sendMessage({ to: { id: to } as Mesh.Participant, type: BENCH_MESSAGE_TYPE, message: body as unknown as Record<string, unknown>, ...(attachment ? { attachment } : {}) });
  }

  broadcast(body: BenchBody): Promise<void> {
    return this.client.messaging.broadcastMessage({ type: BENCH_MESSAGE_TYPE, message: body as unknown as Record<string, unknown> });
  }

  presenceSize(): number {
    return this.presence.size;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.client.dispose();
    await this.client.waitForClose();
  }
}

/** Creates the official client driver for a roomstate server at `url`. */
export function officialClientDriver(url: string, secret: string): BenchDriver {
  // MESHAGENT_API_KEY and friends override explicit settings in the official client.
  clearMeshagentEnv();
  return {
    acknowledged: true,
    connect: async (room, name) => {
      const token = await mintOfficialToken({ secret, room, name });
      // No reconnects, as for the roomstate driver: a dropped benchmark connection is a failure.
      const client = new meshagent.RoomClient({
        protocolFactory: meshagent.WebSocketClientProtocol.createFactory({ url: roomUrl(url, room), token }),
        reconnectTimeout: 0,
      });
      const peer = new OfficialBenchPeer(client);
      await client.start();
      return peer;
    },
  };
}
