/**
 * Churn soak: hundreds of raw clients join rooms, enable and disable
 * messaging, change attributes, talk, leave and get killed at random (seeded
 * PRNG, bounded by an event count, never by time), next to long-lived roomstate and
 * official clients. At the end every survivor's presence view must equal the
 * truth, the server's stats() must equal the truth, and once everyone is gone
 * every room must be freed.
 *
 * Rerun a failure with CHURN_SEED=<seed printed in the log>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { RoomClient } from '../../src/client/node.js';
import { connectMinted, type RawClient } from '../helpers/raw-client.js';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, type ProcessGuard } from '../helpers/official-client.js';
import { waitUntil } from '../helpers/recorder.js';
import { useServer } from '../helpers/server.js';

const SECRET = 'churn-secret';
const SEED = Number(process.env.CHURN_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MAX_EVENTS = Number(process.env.CHURN_EVENTS ?? 6000);
const ROOMS = Array.from({ length: 6 }, (_, i) => `churn-${SEED}-${i}`);
const MAX_LIVE_RAW = 80;
/** Quiescent checkpoints, evenly spread over the events. */
const PHASES = 6;
const WORKERS = 12;
const DEADLINE = { timeoutMs: 60_000 };

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The test's model of one raw participant. */
interface RawModel {
  readonly peer: RawClient;
  readonly room: string;
  readonly name: string;
  enabled: boolean;
  attributes: Record<string, unknown>;
  gone: boolean;
  busy: boolean;
}

/** The test's model of a roomstate or official client. */
interface LibraryModel {
  readonly room: string;
  readonly name: string;
  readonly id: string;
  attributes: Record<string, unknown>;
  readonly roomstate?: RoomClient;
  readonly official?: OfficialPeer;
  gone: boolean;
}

/** What a participant's presence view should hold: id -> attributes. */
type View = Record<string, Record<string, unknown>>;

