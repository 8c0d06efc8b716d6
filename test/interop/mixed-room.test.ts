/**
 * Mixed room: roomstate's own client and the official MeshAgent npm client
 * 0.39.9 in one room. They exchange direct messages both ways, broadcasts,
 * and see each other's presence (added, removed, attributes). Each kind of
 * client uses the other kind's tokens, so token minting is cross-checked too.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { RoomClient, type RemoteParticipant, type RoomMessage } from '../../src/client/node.js';
import type { ParticipantAttributesUpdate } from '../../src/client/index.js';
import { PARTICIPANT_NOT_FOUND_TEXT } from '../../src/protocol/index.js';
import {
  OfficialPeer,
  clearMeshagentEnv,
  installProcessGuard,
  meshagent,
  mintOfficialToken,
  type ProcessGuard,
} from '../helpers/official-client.js';
import { Recorder, waitUntil } from '../helpers/recorder.js';
import { SERVER_KINDS, type ServerUnderTest } from './server-kinds.js';

const SECRET = 'mixed-room-secret-0123456789';

/** A roomstate RoomClient with everything it reports recorded. */
class RoomstatePeer {
  readonly messages = new Recorder<RoomMessage>();
  readonly added = new Recorder<RemoteParticipant>();
  readonly removed = new Recorder<RemoteParticipant>();
  readonly attributes = new Recorder<ParticipantAttributesUpdate>();
  private readonly subscriptions: Subscription[];

  constructor(readonly client: RoomClient, readonly name: string) {
    const m = client.messaging;
    this.subscriptions = [
      m.messages$.subscribe((message) => this.messages.push(message)),
      m.participantAdded$.subscribe((participant) => this.added.push(participant)),
      m.participantRemoved$.subscribe((participant) => this.removed.push(participant)),
      m.participantAttributesUpdated$.subscribe((update) => this.attributes.push(update)),
    ];
  }

  get id(): string {
    return this.client.localParticipant.id;
  }

  async participantByName(name: string): Promise<RemoteParticipant> {
    await waitUntil(() => this.client.messaging.getParticipantByName(name) !== null, { what: `${this.name} to see ${name}` });
    return this.client.messaging.getParticipantByName(name) as RemoteParticipant;
  }

  presentNames(): string[] {
    return this.client.messaging.getParticipants().map((p) => String(p.getAttribute('name'))).sort();
  }

  async leave(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.client.close();
  }
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 13 + seed) % 256;
  return out;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

