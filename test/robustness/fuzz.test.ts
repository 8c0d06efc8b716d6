/**
 * Property-based fuzzing of a live server. Attacker connections throw random
 * and mutated frames, broken envelopes and hostile arguments at it, while two
 * well-behaved clients keep exchanging messages in the same room.
 *
 * Properties: every attacker request with a known id gets a `__response__`
 * (a valid content value) or the connection is closed with a close code,
 * never a hang; the server never sends a text frame or an undecodable
 * message; the server stays up; and every well-behaved message gets through
 * exactly once, in order.
 *
 * Request ids, packet counts, packet indexes and lengths are drawn from their
 * full 64-bit (ids, envelope lengths) and 32-bit (counts, indexes) ranges.
 *
 * FUZZ_RUNS (default 1000) and FUZZ_SEED make runs reproducible;
 * FUZZ_TIME_LIMIT_MS (unset by default, so every run happens however slow the
 * machine) caps the property's time. `npm run fuzz:nightly` runs 10x the runs
 * with a 10-minute time limit.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { mintApiKey } from '../../src/auth/api-key.js';
import { contentFromHeader, encodePacketsWithTypeBytes, packEnvelope, type Content } from '../../src/protocol/index.js';
import { connectMinted, type CloseInfo, type RawClient } from '../helpers/raw-client.js';
import { waitUntil } from '../helpers/recorder.js';
import { useServer } from '../helpers/server.js';
import { attack, typeBytes, type Chunk } from './fuzz-arbitraries.js';

const SECRET = 'fuzz-secret';
const ROOM = 'fuzz-room';
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const TIME_LIMIT_MS = process.env.FUZZ_TIME_LIMIT_MS === undefined ? undefined : Number(process.env.FUZZ_TIME_LIMIT_MS);
/** Only a hang reaches it: a loaded machine answers late, never not at all. */
const ANSWER_DEADLINE_MS = 60_000;
/** Close codes a server may use on a hostile connection. */
const ACCEPTED_CLOSE_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1011]);
/**
 * Each attacker's known request ids count up from a base drawn from
 * [2^40, 2^64): above the small ids random frames carry, up to the top of
 * the 64-bit range (bigints above 2^53, which must be echoed exactly).
 */
const knownIdBase = fc.bigInt({ min: 1n << 40n, max: (1n << 64n) - 4096n });

