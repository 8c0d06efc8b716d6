/**
 * Python and TypeScript clients in one room: the official MeshAgent Python SDK
 * 0.56.0 (a `test/python/peer.py` process), roomstate's own RoomClient and the
 * official npm client 0.39.9, all unmodified, against one roomstate server.
 * They see each other's presence and attributes and exchange direct messages
 * (attachments up to 1 MB) and broadcasts in every direction.
 */
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RoomClient, type RoomMessage } from '../../src/client/node.js';
import type { ParticipantAttributesUpdate } from '../../src/client/index.js';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, type ProcessGuard } from '../helpers/official-client.js';
import { pythonAvailability } from '../helpers/python.js';
import { PythonPeer, attachmentPattern, describeAttachment, sees, stopAllPythonPeers } from '../helpers/python-peer.js';
import { Recorder, waitUntil } from '../helpers/recorder.js';
import { uniqueRoom, useServer } from '../helpers/server.js';

const availability = pythonAvailability();

describe.skipIf(!availability.run)('Python SDK 0.56.0, roomstate RoomClient and npm 0.39.9 in one room', () => {
  const venv = availability.run ? availability.venv : (undefined as never);
  const fx = useServer({ logger: false });
  let guard: ProcessGuard;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    clearMeshagentEnv();
    guard = installProcessGuard();
  });
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
    await stopAllPythonPeers();
    expect(guard.errors).toEqual([]);
  });
  afterAll(() => guard.dispose());

  /** Python "py", roomstate "ada" and npm "linus", all messaging-enabled and seeing each other. */
  async function threeKinds() {
    const room = uniqueRoom('py-mixed');
    const [py, ada, linus] = await Promise.all([
      fx.token(room, 'py').then((token) => PythonPeer.start(venv, { url: fx.url, room, token })),
      fx.token(room, 'ada').then(async (token) => {
        const client = new RoomClient({ url: fx.url, room, token, reconnectTimeout: 0 });
        const messages = new Recorder<RoomMessage>();
        const attributes = new Recorder<ParticipantAttributesUpdate>();
        const subscriptions: Subscription[] = [
          client.messaging.messages$.subscribe((m) => messages.push(m)),
          client.messaging.participantAttributesUpdated$.subscribe((u) => attributes.push(u)),
        ];
        cleanups.push(async () => {
          for (const subscription of subscriptions) subscription.unsubscribe();
          await client.close();
        });
        await client.start();
        await client.messaging.enable();
        return { client, messages, attributes };
      }),
      OfficialPeer.connect({ baseUrl: fx.url, room, name: 'linus', secret: fx.secret }).then(async (peer) => {
        cleanups.push(() => peer.leave());
        await peer.enable();
        return peer;
      }),
    ]);
    await py.command('enable');
    await Promise.all([
      sees(py, ada.client.localParticipant.id),
      sees(py, linus.id),
      waitUntil(() => ada.client.messaging.getParticipantByName('py') !== null && ada.client.messaging.getParticipantByName('linus') !== null, { what: 'ada to see py and linus' }),
      linus.participantByName('py'),
    ]);
    return { py, ada, linus };
  }

  it('shows every participant to every other, with names and roles', async () => {
    const { py, ada, linus } = await threeKinds();
    const adaId = ada.client.localParticipant.id;
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(((await py.command('participants')) as { id: string }[]).sort(byId)).toEqual(
      [
        { id: adaId, role: 'user', attributes: { name: 'ada' } },
        { id: linus.id, role: 'user', attributes: { name: 'linus' } },
      ].sort(byId),
    );
    expect(ada.client.messaging.getParticipantByName('py')?.id).toBe(py.id);
    expect((await linus.participantByName('py')).id).toBe(py.id);
  });

  it('exchanges direct messages with attachments between Python and both TypeScript clients', async () => {
    const { py, ada, linus } = await threeKinds();
    const adaId = ada.client.localParticipant.id;
    const megabyte = 1024 * 1024;
    await py.command('send', { to: adaId, type: 'py->rs', message: { n: 1 }, attachment: { size: megabyte } });
    await py.command('send', { to: linus.id, type: 'py->npm', message: { n: 2 }, attachment: { size: 50_000 } });
    const atAda = await ada.messages.waitFor((m) => m.type === 'py->rs');
    expect(atAda.fromParticipantId).toBe(py.id);
    expect(atAda.message).toEqual({ n: 1 });
    expect(Buffer.from(atAda.attachment!).equals(attachmentPattern(megabyte))).toBe(true);
    const atLinus = await linus.messages.waitFor((m) => m.type === 'py->npm');
    expect(atLinus.fromParticipantId).toBe(py.id);
    expect(Buffer.from(atLinus.attachment!).equals(attachmentPattern(50_000))).toBe(true);

    await ada.client.messaging.sendMessage({ to: py.id, type: 'rs->py', message: { from: 'ada' }, attachment: attachmentPattern(megabyte) });
    await linus.client.messaging.sendMessage({ to: await linus.participantByName('py'), type: 'npm->py', message: { from: 'linus' }, attachment: attachmentPattern(20_000) });
    expect(await py.waitFor('message', (e) => e.type === 'rs->py')).toMatchObject({ from: adaId, message: { from: 'ada' }, attachment: describeAttachment(attachmentPattern(megabyte)) });
    expect(await py.waitFor('message', (e) => e.type === 'npm->py')).toMatchObject({ from: linus.id, message: { from: 'linus' }, attachment: describeAttachment(attachmentPattern(20_000)) });
  });

  it('delivers broadcasts from every kind to the two others', async () => {
    const { py, ada, linus } = await threeKinds();
    const adaId = ada.client.localParticipant.id;
    await py.command('broadcast', { type: 'from-py', message: { by: 'py' } });
    await ada.client.messaging.broadcastMessage({ type: 'from-rs', message: { by: 'ada' } });
    await linus.client.messaging.broadcastMessage({ type: 'from-npm', message: { by: 'linus' } });
    expect((await ada.messages.waitFor((m) => m.type === 'from-py')).fromParticipantId).toBe(py.id);
    expect((await linus.messages.waitFor((m) => m.type === 'from-py')).fromParticipantId).toBe(py.id);
    expect(await py.waitFor('message', (e) => e.type === 'from-rs')).toMatchObject({ from: adaId, message: { by: 'ada' } });
    expect(await py.waitFor('message', (e) => e.type === 'from-npm')).toMatchObject({ from: linus.id, message: { by: 'linus' } });
  });

  it('propagates attribute updates between Python and TypeScript', async () => {
    const { py, ada, linus } = await threeKinds();
    await py.command('set_attribute', { name: 'status', value: 'typing' });
    const atAda = await ada.attributes.waitFor((u) => u.participant.id === py.id);
    expect(atAda.attributes).toMatchObject({ name: 'py', status: 'typing' });
    const atLinus = await linus.presence.waitFor((e) => e.kind === 'participant_attributes_updated' && e.message.fromParticipantId === py.id);
    expect(atLinus.message.message).toEqual({ attributes: { status: 'typing' } });

    ada.client.localParticipant.setAttribute('mood', { level: 3 });
    expect(await py.waitFor('attributes', (e) => e.id === ada.client.localParticipant.id)).toMatchObject({ attributes: { name: 'ada', mood: { level: 3 } } });
  });
});
