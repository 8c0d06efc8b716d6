/**
 * Nothing lost: many senders pipeline sequenced direct messages and
 * broadcasts to two recipients while other participants churn in the same
 * room. Every send must be acknowledged (over the rate limit the server
 * slows a sender by pausing its socket, it refuses nothing) and must reach a
 * recipient that stays connected exactly once and in per-sender order.
 * Deadlines are generous and nothing depends on timing, so a loaded machine
 * only takes longer.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Content } from '../../src/protocol/index.js';
import { connectMinted } from '../helpers/raw-client.js';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, meshagent, type ProcessGuard } from '../helpers/official-client.js';
import { useServer } from '../helpers/server.js';

const SECRET = 'nothing-lost-secret';
const RAW_SENDERS = 16;
const OFFICIAL_SENDERS = 2;
const MESSAGES_PER_RAW_SENDER = 1200;
const MESSAGES_PER_OFFICIAL_SENDER = 60;
const PIPELINE_WINDOW = 64;
const CHURN_CYCLES = 40;

/** What one sender sent, and what the server acknowledged. */
interface SendRecord {
  readonly seq: number;
  /** Recipient index for a direct message; -1 for a broadcast. */
  readonly to: number;
  readonly attachment: Uint8Array | undefined;
  acked: boolean;
}

function attachmentFor(sender: number, seq: number): Uint8Array | undefined {
  if (seq % 7 !== 0) return undefined;
  // Multi-packet: 1500..2499 bytes, contents unique to the message.
  const bytes = new Uint8Array(1500 + ((sender * 131 + seq) % 1000));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (sender * 17 + seq * 3 + i) & 0xff;
  return bytes;
}

/** Routes message `seq`: every third is a broadcast, the rest alternate recipients. */
function routeOf(seq: number): number {
  return seq % 3 === 0 ? -1 : seq % 2;
}

/** Server configurations: the defaults, and a rate limit every raw sender runs into. */
const CONFIGS = [
  { label: 'default limits', limits: {} },
  { label: 'a tight rate limit (300 requests/s)', limits: { messagesPerSecond: 300 } },
] as const;