describe('fuzzing a live server', () => {
  const fx = useServer({ secret: SECRET, heartbeatIntervalMs: 0 });

  it('answers or closes on every attack, and well-behaved traffic is untouched', async () => {
    const alice = await connectMinted({ baseUrl: fx.url, room: ROOM, secret: SECRET, name: 'alice' });
    const bob = await connectMinted({ baseUrl: fx.url, room: ROOM, secret: SECRET, name: 'bob' });
    await alice.enable();
    await bob.enable();

    // Well-behaved traffic, paced well under the rate limit, for the whole run.
    let talking = true;
    const sent = { alice: [] as number[], bob: [] as number[] };
    const failures: Content[] = [];
    const talk = async (from: RawClient, to: RawClient, log: number[]): Promise<void> => {
      for (let seq = 0; talking; seq++) {
        const reply = seq % 4 === 0 ? await from.broadcast('good', { seq }) : await from.send(to.participantId, 'good', { seq });
        if (reply.type === 'empty') log.push(seq);
        else failures.push(reply);
        await new Promise((resolve) => setTimeout(resolve, 4));
      }
    };
    const conversation = Promise.all([talk(alice, bob, sent.alice), talk(bob, alice, sent.bob)]);

    let runs = 0;
    let cases = 0;
    let frames = 0;
    let checkedRequests = 0;
    const outcomes: Record<string, number> = {};
    const closeCodes: Record<string, number> = {};

    const runAttack = async ([chunks, idBase]: [Chunk[], bigint]): Promise<void> => {
      let nextKnownId = idBase;
      const attacker = await connectMinted({ baseUrl: fx.url, room: ROOM, secret: SECRET, name: `attacker-${cases}` });
      const ids = { A: alice.participantId, B: bob.participantId, SELF: attacker.participantId };
      const expected: { id: bigint; what: string }[] = [];
      for (const chunk of chunks) {
        if (chunk.kind === 'frames') {
          attacker.sendFrames(chunk.frames);
          frames += chunk.frames.length;
          continue;
        }
        const id = nextKnownId++;
        const packets = encodePacketsWithTypeBytes(id, typeBytes(chunk.type), chunk.data(ids));
        attacker.sendFrames(packets);
        frames += packets.length;
        if (chunk.expectsResponse) expected.push({ id, what: typeof chunk.type === 'string' ? chunk.type.slice(0, 40) : `${chunk.type.length} raw type bytes` });
      }
      // A final probe: an unknown request type must be answered too.
      const probe = nextKnownId++;
      attacker.sendFrames(encodePacketsWithTypeBytes(probe, typeBytes('fuzz.probe'), packEnvelope({})));
      expected.push({ id: probe, what: 'probe' });

      let closed: CloseInfo | undefined;
      for (const { id, what } of expected) {
        try {
          const response = await attacker.received.waitFor((m) => m.type === '__response__' && BigInt(m.exactId) === id, {
            timeoutMs: ANSWER_DEADLINE_MS,
            what: `a response to request ${id} (${what})`,
          });
          // A valid content value of a kind the official client understands.
          const content = contentFromHeader(response.header ?? {}, response.payload);
          if (content.type === 'error') expect(content.code, `error code for ${what}`).toEqual(expect.any(Number));
          expect(['empty', 'error'], `response to ${what}`).toContain(content.type);
          const type = content.type;
          outcomes[type] = (outcomes[type] ?? 0) + 1;
          if (what === 'probe') expect(response.header).toMatchObject({ type: 'error', code: 1002 });
          checkedRequests++;
        } catch (error) {
          // No response: only acceptable if the server closed the connection with a code.
          if (attacker.closeInfo === undefined) throw error;
          closed = attacker.closeInfo;
          outcomes.closed = (outcomes.closed ?? 0) + 1;
          checkedRequests++;
        }
      }
      closed ??= attacker.closeInfo;
      if (closed) {
        closeCodes[closed.code] = (closeCodes[closed.code] ?? 0) + 1;
        expect(ACCEPTED_CLOSE_CODES.has(closed.code), `close code ${closed.code} ${closed.reason}`).toBe(true);
      }
      expect(attacker.violations).toEqual([]);
      await attacker.close();
      cases++;
    };

    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(attack, knownIdBase), { minLength: 1, maxLength: 3 }), async (attackers) => {
        runs++;
        await Promise.all(attackers.map(runAttack));
        // The server is up and the good clients are still connected.
        expect(alice.isOpen && bob.isOpen).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );

    talking = false;
    await conversation;
    // Barrier, then exact delivery: per sender, the received sequence equals the acknowledged one.
    expect(await alice.send(bob.participantId, 'end', {})).toEqual({ type: 'empty' });
    expect(await bob.send(alice.participantId, 'end', {})).toEqual({ type: 'empty' });
    await bob.messages.waitFor((m) => m.type === 'end' && m.from === alice.participantId);
    await alice.messages.waitFor((m) => m.type === 'end' && m.from === bob.participantId);
    const goodAt = (peer: RawClient, from: RawClient): number[] =>
      peer.messages.filter((m) => m.type === 'good' && m.from === from.participantId).map((m) => (m.message as { seq: number }).seq);
    expect(failures).toEqual([]);
    expect(goodAt(bob, alice)).toEqual(sent.alice);
    expect(goodAt(alice, bob)).toEqual(sent.bob);
    expect(alice.violations).toEqual([]);
    expect(bob.violations).toEqual([]);
    expect(alice.presence.has(bob.participantId) && bob.presence.has(alice.participantId)).toBe(true);
    await waitUntil(() => fx.server.stats().participants === 2, { what: 'attackers to be gone' });
    expect(fx.server.stats()).toEqual({ rooms: 1, participants: 2, enabled: 2 });

    const good = sent.alice.length + sent.bob.length;
    console.log(
      `[fuzz] property runs=${runs} (asked ${RUNS}), attacker connections=${cases}, frames=${frames}, attacker requests checked=${checkedRequests}, ` +
        `outcomes=${JSON.stringify(outcomes)}, close codes=${JSON.stringify(closeCodes)}, well-behaved messages delivered=${good}`,
    );
    if (TIME_LIMIT_MS === undefined) expect(runs).toBe(RUNS);
    expect(cases).toBeGreaterThan(0);
    expect(good).toBeGreaterThan(0);
    await Promise.all([alice.close(), bob.close()]);
  }, (TIME_LIMIT_MS ?? 240_000) + 60_000);
  it('answers every upgrade with 101, 403 or 404 exactly as the path and token deserve', async () => {
    const { port } = fx.server.address!;
    const carriers = ['query', 'bearer', 'subprotocol'] as const;
    const tokenKinds = ['valid', 'other-room', 'wrong-secret', 'expired', 'api-key', 'garbage', 'missing', 'huge'] as const;
    const validName = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 })).filter((n) => !/[\u0000-\u001f\u007f-\u009f]/.test(n));
    const target = fc.oneof(
      { weight: 4, arbitrary: validName.map((room) => ({ room, segment: encodeURIComponent(room), expect: 'ok' as const })) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constant(''),
          fc.constantFrom('%', '%E0%A4%A', '%zz', 'a%2', '%C3'),
          fc.tuple(validName, validName).map(([a, b]) => `${encodeURIComponent(a)}/${encodeURIComponent(b)}`),
          fc.integer({ min: 0, max: 0x1f }).map((c) => `x%${c.toString(16).padStart(2, '0')}y`),
          fc.constant('r'.repeat(300)),
        ).map((segment) => ({ room: 'unused', segment, expect: 'not-found' as const })),
      },
    );
    let upgrades = 0;
    const statuses: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(target, fc.constantFrom(...tokenKinds), fc.constantFrom(...carriers), async (t, tokenKind, carrier) => {
        const token = await tokenFor(tokenKind, t.room);
        const status = await upgradeStatus(port, `/rooms/${t.segment}`, token, carrier);
        upgrades++;
        statuses[status.code] = (statuses[status.code] ?? 0) + 1;
        const expected = t.expect === 'not-found' ? 404 : tokenKind === 'valid' ? 101 : 403;
        expect(status.code, `${tokenKind} token via ${carrier} for /rooms/${t.segment}`).toBe(expected);
        if (status.code === 101 && carrier === 'subprotocol') expect(status.protocol).toBe(`meshagent-room.${token}`);
      }),
      { numRuns: Math.max(50, Math.round(RUNS / 5)), seed: SEED },
    );
    await waitUntil(() => fx.server.stats().participants === 0, { what: 'upgraded probes to be gone' });
    console.log(`[fuzz] upgrades=${upgrades} statuses=${JSON.stringify(statuses)}`);
  });
});

