/**
 * `on()` against the official client itself: an official 0.39.9 client and a
 * roomstate client sit in the same room, register the same five listeners,
 * and live through the same presence history (a member already there, one
 * who arrives, changes an attribute, sends, and leaves). Both must report the
 * same events in the same order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RoomMessageEvent } from '../../src/client/node.js';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, type ProcessGuard } from '../helpers/official-client.js';
import { Recorder } from '../helpers/recorder.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import { ClientPool } from './helpers/clients.js';

const EVENTS = ['messaging_enabled', 'participant_added', 'participant_removed', 'participant_attributes_updated', 'message'] as const;

const fx = useServer();
let pool: ClientPool;
let guard: ProcessGuard;
const officials: OfficialPeer[] = [];

beforeAll(async () => {
  clearMeshagentEnv();
  guard = installProcessGuard();
  pool = new ClientPool({ url: fx.url, secret: fx.secret });
});

afterEach(async () => {
  await Promise.all(officials.splice(0).map((peer) => peer.client.dispose()));
  await pool.close();
  expect(guard.errors).toEqual([]);
});

afterAll(() => guard.dispose());

/** Every event as [event name, message type, participant id]; named once the run is over (ids differ per run). */
function recorderFor(): { recorder: Recorder<[string, string, string]>; listener: (name: string) => (event: RoomMessageEvent) => void } {
  const recorder = new Recorder<[string, string, string]>();
  const listener = (name: string) => (event: RoomMessageEvent) => {
    const message = event.message.message as { id?: unknown } | undefined;
    recorder.push([name, event.message.type, typeof message?.id === 'string' ? message.id : event.message.fromParticipantId]);
  };
  return { recorder, listener };
}

describe('on(): the official client\'s events, event by event', () => {
  it('reports the same events in the same order as the official client', async () => {
    const room = uniqueRoom();
    const carol = await pool.enabled(room, 'carol');
    const names = new Map<string, string>([[carol.localParticipant.id, 'carol']]);
    const named = (items: ReadonlyArray<[string, string, string]>) => items.map(([event, type, id]) => `${event}:${type}:${names.get(id) ?? '?'}`);

    const official = await OfficialPeer.connect({ baseUrl: fx.url, room, name: 'official', secret: fx.secret });
    officials.push(official);
    const theirs = recorderFor();
    for (const event of EVENTS) official.client.messaging.on(event, theirs.listener(event) as never);

    const ours = await pool.client(room, 'ours');
    const mine = recorderFor();
    for (const event of EVENTS) ours.messaging.on(event, mine.listener(event));
    await ours.start();

    await official.enable();
    await ours.messaging.enable();
    // The two see each other differently (one enabled first); what they say about each other is left out.
    names.set(official.id, 'peer');
    names.set(ours.localParticipant.id, 'peer');
    const aboutOthers = (items: ReadonlyArray<[string, string, string]>) => named(items).filter((item) => !(item.endsWith(':peer') && item.includes(':participant.')));

    const bob = await pool.enabled(room, 'bob');
    names.set(bob.localParticipant.id, 'bob');
    bob.localParticipant.setAttribute('status', 'busy');
    for (const to of [official.id, ours.localParticipant.id]) await bob.messaging.sendMessage({ to, type: 'chat', message: { text: 'hi' } });
    await bob.messaging.disable();
    await bob.close();
    await carol.messaging.broadcastMessage({ type: 'bye', message: {} });
    const done = (recorder: Recorder<[string, string, string]>) => recorder.waitFor(([, type]) => type === 'bye', { what: 'the closing broadcast' });
    await Promise.all([done(theirs.recorder), done(mine.recorder)]);

    expect(aboutOthers(mine.recorder.items)).toEqual(aboutOthers(theirs.recorder.items));
    expect(aboutOthers(theirs.recorder.items)).toEqual([
      // carol was there before: in the snapshot, so messaging_enabled only.
      'messaging_enabled:messaging.enabled:peer',
      'message:messaging.enabled:peer',
      'participant_added:participant.enabled:bob',
      'message:participant.enabled:bob',
      'participant_attributes_updated:participant.attributes:bob',
      'message:participant.attributes:bob',
      'message:chat:bob',
      'participant_removed:participant.disabled:bob',
      'message:participant.disabled:bob',
      'message:bye:carol',
    ]);
  });
});