describe.each(CONFIGS)('nothing lost under load with $label', ({ label, limits }) => {
  const fx = useServer({ secret: SECRET, heartbeatIntervalMs: 0, limits });
  let guard: ProcessGuard;

  beforeAll(async () => {
    clearMeshagentEnv();
    guard = installProcessGuard();
  });

  afterAll(async () => {
    guard?.dispose();
  });

  it('delivers every acknowledged send exactly once, in per-sender order, and nothing refused', async () => {
    const room = `load-${randomUUID()}`;
    const recipients = await Promise.all([0, 1].map((i) => connectMinted({ baseUrl: fx.url, room, secret: SECRET, name: `recipient-${i}` })));
    await Promise.all(recipients.map((r) => r.enable()));
    const rawSenders = await Promise.all(
      Array.from({ length: RAW_SENDERS }, (_, i) => connectMinted({ baseUrl: fx.url, room, secret: SECRET, name: `sender-${i}` })),
    );
    const officialSenders = await Promise.all(
      Array.from({ length: OFFICIAL_SENDERS }, (_, i) => OfficialPeer.connect({ baseUrl: fx.url, room, secret: SECRET, name: `official-${i}` })),
    );

    // Background churn in the same room: join, enable, talk, leave or die.
    let churnStop = false;
    const churn = (async () => {
      for (let cycle = 0; cycle < CHURN_CYCLES && !churnStop; cycle++) {
        const extra = await connectMinted({ baseUrl: fx.url, room, secret: SECRET, name: `churn-${cycle}` });
        await extra.enable();
        await extra.broadcast('noise', { cycle });
        extra.setAttributes({ cycle });
        if (cycle % 2 === 0) await extra.close();
        else {
          extra.kill();
          await extra.closed;
        }
      }
    })();

    const rawRecords: SendRecord[][] = rawSenders.map(() => []);
    const rawFailures: Content[] = [];
    const sendRaw = async (index: number): Promise<void> => {
      const sender = rawSenders[index];
      const records = rawRecords[index];
      for (let start = 0; start < MESSAGES_PER_RAW_SENDER; start += PIPELINE_WINDOW) {
        const batch: Promise<void>[] = [];
        for (let seq = start; seq < Math.min(start + PIPELINE_WINDOW, MESSAGES_PER_RAW_SENDER); seq++) {
          const record: SendRecord = { seq, to: routeOf(seq), attachment: attachmentFor(index, seq), acked: false };
          records.push(record);
          const body = { s: index, q: seq };
          const reply = record.to === -1
            ? sender.broadcast('load', body, record.attachment)
            : sender.send(recipients[record.to].participantId, 'load', body, record.attachment);
          batch.push(reply.then((content) => {
            if (content.type === 'empty') record.acked = true;
            else rawFailures.push(content);
          }));
        }
        await Promise.all(batch);
      }
    };

    const officialRecords: SendRecord[][] = officialSenders.map(() => []);
    const officialFailures: unknown[] = [];
    const sendOfficial = async (index: number): Promise<void> => {
      const peer = officialSenders[index];
      const sends: Promise<void>[] = [];
      for (let seq = 0; seq < MESSAGES_PER_OFFICIAL_SENDER; seq++) {
        const record: SendRecord = { seq, to: routeOf(seq), attachment: attachmentFor(100 + index, seq), acked: false };
        officialRecords[index].push(record);
        const message = { s: 100 + index, q: seq };
        const sent = record.to === -1
          ? peer.client.messaging.broadcastMessage({ type: 'load', message, attachment: record.attachment })
          : peer.client.messaging.sendMessage({
              to: new meshagent.LocalParticipant(peer.client, recipients[record.to].participantId),
              type: 'load',
              message,
              attachment: record.attachment,
            });
        // Queued without waiting: the client keeps them in order.
        sends.push(sent.then(
          () => {
            record.acked = true;
          },
          (error: unknown) => {
            officialFailures.push(error);
          },
        ));
      }
      await Promise.all(sends);
    };

    await Promise.all([...rawSenders.map((_, i) => sendRaw(i)), ...officialSenders.map((_, i) => sendOfficial(i))]);
    churnStop = true;
    await churn;

    // Barrier: a final direct message from every sender to every recipient;
    // per-sender order puts everything it sent before it.
    const senderIds = [...rawSenders.map((s) => s.participantId), ...officialSenders.map((p) => p.id)];
    const endReplies = await Promise.all(rawSenders.flatMap((s) => recipients.map((r) => s.send(r.participantId, 'end', {}))));
    expect(endReplies.filter((reply) => reply.type !== 'empty')).toEqual([]);
    await Promise.all(officialSenders.flatMap((p) => recipients.map((r) => p.client.messaging.sendMessage({
      to: new meshagent.LocalParticipant(p.client, r.participantId),
      type: 'end',
      message: {},
    }))));
    for (const recipient of recipients) {
      for (const id of senderIds) {
        await recipient.messages.waitFor((m) => m.type === 'end' && m.from === id, { what: `the end marker from ${id}`, timeoutMs: 120_000 });
      }
    }

    let checked = 0;
    const allRecords = [...rawRecords, ...officialRecords];
    const senderNumbers = [...rawSenders.map((_, i) => i), ...officialSenders.map((_, i) => 100 + i)];
    recipients.forEach((recipient, r) => {
      allRecords.forEach((records, k) => {
        const from = senderIds[k];
        const expected = records.filter((rec) => rec.acked && (rec.to === -1 || rec.to === r));
        const got = recipient.messages.filter((m) => m.from === from && m.type === 'load');
        const seqs = got.map((m) => (m.message as { q: number }).q);
        const label = `recipient ${r} from sender ${senderNumbers[k]}`;
        if (k < rawSenders.length) {
          // Exactly once and in order: the received sequence numbers equal the acknowledged ones.
          expect(seqs, label).toEqual(expected.map((rec) => rec.seq));
        } else {
          // The official client queues direct sends but sends broadcasts at once, so only
          // each kind keeps its order; across kinds, exactly once is what can be checked.
          const isBroadcast = (q: number): boolean => routeOf(q) === -1;
          expect(seqs.filter((q) => !isBroadcast(q)), label).toEqual(expected.filter((rec) => rec.to !== -1).map((rec) => rec.seq));
          expect(seqs.filter(isBroadcast).sort((a, b) => a - b), label).toEqual(expected.filter((rec) => rec.to === -1).map((rec) => rec.seq));
          expected.sort((a, b) => seqs.indexOf(a.seq) - seqs.indexOf(b.seq));
        }
        got.forEach((m, i) => {
          expect((m.message as { s: number }).s).toBe(senderNumbers[k]);
          const want = expected[i].attachment;
          expect(Buffer.from(m.attachment).equals(Buffer.from(want ?? new Uint8Array(0))), `attachment of ${senderNumbers[k]}/${expected[i].seq}`).toBe(true);
        });
        checked += got.length;
      });
      expect(recipient.violations).toEqual([]);
      expect(recipient.isOpen).toBe(true);
    });

    // Nothing is refused, not even over the rate limit.
    expect(rawFailures).toEqual([]);
    expect(officialFailures).toEqual([]);
    const refused = rawFailures.length + officialFailures.length;
    const acked = allRecords.flat().filter((rec) => rec.acked).length;
    // Console output is the figure quoted in docs/testing.md.
    console.log(`[nothing-lost] ${label}: senders=${senderIds.length} sends=${allRecords.flat().length} acknowledged=${acked} refused=${refused} deliveries checked=${checked}`);
    expect(acked).toBe(allRecords.flat().length);
    expect(checked).toBeGreaterThanOrEqual(acked);

    await Promise.all([...recipients, ...rawSenders].map((peer) => peer.close()));
    await Promise.all(officialSenders.map((peer) => peer.leave()));
    expect(guard.errors).toEqual([]);
  }, 300_000);
});
