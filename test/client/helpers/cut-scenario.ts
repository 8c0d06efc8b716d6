/**
 * The cut-connection scenario of resumable participants: numbered direct
 * messages and broadcasts stream to a roomstate client behind a TCP proxy
 * that is cut mid-stream several times, while the client sends numbered
 * messages of its own; an official npm client in the room watches
 * presence. Checks that everything arrived exactly once and in order, both
 * ways, that every reconnect resumed the same participant, that every send
 * promise resolved, and that nobody saw the client leave or join.
 */
import { expect } from 'vitest';
import type { RoomClient, RoomMessage } from '../../../src/client/node.js';
import type { OfficialPeer } from '../../helpers/official-client.js';
import { waitUntil } from '../../helpers/recorder.js';
import { record } from './clients.js';
import type { TcpProxy } from './tcp-proxy.js';

/** Who takes part. */
export interface CutScenarioParts {
  /** The resuming client, connected through `proxy`, messaging enabled. */
  readonly receiver: RoomClient;
  /** Sends numbered direct messages to the receiver, and receives the receiver's. */
  readonly sender: RoomClient;
  /** Broadcasts numbered messages. */
  readonly broadcaster: RoomClient;
  /** An official client in the room, messaging enabled. */
  readonly official: OfficialPeer;
  readonly proxy: TcpProxy;
  /** Called right after cut `index` (from 0), e.g. to point the proxy at another node. */
  readonly afterCut?: (index: number) => void;
  /**
   * Makes cut `index` (from 0), e.g. by killing the receiver's node.
   * @defaultValue `proxy.drop()`
   */
  readonly cut?: (index: number) => void;
}

/** How much traffic, and how many cuts. */
export interface CutScenarioSizes {
  readonly direct: number;
  readonly broadcasts: number;
  readonly cuts: number;
  /** The receiver's own sends at the start and after each cut. */
  readonly backPerStep: number;
}

/** What the scenario measured. */
export interface CutScenarioResult {
  /** Messages the server replayed over all resumes. */
  readonly recovered: number;
}

const WAIT = { timeoutMs: 120_000 };

function numbers(messages: readonly RoomMessage[], type: string): number[] {
  return messages.filter((m) => m.type === type).map((m) => (m.message as { n: number }).n);
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, n) => n);
}

/** Runs the scenario and checks every guarantee (see the file's summary). */
export async function runCutScenario(parts: CutScenarioParts, sizes: CutScenarioSizes): Promise<CutScenarioResult> {
  const { receiver, sender, broadcaster, official, proxy } = parts;
  await waitUntil(() => receiver.messaging.getParticipants().length === 3, { what: 'the receiver to see everyone', ...WAIT });
  await official.participantByName('receiver', WAIT);
  const receiverId = receiver.localParticipant.id;
  const senderId = sender.localParticipant.id;
  const outcomes = record(receiver.resumed$);
  const got = record(receiver.messaging.messages$);
  const atSender = record(sender.messaging.messages$);
  const senderSeesLeave = record(sender.messaging.participantRemoved$);
  const cut = parts.cut ?? (() => proxy.drop());
  let cutsMade = 0;

  // The receiver's own sends: a batch at the start and one right after each cut (queued while
  // reconnecting); those written when a cut comes are in flight across it.
  const back: Promise<void>[] = [];
  let backed = 0;
  const sendBack = (): void => {
    for (let i = 0; i < sizes.backPerStep; i++) back.push(receiver.messaging.sendMessage({ to: senderId, type: 'back', message: { n: backed++ } }));
  };
  sendBack();
  let received = 0;
  const step = Math.floor(sizes.direct / (sizes.cuts + 1));
  const cuts = receiver.messaging.messages$.subscribe(() => {
    received++;
    const done = cutsMade;
    // Halfway through each phase's messages, and only on a connection that came back from the
    // previous cut (frames already read still arrive after one).
    if (done < sizes.cuts && outcomes.items.length === done && received >= (done + 0.5) * step) {
      cutsMade++;
      cut(done);
      parts.afterCut?.(done);
      sendBack();
    }
  });

  // In phases, one cut in each but the last: the traffic never outruns the cuts.
  const sends: Promise<void>[] = [];
  const every = Math.max(1, Math.floor(sizes.direct / sizes.broadcasts));
  for (let phase = 0; phase <= sizes.cuts; phase++) {
    const end = phase === sizes.cuts ? sizes.direct : (phase + 1) * step;
    for (let n = phase * step; n < end; n++) {
      sends.push(sender.messaging.sendMessage({ to: receiverId, type: 'direct', message: { n } }));
      if (n % every === 0 && n / every < sizes.broadcasts) sends.push(broadcaster.messaging.broadcastMessage({ type: 'broadcast', message: { n: n / every } }));
    }
    if (phase < sizes.cuts) await waitUntil(() => cutsMade > phase, { what: `cut ${phase + 1}`, ...WAIT });
  }
  await Promise.all(sends);
  await got.waitForCount((m) => m.type === 'direct', sizes.direct, WAIT);
  await got.waitForCount((m) => m.type === 'broadcast', sizes.broadcasts, WAIT);
  cuts.unsubscribe();
  await Promise.all(back);
  await atSender.waitForCount((m) => m.type === 'back', backed, WAIT);

  expect(cutsMade).toBe(sizes.cuts);
  // Exactly once, in order, both ways.
  expect(numbers(got.items, 'direct')).toEqual(range(sizes.direct));
  expect(numbers(got.items, 'broadcast')).toEqual(range(sizes.broadcasts));
  expect(numbers(atSender.items, 'back')).toEqual(range(backed));
  expect(backed).toBe(sizes.backPerStep * (sizes.cuts + 1));
  // Every reconnect resumed the same participant.
  await outcomes.waitForCount(() => true, sizes.cuts, WAIT);
  expect(outcomes.items.map((outcome) => outcome.resumed)).toEqual(Array.from({ length: sizes.cuts }, () => true));
  expect(receiver.localParticipant.id).toBe(receiverId);

  // The official client saw the broadcasts, and the receiver never leave or join: a last
  // broadcast from the receiver, after everything, marks the end of what it could have seen.
  await receiver.messaging.broadcastMessage({ type: 'final', message: {} });
  await official.messages.waitFor((m) => m.type === 'final', WAIT);
  const flaps = official.pushes.items.filter(
    (m) => (m.type === 'participant.disabled' || m.type === 'participant.enabled') && (m.message as { id?: string }).id === receiverId,
  );
  expect(flaps).toEqual([]);
  expect(official.presence.items.filter((e) => e.kind === 'participant_removed')).toEqual([]);
  expect(official.messages.items.filter((m) => m.type === 'broadcast')).toHaveLength(sizes.broadcasts);
  expect(senderSeesLeave.items).toEqual([]);
  return { recovered: outcomes.items.reduce((sum, outcome) => sum + outcome.recovered, 0) };
}