describe('churn soak', () => {
  const fx = useServer({ secret: SECRET, heartbeatIntervalMs: 0 });
  let guard: ProcessGuard;

  beforeAll(async () => {
    clearMeshagentEnv();
    guard = installProcessGuard();
  });

  afterAll(async () => {
    guard?.dispose();
  });

  it('keeps presence and server state equal to the truth through random churn', async () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    console.log(`[churn] seed=${SEED} (rerun with CHURN_SEED=${SEED})`);

    /** Joins a roomstate client, enabled, with a `kind` attribute. */
    const joinRoomstate = async (room: string, name: string): Promise<LibraryModel> => {
      const client = new RoomClient({ url: fx.url, room, token: await mintToken({ secret: SECRET, room, name }), reconnectTimeout: 0 });
      await client.start();
      await client.messaging.enable();
      client.localParticipant.setAttribute('kind', 'roomstate');
      return { room, name, id: client.localParticipant.id, attributes: { name, kind: 'roomstate' }, roomstate: client, gone: false };
    };
    // Long-lived clients of both libraries in two rooms, enabled throughout.
    const library: LibraryModel[] = await Promise.all(
      ROOMS.slice(0, 2).flatMap((room, r) => [
        joinRoomstate(room, `rs-${r}`),
        (async (): Promise<LibraryModel> => {
          const name = `official-${r}`;
          const peer = await OfficialPeer.connect({ baseUrl: fx.url, room, name, secret: SECRET });
          await peer.enable();
          peer.client.localParticipant?.setAttribute('kind', 'official');
          return { room, name, id: peer.id, attributes: { name, kind: 'official' }, official: peer, gone: false };
        })(),
      ]),
    );
    let roomstateJoined = 2;

    const raw: RawModel[] = [];
    const counts: Record<string, number> = {};
    let events = 0;
    let joined = 0;
    const started = Date.now();
    const live = (): RawModel[] => raw.filter((m) => !m.gone);
    const idle = (): RawModel[] => live().filter((m) => !m.busy);

    async function step(): Promise<void> {
      const roll = random();
      if (roll < 0.05) {
        // Library clients churn too: roomstate clients join and leave; any of them changes attributes.
        const idleLibrary = library.filter((l) => !l.gone);
        const sub = random();
        if (sub < 0.3 && library.filter((l) => !l.gone && l.roomstate).length < 10) {
          counts.roomstateJoin = (counts.roomstateJoin ?? 0) + 1;
          const model = await joinRoomstate(pick(ROOMS), `rs-${roomstateJoined++}`);
          library.push(model);
        } else if (sub < 0.5) {
          const leaving = idleLibrary.filter((l) => l.roomstate && !l.name.match(/^rs-[01]$/));
          if (leaving.length === 0) return;
          counts.roomstateLeave = (counts.roomstateLeave ?? 0) + 1;
          const model = pick(leaving);
          model.gone = true;
          await model.roomstate?.close();
        } else if (idleLibrary.length > 0) {
          counts.libraryAttributes = (counts.libraryAttributes ?? 0) + 1;
          const model = pick(idleLibrary);
          const tick = events;
          if (model.roomstate) model.roomstate.localParticipant.setAttribute('tick', tick);
          else model.official?.client.localParticipant?.setAttribute('tick', tick);
          model.attributes = { ...model.attributes, tick };
        }
        return;
      }
      const candidates = idle();
      if (roll < 0.25 || candidates.length === 0) {
        if (live().length >= MAX_LIVE_RAW) return;
        const room = pick(ROOMS);
        const name = `raw-${joined++}`;
        counts.join = (counts.join ?? 0) + 1;
        const peer = await connectMinted({ baseUrl: fx.url, room, secret: SECRET, name });
        raw.push({ peer, room, name, enabled: false, attributes: { name }, gone: false, busy: false });
        return;
      }
      const model = pick(candidates);
      model.busy = true;
      try {
        const { peer } = model;
        if (roll < 0.45) {
          counts.enable = (counts.enable ?? 0) + 1;
          await peer.enable();
          model.enabled = true;
        } else if (roll < 0.55) {
          counts.disable = (counts.disable ?? 0) + 1;
          const reply = await peer.disable();
          expect(reply).toEqual({ type: 'empty' });
          model.enabled = false;
        } else if (roll < 0.7) {
          counts.attributes = (counts.attributes ?? 0) + 1;
          const change = { [pick(['status', 'mood', 'n'])]: pick<unknown>(['busy', 'idle', 1, 2, { deep: [1, 2] }, null]) };
          peer.setAttributes(change);
          Object.assign(model.attributes, change);
        } else if (roll < 0.8) {
          counts.send = (counts.send ?? 0) + 1;
          const others = live().filter((m) => m.room === model.room && m !== model);
          if (others.length > 0) {
            const reply = await peer.send(pick(others).peer.participantId, 'churn', { from: model.name });
            expect(['empty', 'error']).toContain(reply.type);
          } else {
            expect(await peer.broadcast('churn', { from: model.name })).toEqual({ type: 'empty' });
          }
        } else if (roll < 0.9) {
          counts.leave = (counts.leave ?? 0) + 1;
          model.gone = true;
          await peer.close();
        } else {
          counts.kill = (counts.kill ?? 0) + 1;
          model.gone = true;
          peer.kill();
          await peer.closed;
        }
      } finally {
        model.busy = false;
      }
    }

    let phaseEnd = 0;
    const worker = async (): Promise<void> => {
      while (events < phaseEnd) {
        events++;
        await step();
      }
    };

    let viewEntries = 0;
    let checkpoints = 0;
    /**
     * Quiescent checkpoint: with no operation in flight, the model is the
     * truth; every presence view and the server's stats must converge to it.
     */
    const verify = async (): Promise<void> => {
      checkpoints++;
      const survivors = live();
      const stable = library.filter((l) => !l.gone);
      const enabledIn = (room: string): { id: string; attributes: Record<string, unknown> }[] => [
        ...survivors.filter((m) => m.room === room && m.enabled).map((m) => ({ id: m.peer.participantId, attributes: m.attributes })),
        ...stable.filter((l) => l.room === room).map((l) => ({ id: l.id, attributes: l.attributes })),
      ];
      const expectedView = (room: string, self: string): View =>
        Object.fromEntries(enabledIn(room).filter((p) => p.id !== self).map((p) => [p.id, p.attributes]));
      const rawView = (peer: RawClient): View => Object.fromEntries([...peer.presence].map(([id, entry]) => [id, entry.attributes]));
      const settled = (actual: () => View, expected: View, what: string): Promise<void> =>
        waitUntil(() => JSON.stringify(sortView(actual())) === JSON.stringify(sortView(expected)), { what, ...DEADLINE }).catch(() => undefined);

      for (const model of survivors) {
        const expected = model.enabled ? expectedView(model.room, model.peer.participantId) : {};
        viewEntries += Object.keys(expected).length;
        await settled(() => rawView(model.peer), expected, `${model.name}'s presence to settle`);
        expect(rawView(model.peer), `checkpoint ${checkpoints}: ${model.name} in ${model.room}`).toEqual(expected);
        expect(model.peer.online).toBe(model.enabled);
      }
      for (const l of stable) {
        const expected = expectedView(l.room, l.id);
        viewEntries += Object.keys(expected).length;
        const actual = (): View =>
          l.roomstate
            ? Object.fromEntries(l.roomstate.messaging.getParticipants().map((p) => [p.id, { ...p.attributes }]))
            : Object.fromEntries(l.official!.client.messaging.getParticipants().map((p) => [p.id, p._attributesSnapshot()]));
        await settled(actual, expected, `${l.name}'s presence to settle`);
        expect(actual(), `checkpoint ${checkpoints}: ${l.name} in ${l.room}`).toEqual(expected);
      }
      const truth = {
        rooms: new Set([...survivors.map((m) => m.room), ...stable.map((l) => l.room)]).size,
        participants: survivors.length + stable.length,
        enabled: survivors.filter((m) => m.enabled).length + stable.length,
      };
      await waitUntil(() => JSON.stringify(fx.server.stats()) === JSON.stringify(truth), { what: 'server stats to equal the truth', ...DEADLINE }).catch(() => undefined);
      expect(fx.server.stats(), `checkpoint ${checkpoints}: server stats`).toEqual(truth);
    };

    for (let phase = 1; phase <= PHASES; phase++) {
      phaseEnd = Math.round((MAX_EVENTS * phase) / PHASES);
      await Promise.all(Array.from({ length: WORKERS }, worker));
      await verify();
    }
    // The comparison is not vacuous: survivors saw others.
    expect(viewEntries).toBeGreaterThan(0);
    const survivors = live();
    const stable = library.filter((l) => !l.gone);

    // Everyone leaves: every room is freed.
    await Promise.all(survivors.map((m) => (random() < 0.5 ? m.peer.close() : (m.peer.kill(), m.peer.closed))));
    await Promise.all(stable.map((s) => (s.roomstate ? s.roomstate.close() : s.official!.leave())));
    await waitUntil(() => fx.server.stats().participants === 0, { what: 'every participant to be gone', ...DEADLINE });
    expect(fx.server.stats()).toEqual({ rooms: 0, participants: 0, enabled: 0 });
    for (const model of raw) expect(model.peer.violations, model.name).toEqual([]);
    expect(guard.errors).toEqual([]);

    console.log(`[churn] seed=${SEED} events=${events} clients=${joined + library.length} (raw ${joined}, roomstate ${roomstateJoined}, official 2) survivors=${survivors.length + stable.length} checkpoints=${checkpoints} presence entries checked=${viewEntries} ops=${JSON.stringify(counts)} in ${Date.now() - started} ms`);
    // Every event ran however slow the machine: the count bounds the run, not a clock.
    expect(events).toBe(MAX_EVENTS);
    expect(joined).toBeGreaterThan(100);
  }, 300_000);
});

/** A view with ids and attribute keys in a stable order, for comparison. */
function sortView(view: View): [string, [string, unknown][]][] {
  return Object.keys(view)
    .sort()
    .map((id) => [id, Object.entries(view[id]).sort(([a], [b]) => a.localeCompare(b))]);
}