/** A token of the given kind for `room`. */
async function tokenFor(kind: string, room: string): Promise<string | undefined> {
  switch (kind) {
    case 'valid':
      return mintToken({ secret: SECRET, room, name: 'upgrader' });
    case 'other-room':
      return mintToken({ secret: SECRET, room: `${room}-other`, name: 'upgrader' });
    case 'wrong-secret':
      return mintToken({ secret: `${SECRET}-wrong`, room, name: 'upgrader' });
    case 'expired':
      return new SignJWT({ name: 'upgrader', grants: [{ name: 'room', scope: room }] })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode(SECRET));
    case 'api-key':
      return mintApiKey({ secret: SECRET, name: 'upgrader' });
    case 'garbage':
      return 'not.a.jwt';
    case 'huge':
      return 'x'.repeat(9000);
    default:
      return undefined;
  }
}

/** Sends a raw websocket upgrade and resolves with the HTTP status (101 when upgraded). */
function upgradeStatus(port: number, path: string, token: string | undefined, carrier: 'query' | 'bearer' | 'subprotocol'): Promise<{ code: number; protocol?: string }> {
  const headers: Record<string, string> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
  };
  let target = path;
  if (token !== undefined && carrier === 'query') target += `?token=${encodeURIComponent(token)}`;
  if (token !== undefined && carrier === 'bearer') headers.Authorization = `Bearer ${token}`;
  if (token !== undefined && carrier === 'subprotocol') headers['Sec-WebSocket-Protocol'] = `meshagent-room.${token}`;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: target, headers });
    const timer = setTimeout(() => {
      request.destroy();
      reject(new Error(`no answer to the upgrade of ${path} within ${ANSWER_DEADLINE_MS} ms`));
    }, ANSWER_DEADLINE_MS);
    request.on('upgrade', (response, socket) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ code: response.statusCode ?? 0, protocol: response.headers['sec-websocket-protocol'] });
    });
    request.on('response', (response) => {
      clearTimeout(timer);
      response.resume();
      resolve({ code: response.statusCode ?? 0 });
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end();
  });
}
