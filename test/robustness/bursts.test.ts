/**
 * Bursts are slowed, never refused (issue 13 item 1): against a server with
 * the default limits, 5,000 sends fired at once from our RoomClient and
 * 2,000 from the official 0.39.9 client all arrive, in order, none refused,
 * while a third participant's paced messages keep flowing. The server pauses
 * reading the bursting sockets; delivery and order are asserted, not timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomClient } from '../../src/client/node.js';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, meshagent, type ProcessGuard } from '../helpers/official-client.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import { WirePeer } from '../helpers/wire-peer.js';

const OUR_BURST = 5000;
const OFFICIAL_BURST = 2000;
const THIRD_MESSAGES = 40;

const fx = useServer();
let guard: ProcessGuard;

beforeAll(async () => {
  clearMeshagentEnv();
  guard = installProcessGuard();
});

afterAll(() => guard?.dispose());

/** The `n` of every user message of `type` from `from` that `peer` received, in arrival order. */
function sequence(peer: WirePeer, from: string, type: string): number[] {
  return peer.messages.filter((m) => m.from === from && m.type === type).map((m) => (m.message as { n: number }).n);
}

describe('bursts against the default limits', () => {
  it('delivers 5,000 sends from our client and 2,000 from the official one, in order, none refused, while a third participant flows', async () => {
    const room = uniqueRoom('burst');
    const baseUrl = fx.url;
    const sink = await WirePeer.connect({ baseUrl, room, secret: fx.secret, name: 'sink' });
    await sink.enable();
    const third = await WirePeer.connect({ baseUrl, room, secret: fx.secret, name: 'third' });
    const ours = new RoomClient({ url: baseUrl, room, token: await fx.token(room, 'ours'), logger: { warn: () => undefined } });
    await ours.start();
    const official = await OfficialPeer.connect({ baseUrl, room, secret: fx.secret, name: 'official' });
    try {
      const ourSends = Array.from({ length: OUR_BURST }, (_, n) => ours.messaging.sendMessage({ to: sink.participantId, type: 'ours', message: { n } }));
      const officialTarget = new meshagent.LocalParticipant(official.client, sink.participantId);
      const officialSends = Array.from({ length: OFFICIAL_BURST }, (_, n) =>
        official.client.messaging.sendMessage({ to: officialTarget, type: 'official', message: { n } }),
      );
      // The third participant sends one at a time, each answered before the next.
      const thirdReplies = [];
      for (let n = 0; n < THIRD_MESSAGES; n++) thirdReplies.push(await third.send(sink.participantId, 'third', { n }));
      const [ourResults, officialResults] = await Promise.all([Promise.allSettled(ourSends), Promise.allSettled(officialSends)]);

      expect(thirdReplies.every((reply) => reply.type === 'empty')).toBe(true);
      expect(ourResults.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(officialResults.filter((r) => r.status === 'rejected')).toEqual([]);
      const everything = (from: string, type: string, count: number) =>
        sink.messages.waitForCount((m) => m.from === from && m.type === type, count, { what: `${count} ${type} messages`, timeoutMs: 60_000 });
      await everything(ours.localParticipant.id, 'ours', OUR_BURST);
      await everything(official.id, 'official', OFFICIAL_BURST);
      await everything(third.participantId, 'third', THIRD_MESSAGES);
      expect(sequence(sink, ours.localParticipant.id, 'ours')).toEqual(Array.from({ length: OUR_BURST }, (_, n) => n));
      expect(sequence(sink, official.id, 'official')).toEqual(Array.from({ length: OFFICIAL_BURST }, (_, n) => n));
      expect(sequence(sink, third.participantId, 'third')).toEqual(Array.from({ length: THIRD_MESSAGES }, (_, n) => n));
      expect(sink.violations).toEqual([]);
    } finally {
      await ours.close();
      await official.leave();
      await Promise.all([sink.close(), third.close()]);
    }
    expect(guard.errors).toEqual([]);
  }, 120_000);
});
