/**
 * Fairness as a property (issue 10, deliver 2): a well-behaved pair exchanges
 * direct messages at a steady rate while, in turn, each abuse of issue 10
 * runs from other connections in the same room against a server with the
 * default limits. Asserted: the pair loses nothing, every probe is answered
 * `empty` and arrives in order, and the server keeps serving. The probe's
 * latencies are printed as figures (`[fairness]` lines), never asserted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePackets, packEnvelope } from '../../src/protocol/index.js';
import type { RawClient } from '../helpers/raw-client.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

const PROBE_INTERVAL_MS = 20;
const PHASE_MS = 1500;
/** Deadline for one answer; generous so a loaded machine only takes longer. */
const ANSWER_TIMEOUT_MS = 60_000;

const fx = useServer();
let room: string;
let alice: RawClient;
let bob: RawClient;
let probes = 0;

beforeAll(async () => {
  room = uniqueRoom('fair');
  alice = await fx.connect(room, 'alice');
  bob = await fx.connect(room, 'bob');
  await bob.invoke('enable', {});
  await bob.waitForPush('messaging.enabled');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function invokeLong(client: RawClient, tool: string, args: unknown) {
  return client.request('room.invoke_tool', { toolkit: 'messaging', tool, arguments: { type: 'json', json: args } }, undefined, ANSWER_TIMEOUT_MS);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Runs the probe pair for PHASE_MS (and until `abuse` settles); prints latencies. */
async function withProbe(phase: string, abuse: () => Promise<void>): Promise<void> {
  const latencies: number[] = [];
  const answers: Promise<void>[] = [];
  let abuseDone = false;
  const abusing = abuse().finally(() => {
    abuseDone = true;
  });
  const started = performance.now();
  while (performance.now() - started < PHASE_MS || !abuseDone) {
    const seq = probes++;
    const sent = performance.now();
    answers.push(
      invokeLong(alice, 'send', { to_participant_id: bob.participantId, type: 'probe', message_json: String(seq) }).then((reply) => {
        expect(reply, `probe ${seq} in ${phase}`).toEqual({ type: 'empty' });
        latencies.push(performance.now() - sent);
      }),
    );
    await sleep(PROBE_INTERVAL_MS);
  }
  await abusing;
  await Promise.all(answers);
  latencies.sort((a, b) => a - b);
  console.log(
    `[fairness] ${phase}: probes=${latencies.length} p50=${percentile(latencies, 50).toFixed(1)}ms p99=${percentile(latencies, 99).toFixed(1)}ms max=${latencies[latencies.length - 1].toFixed(1)}ms`,
  );
}

/** Connects `count` participants named `${prefix}-i`. */
function crowd(prefix: string, count: number): Promise<RawClient[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => fx.connect(room, `${prefix}-${i}`)));
}

describe('fairness: a well-behaved pair under each abuse in turn', () => {
  it('loses nothing and is answered throughout', async () => {
    await withProbe('baseline', async () => undefined);

    await withProbe('max-id frames', async () => {
      const [mallory] = await crowd('maxid', 1);
      const frame = new Uint8Array(32);
      frame.fill(0xff, 0, 8);
      frame.set(new TextEncoder().encode('room.invoke_tool'), 16);
      for (let i = 0; i < 10; i++) mallory.sendFrame(frame);
      for (let i = 0; i < 10; i++) await mallory.waitFor((m) => m.type === '__response__' && m.exactId === (1n << 64n) - 1n, ANSWER_TIMEOUT_MS);
    });

    await withProbe('snapshot amplification', async () => {
      const fat = await crowd('fat', 10);
      const blob = 'x'.repeat(60_000);
      for (const member of fat) {
        member.notify('set_attributes', { blob });
        await invokeLong(member, 'enable', {});
      }
      const [amp] = await crowd('amp', 1);
      const enable = packEnvelope({ toolkit: 'messaging', tool: 'enable', arguments: { type: 'json', json: {} } });
      for (let i = 0; i < 100; i++) amp.sendMessage(amp.allocateId(), 'room.invoke_tool', enable);
      // Fairness is work-conserving now: the 100 enables are served at once, and ~60 MB of
      // snapshots may outrun a reader on a loaded machine, which is then cut as a slow
      // consumer (the abuser's loss only). Either way the bystanders below are unharmed.
      const answered = (async () => {
        for (let i = 0; i < 100; i++) await amp.waitFor((m) => m.type === '__response__', ANSWER_TIMEOUT_MS);
      })().then(() => 'answered', () => 'cut');
      expect(['answered', 'cut']).toContain(await answered);
      await Promise.all([...fat, amp].map((client) => client.close()));
    });

    await withProbe('JSON parse cost', async () => {
      const [parser] = await crowd('json', 1);
      // ~3.6 MB of empty objects, sent to nobody: the parse is the cost.
      const body = '[' + '{},'.repeat(1_200_000) + '{}]';
      const replies = await Promise.all(Array.from({ length: 2 }, () => invokeLong(parser, 'send', { to_participant_id: 'nobody', type: 'heavy', message_json: body })));
      for (const reply of replies) expect(reply).toMatchObject({ type: 'error', code: 1003 });
      await parser.close();
    });

    await withProbe('presence flooding', async () => {
      const audience = await crowd('audience', 12);
      await Promise.all(audience.map((member) => invokeLong(member, 'enable', {})));
      const flooders = await crowd('flood', 4);
      await Promise.all(flooders.map((flooder) => invokeLong(flooder, 'enable', {})));
      const value = 'v'.repeat(1000);
      for (let i = 0; i < 300; i++) for (const flooder of flooders) flooder.notify('set_attributes', { value, i });
      // Requests are handled in order: an answered enable means every push before it was handled.
      await Promise.all(flooders.map((flooder) => invokeLong(flooder, 'enable', {})));
      await Promise.all([...audience, ...flooders].map((client) => client.close()));
    });

    await withProbe('burst and a reader that stopped reading', async () => {
      const [stalled, burster] = await crowd('burst', 2);
      await invokeLong(stalled, 'enable', {});
      requireTcpSocket(stalled.ws).pause();
      const replies = await Promise.all(
        Array.from({ length: 3000 }, (_, n) => invokeLong(burster, 'broadcast', { type: 'burst', message_json: String(n) })),
      );
      expect(replies.every((reply) => reply.type === 'empty')).toBe(true);
      stalled.ws.terminate();
      await burster.close();
    });

    await withProbe('stalled partial messages', async () => {
      const stallers = await crowd('partial', 10);
      const frames = encodePackets(1, 'room.invoke_tool', new Uint8Array(4096 * 1024));
      for (const staller of stallers) for (const frame of frames.slice(0, 64)) staller.sendFrame(frame);
    });

    // Nothing lost, in order: every probe reached bob.
    for (let seq = 0; seq < probes; seq++) {
      const push = await bob.waitFor((m) => m.type === 'messaging.send' && m.header?.type === 'probe', ANSWER_TIMEOUT_MS);
      expect(push.header?.message, 'probe order').toBe(seq);
    }
    expect(alice.ws.readyState).toBe(alice.ws.OPEN);
    expect(bob.ws.readyState).toBe(bob.ws.OPEN);
  }, 300_000);
});
