/**
 * Messaging streams of the official MeshAgent Python SDK 0.56.0
 * (`room.messaging.stream(...)`, accepted with `request.accept()`), relayed by
 * roomstate between two Python participants: open, messages both ways in
 * order with attachments, close from either side, refusal, an unknown
 * target, and the target leaving mid-stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PARTICIPANT_NOT_FOUND_TEXT } from '../../src/protocol/index.js';
import { pythonAvailability } from '../helpers/python.js';
import { PythonPeer, attachmentPattern, describeAttachment, sees, stopAllPythonPeers, type PythonPeerOptions } from '../helpers/python-peer.js';
import { uniqueRoom, useServer } from '../helpers/server.js';

const availability = pythonAvailability();

describe.skipIf(!availability.run)('Python messaging streams through roomstate', () => {
  const venv = availability.run ? availability.venv : (undefined as never);
  const fx = useServer({ logger: false });
  afterEach(() => stopAllPythonPeers());

  /** A caller and a target with messaging enabled, each seeing the other. */
  async function pair(streams: PythonPeerOptions['streams']): Promise<[PythonPeer, PythonPeer]> {
    const room = uniqueRoom('py-stream');
    const [caller, target] = await Promise.all([
      PythonPeer.start(venv, { url: fx.url, room, token: await fx.token(room, 'caller') }),
      PythonPeer.start(venv, { url: fx.url, room, token: await fx.token(room, 'target'), streams }),
    ]);
    await Promise.all([caller.command('enable'), target.command('enable')]);
    await Promise.all([sees(caller, target.id), sees(target, caller.id)]);
    return [caller, target];
  }

  it('opens a stream, relays messages both ways in order, and closes it from the caller', async () => {
    const [caller, target] = await pair('echo');
    const streamId = await caller.command('stream_open', { to: target.id, type: 'session', message: { topic: 'files' }, attachment: { size: 100 } });
    const request = await target.waitFor('stream_request');
    expect(request).toMatchObject({ stream_id: streamId, from: caller.id, type: 'session', message: { topic: 'files' }, attachment: describeAttachment(attachmentPattern(100)) });

    for (let i = 0; i < 5; i++) {
      await caller.command('stream_send', { stream_id: streamId, type: 'part', message: { i }, ...(i === 4 ? { attachment: { size: 200_000 } } : {}) });
    }
    const received = await target.events.waitForCount((e) => e.event === 'stream_message', 5, { timeoutMs: 60_000, what: '5 stream messages at the target' });
    expect(received.map((e) => [e.from, e.type, (e.message as { i: number }).i])).toEqual([0, 1, 2, 3, 4].map((i) => [caller.id, 'part', i]));
    expect(received[4].attachment).toEqual(describeAttachment(attachmentPattern(200_000)));
    const echoes = await caller.events.waitForCount((e) => e.event === 'stream_message', 5, { timeoutMs: 60_000, what: '5 echoes at the caller' });
    expect(echoes.map((e) => [e.stream_id, e.from, e.type, (e.message as { i: number }).i])).toEqual([0, 1, 2, 3, 4].map((i) => [streamId, target.id, 'echo', i]));
    expect(echoes[4].attachment).toEqual(describeAttachment(attachmentPattern(200_000)));

    await caller.command('stream_close', { stream_id: streamId });
    expect(await target.waitFor('stream_event')).toMatchObject({ stream_id: streamId, kind: 'MessagingStreamClientDisconnected' });
    await target.waitFor('stream_end', (e) => e.stream_id === streamId);
  });

  it('lets the target close the stream, which the caller sees as a disconnect', async () => {
    const [caller, target] = await pair('accept');
    const streamId = await caller.command('stream_open', { to: target.id, type: 'session', message: {} });
    await target.waitFor('stream_request');
    await target.command('stream_send', { stream_id: streamId, type: 'hello', message: { from: 'target' } });
    expect(await caller.waitFor('stream_message')).toMatchObject({ stream_id: streamId, from: target.id, type: 'hello', message: { from: 'target' } });
    await target.command('stream_close', { stream_id: streamId });
    expect(await caller.waitFor('stream_event')).toMatchObject({ stream_id: streamId, kind: 'MessagingStreamClientDisconnected' });
    await caller.waitFor('stream_end', (e) => e.stream_id === streamId);
  });

  it('reports a refused stream to the caller with the target\'s reason', async () => {
    const [caller, target] = await pair('reject');
    const result = await caller.tryCommand('stream_open', { to: target.id, type: 'session', message: {} });
    expect(result).toMatchObject({ ok: false, error: 'rejected by the test peer' });
    await target.waitFor('stream_request');
  });

  it('answers a stream to an unknown participant with 1003', async () => {
    const [caller] = await pair('accept');
    const result = await caller.tryCommand('stream_open', { to: 'no-such-participant', type: 'session', message: {} });
    expect(result).toMatchObject({ ok: false, code: 1003, error: PARTICIPANT_NOT_FOUND_TEXT });
  });

  it('closes the stream at the caller when the target leaves mid-stream', async () => {
    const [caller, target] = await pair('accept');
    const streamId = await caller.command('stream_open', { to: target.id, type: 'session', message: {} });
    await target.waitFor('stream_request');
    await target.kill();
    expect(await caller.waitFor('stream_event')).toMatchObject({ stream_id: streamId, kind: 'MessagingStreamClosed', reason: 'participant_left' });
    await caller.waitFor('stream_end', (e) => e.stream_id === streamId);
    // The caller's connection is unharmed.
    expect(await caller.command('participants')).toEqual([]);
  });
});