describe.each(SERVER_KINDS)('mixed room (roomstate + official 0.39.9 clients) on $kind', (kind) => {
  let server: ServerUnderTest;
  let guard: ProcessGuard;
  const leaves: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    clearMeshagentEnv();
    guard = installProcessGuard();
    server = await kind.start(SECRET);
  });

  afterEach(async () => {
    await Promise.all(leaves.splice(0).map((leave) => leave()));
    expect(guard.errors).toEqual([]);
  });

  afterAll(async () => {
    await server?.close();
    guard?.dispose();
  });

  /** A roomstate client, with a token minted by the official ParticipantToken. */
  async function joinRoomstate(room: string, name: string): Promise<RoomstatePeer> {
    const token = await mintOfficialToken({ secret: SECRET, room, name });
    const peer = new RoomstatePeer(new RoomClient({ url: server.url, room, token, reconnectTimeout: 0 }), name);
    leaves.push(() => peer.leave());
    await peer.client.start();
    await peer.client.messaging.enable();
    return peer;
  }

  /** An official client, with a token minted by roomstate's mintToken. */
  async function joinOfficial(room: string, name: string): Promise<OfficialPeer> {
    const token = await mintToken({ secret: SECRET, room, name });
    const client = new meshagent.RoomClient({
      protocolFactory: meshagent.WebSocketClientProtocol.createFactory({ url: `${server.url}/rooms/${room}`, token }),
      reconnectTimeout: 0,
    });
    const peer = OfficialPeer.wrap(client, name);
    leaves.push(() => peer.leave());
    await client.start();
    await peer.enable();
    return peer;
  }

  async function fourInARoom() {
    const room = `mixed-${randomUUID()}`;
    const ada = await joinRoomstate(room, 'ada');
    const linus = await joinOfficial(room, 'linus');
    const grace = await joinRoomstate(room, 'grace');
    const ken = await joinOfficial(room, 'ken');
    return { room, ada, grace, linus, ken };
  }

  it('everyone sees everyone else by name, with the server-assigned ids', async () => {
    const { ada, grace, linus, ken } = await fourInARoom();
    expect((await ada.participantByName('linus')).id).toBe(linus.id);
    expect((await ada.participantByName('ken')).id).toBe(ken.id);
    expect((await ada.participantByName('grace')).id).toBe(grace.id);
    expect((await linus.participantByName('ada')).id).toBe(ada.id);
    expect((await linus.participantByName('grace')).id).toBe(grace.id);
    expect((await ken.participantByName('linus')).id).toBe(linus.id);
    expect(ada.presentNames()).toEqual(['grace', 'ken', 'linus']);
    expect(ken.presentNames()).toEqual(['ada', 'grace', 'linus']);
    // ada was first: the others reached her through participant.enabled pushes.
    expect(ada.added.items.map((p) => p.getAttribute('name')).sort()).toEqual(['grace', 'ken', 'linus']);
    // linus saw grace and ken arrive.
    expect(linus.presence.filter((e) => e.kind === 'participant_added').map((e) => e.message.fromParticipantId).sort()).toEqual([grace.id, ken.id].sort());
  });

  it('exchanges direct messages with attachments in both directions', async () => {
    const { ada, grace, linus, ken } = await fourInARoom();
    const toLinus = bytes(6000, 1);
    const toAda = bytes(7000, 2);
    await ada.client.messaging.sendMessage({ to: await ada.participantByName('linus'), type: 'rs->official', message: { from: 'ada', list: [1, 'two'] }, attachment: toLinus });
    await linus.client.messaging.sendMessage({ to: await linus.participantByName('ada'), type: 'official->rs', message: { from: 'linus', nested: { ok: true } }, attachment: toAda });
    // Also by id only, and within each kind.
    await ada.client.messaging.sendMessage({ to: ken.id, type: 'rs->official-by-id', message: { n: 1 } });
    await ken.client.messaging.sendMessage({ to: await ken.participantByName('grace'), type: 'official->rs-plain', message: { text: 'no attachment' } });
    await grace.client.messaging.sendMessage({ to: await grace.participantByName('ada'), type: 'rs->rs', message: { n: 2 } });
    await ken.client.messaging.sendMessage({ to: await ken.participantByName('linus'), type: 'official->official', message: { n: 3 } });

    const atLinus = await linus.messages.waitFor((m) => m.type === 'rs->official');
    expect(atLinus.fromParticipantId).toBe(ada.id);
    expect(atLinus.message).toEqual({ from: 'ada', list: [1, 'two'] });
    expect(sameBytes(atLinus.attachment, toLinus)).toBe(true);

    const atAda = await ada.messages.waitFor((m) => m.type === 'official->rs');
    expect(atAda.fromParticipantId).toBe(linus.id);
    expect(atAda.message).toEqual({ from: 'linus', nested: { ok: true } });
    expect(sameBytes(atAda.attachment, toAda)).toBe(true);

    expect((await ken.messages.waitFor((m) => m.type === 'rs->official-by-id')).fromParticipantId).toBe(ada.id);
    const plain = await grace.messages.waitFor((m) => m.type === 'official->rs-plain');
    expect(plain.message).toEqual({ text: 'no attachment' });
    expect(plain.attachment === undefined || plain.attachment.byteLength === 0).toBe(true);
    expect((await ada.messages.waitFor((m) => m.type === 'rs->rs')).fromParticipantId).toBe(grace.id);
    expect((await linus.messages.waitFor((m) => m.type === 'official->official')).fromParticipantId).toBe(ken.id);
  });

  it('broadcasts from either kind reach every other participant once, never the sender', async () => {
    const { ada, grace, linus, ken } = await fourInARoom();
    const everyone = [ada, grace, linus, ken] as const;
    await waitUntil(() => ada.presentNames().length === 3 && linus.presentNames().length === 3, { what: 'full presence' });
    const payload = bytes(3000, 9);
    await ada.client.messaging.broadcastMessage({ type: 'from-roomstate', message: { by: 'ada' }, attachment: payload });
    await linus.client.messaging.broadcastMessage({ type: 'from-official', message: { by: 'linus' }, attachment: payload });
    for (const peer of everyone) {
      if (peer !== ada) {
        const got = await peer.messages.waitFor((m) => m.type === 'from-roomstate', { what: `${peer.name} to get ada's broadcast` });
        expect(got.fromParticipantId).toBe(ada.id);
        expect(sameBytes(got.attachment, payload)).toBe(true);
      }
      if (peer !== linus) {
        const got = await peer.messages.waitFor((m) => m.type === 'from-official', { what: `${peer.name} to get linus's broadcast` });
        expect(got.fromParticipantId).toBe(linus.id);
        expect(got.message).toEqual({ by: 'linus' });
      }
    }
    // Barrier on each sender's socket: a direct message sent after both broadcasts were delivered.
    await grace.client.messaging.sendMessage({ to: ada.id, type: 'barrier', message: {} });
    await grace.client.messaging.sendMessage({ to: linus.id, type: 'barrier', message: {} });
    await ada.messages.waitFor((m) => m.type === 'barrier');
    await linus.messages.waitFor((m) => m.type === 'barrier');
    expect(ada.messages.items.map((m) => m.type)).toEqual(['from-official', 'barrier']);
    expect(linus.messages.items.map((m) => m.type)).toEqual(['from-roomstate', 'barrier']);
    for (const peer of [grace, ken]) expect(peer.messages.items.map((m) => m.type).sort()).toEqual(['from-official', 'from-roomstate']);
  });

  it('propagates attribute changes across kinds', async () => {
    const { ada, linus, ken } = await fourInARoom();
    await linus.participantByName('ada');
    await ada.participantByName('linus');
    ada.client.localParticipant.setAttribute('status', 'away');
    const atLinus = await linus.presence.waitFor((e) => e.kind === 'participant_attributes_updated' && e.message.fromParticipantId === ada.id);
    expect(atLinus.message.message).toEqual({ attributes: { status: 'away' } });
    expect((await linus.participantByName('ada')).getAttribute('status')).toBe('away');
    await waitUntil(() => ken.client.messaging.getParticipantByName('ada')?.getAttribute('status') === 'away', { what: 'ken to see ada away' });

    linus.client.localParticipant?.setAttribute('mood', { level: 3 });
    const atAda = await ada.attributes.waitFor((u) => u.participant.id === linus.id);
    expect(atAda.changed).toEqual({ mood: { level: 3 } });
    expect(atAda.attributes).toMatchObject({ name: 'linus', mood: { level: 3 } });
    expect((await ada.participantByName('linus')).getAttribute('mood')).toEqual({ level: 3 });
  });

  it('meets in a room whose name needs URL encoding (spaces, accents, emoji)', async () => {
    // The official client puts the raw name in the URL (the URL parser encodes it);
    // roomstate encodes it itself. Both must land in the same room.
    const room = `salle de réunion ✓ ${randomUUID().slice(0, 8)}`;
    const ada = await joinRoomstate(room, 'ada');
    const linus = await joinOfficial(room, 'linus');
    expect(linus.client.roomName).toBe(room);
    expect(ada.client.roomName).toBe(room);
    expect((await ada.participantByName('linus')).id).toBe(linus.id);
    await linus.client.messaging.sendMessage({ to: await linus.participantByName('ada'), type: 'hello', message: { room } });
    expect((await ada.messages.waitFor((m) => m.type === 'hello')).message).toEqual({ room });
  });

  it('announces departures and late arrivals across kinds', async () => {
    const { room, ada, grace, linus, ken } = await fourInARoom();
    await waitUntil(() => ada.presentNames().length === 3 && linus.presentNames().length === 3 && grace.presentNames().length === 3, { what: 'full presence' });
    const kenId = ken.id;
    await ken.leave();
    expect((await ada.removed.waitFor((p) => p.id === kenId)).getAttribute('name')).toBe('ken');
    await grace.removed.waitFor((p) => p.id === kenId);
    await linus.participantGone('ken');

    const graceId = grace.id;
    await grace.leave();
    const gone = await linus.presence.waitFor((e) => e.kind === 'participant_removed' && (e.message.message as { id: string }).id === graceId);
    expect(gone.message.fromParticipantId).toBe(graceId);
    await ada.removed.waitFor((p) => p.id === graceId);
    expect(ada.presentNames()).toEqual(['linus']);
    expect(linus.presentNames()).toEqual(['ada']);

    // Sending to the departed fails the same way for both kinds.
    await expect(ada.client.messaging.sendMessage({ to: graceId, type: 'x', message: {} })).rejects.toMatchObject({ message: PARTICIPANT_NOT_FOUND_TEXT });
    await expect(linus.client.messaging.sendMessage({ to: new meshagent.LocalParticipant(linus.client, kenId), type: 'x', message: {} })).rejects.toMatchObject({
      message: PARTICIPANT_NOT_FOUND_TEXT,
      code: 1003,
    });

    // Late arrivals of each kind are announced to both kinds.
    const margaret = await joinRoomstate(room, 'margaret');
    const dennis = await joinOfficial(room, 'dennis');
    expect((await linus.presence.waitFor((e) => e.kind === 'participant_added' && e.message.fromParticipantId === margaret.id)).message.message).toMatchObject({
      id: margaret.id,
      attributes: { name: 'margaret' },
    });
    expect((await ada.added.waitFor((p) => p.id === dennis.id)).getAttribute('name')).toBe('dennis');
    expect(margaret.presentNames()).toEqual(['ada', 'linus']);
    await dennis.participantByName('margaret');
    expect(dennis.presentNames()).toEqual(['ada', 'linus', 'margaret']);
  });
});
