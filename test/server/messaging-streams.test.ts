/**
 * The messaging stream relay on the wire, with raw clients as caller and
 * target: the offer, acceptance, chunks both ways (payloads intact), the
 * refusals (grant, shape, conflict, unknown target), bad chunks, a target
 * answering wrongly, and the acceptance timeout on injected time.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT, packEnvelope, type Content } from '../../src/protocol/index.js';
import { STREAM_ACCEPT_TIMEOUT_MS } from '../../src/server/core/messaging-streams.js';
import { manualTime } from '../helpers/manual-time.js';
import type { RawClient, ReceivedMessage } from '../helpers/raw-client.js';
import { uniqueRoom, useServers, type ServerFixture, type TestServer } from '../helpers/server.js';

const servers = useServers();

/** Sends `messaging.stream` as the Python SDK does; returns the request id. */
function openStream(caller: RawClient, toolCallId: string | null, args: object = { type: 'control', method: 'open' }): number {
  const id = caller.allocateId();
  caller.sendMessage(id, 'room.invoke_tool', packEnvelope({ toolkit: 'messaging', tool: 'stream', participant_id: null, on_behalf_of_id: null, arguments: args, tool_call_id: toolCallId }));
  return id;
}

function requestChunk(caller: RawClient, toolCallId: string, chunk: object, payload?: Uint8Array): void {
  caller.notify('room.tool_call_request_chunk', { tool_call_id: toolCallId, chunk }, payload);
}

function firstChunk(to: string, extra: object = {}): object {
  return { type: 'json', json: { to_participant_id: to, type: 'session', message_json: '{"topic":"files"}', attachment_base64: null, ...extra } };
}

function chunkOf(message: ReceivedMessage): { tool_call_id: unknown; chunk: Record<string, unknown> } {
  return message.header as { tool_call_id: unknown; chunk: Record<string, unknown> };
}

async function room(options: Parameters<ServerFixture['start']>[0] = {}): Promise<{ server: TestServer; caller: RawClient; target: RawClient }> {
  const server = await servers.start(options);
  const name = uniqueRoom('streams');
  const [caller, target] = await Promise.all([server.connect(name, 'caller'), server.connect(name, 'target')]);
  expect(await target.invoke('enable', {}, { tool_call_id: 'enable-1' })).toEqual({ type: 'empty' });
  await target.waitForPush('messaging.enabled');
  return { server, caller, target };
}

/** Opens and addresses a stream; returns the caller's request id and the target's offer. */
async function offer(caller: RawClient, target: RawClient, toolCallId = 'tc-1'): Promise<{ requestId: number; offer: ReceivedMessage }> {
  const requestId = openStream(caller, toolCallId);
  requestChunk(caller, toolCallId, firstChunk(target.participantId));
  return { requestId, offer: await target.waitFor((m) => m.type === 'room.tool_call.messaging') };
}

function answer(target: RawClient, offerMessage: ReceivedMessage, content: object): void {
  target.sendMessage(offerMessage.id, 'room.tool_call_response', packEnvelope(content));
}

describe('messaging stream relay', () => {
  it('offers the stream to the target, relays its acceptance and chunks both ways, and ends on a close', async () => {
    const { caller, target } = await room();
    const { requestId, offer: offered } = await offer(caller, target);
    const streamId = (offered.header as { tool_call_id: string }).tool_call_id;
    expect(offered.header).toEqual({ name: 'stream', caller_id: caller.participantId, tool_call_id: streamId, arguments: { type: 'control', method: 'open' } });
    const first = await target.waitFor((m) => m.type === 'room.tool_call_request_chunk.messaging');
    expect(first.header).toEqual({
      tool_call_id: streamId,
      chunk: { type: 'json', json: { from_participant_id: caller.participantId, type: 'session', message_json: '{"topic":"files"}', attachment_base64: null } },
    });

    answer(target, offered, { type: 'control', method: 'open' });
    expect(await caller.waitForResponse(requestId)).toEqual<Content>({ type: 'control', method: 'open' });
    const accepted = await caller.waitFor((m) => m.type === 'room.tool_call_response_chunk');
    expect(chunkOf(accepted)).toEqual({ tool_call_id: 'tc-1', chunk: { type: 'json', json: { kind: 'accepted', stream_id: streamId } } });

    requestChunk(caller, 'tc-1', { type: 'json', json: { type: 'part', message_json: '{"i":1}', attachment_base64: 'AAEC' } });
    const part = await target.waitFor((m) => m.type === 'room.tool_call_request_chunk.messaging');
    expect(chunkOf(part).chunk).toEqual({ type: 'json', json: { type: 'part', message_json: '{"i":1}', attachment_base64: 'AAEC' } });

    const bytes = new Uint8Array([9, 8, 7, 6]);
    target.notify('room.tool_call_response_chunk', { tool_call_id: streamId, chunk: { type: 'binary', headers: { k: 1 } } }, bytes);
    const binary = await caller.waitFor((m) => m.type === 'room.tool_call_response_chunk');
    expect(chunkOf(binary)).toEqual({ tool_call_id: 'tc-1', chunk: { type: 'binary', headers: { k: 1 } } });
    expect([...binary.payload!]).toEqual([...bytes]);

    target.notify('room.tool_call_response_chunk', { tool_call_id: streamId, chunk: { type: 'control', method: 'close' } });
    const closed = await caller.waitFor((m) => m.type === 'room.tool_call_response_chunk');
    expect(chunkOf(closed).chunk).toEqual({ type: 'control', method: 'close', status_code: 1000 });
    // The stream is gone: a late caller chunk reaches nobody, and the tool_call_id is free again.
    requestChunk(caller, 'tc-1', { type: 'json', json: { type: 'late', message_json: '{}' } });
    const again = await offer(caller, target, 'tc-1');
    expect((again.offer.header as { tool_call_id: string }).tool_call_id).not.toBe(streamId);
    expect(target.queued.filter((m) => m.type === 'room.tool_call_request_chunk.messaging').map((m) => chunkOf(m).chunk.json)).not.toContainEqual(expect.objectContaining({ type: 'late' }));
  });

  it('refuses a stream without the send grant, with bad arguments, without a tool_call_id, or with one in use', async () => {
    const server = await servers.start();
    const name = uniqueRoom('streams');
    const [caller, mute] = await Promise.all([server.connect(name, 'caller'), server.connect(name, 'mute', { token: { messaging: { send: false } } })]);
    expect(await mute.waitForResponse(openStream(mute, 'a'))).toMatchObject({ type: 'error', code: ErrorCode.PermissionDenied, text: expect.stringMatching(/needs send/) });
    expect(await caller.waitForResponse(openStream(caller, 'a', { type: 'json', json: {} }))).toMatchObject({
      type: 'error',
      code: ErrorCode.InvalidRequest,
      text: expect.stringMatching(/starts with an open control chunk/),
    });
    expect(await caller.waitForResponse(openStream(caller, null))).toMatchObject({ type: 'error', code: ErrorCode.InvalidRequest, text: expect.stringMatching(/tool_call_id/) });
    openStream(caller, 'dup');
    expect(await caller.waitForResponse(openStream(caller, 'dup'))).toMatchObject({ type: 'error', code: ErrorCode.Conflict });
  });

  it('answers a first chunk naming an unknown target with 1003, and a bad one with 1002', async () => {
    const { caller, target } = await room();
    const unknown = openStream(caller, 'x');
    requestChunk(caller, 'x', firstChunk('nobody'));
    expect(await caller.waitForResponse(unknown)).toEqual({ type: 'error', text: PARTICIPANT_NOT_FOUND_TEXT, code: ErrorCode.NotFound });
    const bad = openStream(caller, 'y');
    requestChunk(caller, 'y', firstChunk(target.participantId, { message_json: '{not json' }));
    expect(await caller.waitForResponse(bad)).toMatchObject({ type: 'error', code: ErrorCode.InvalidRequest, text: expect.stringMatching(/message_json/) });
    expect(target.queued.some((m) => m.type === 'room.tool_call.messaging')).toBe(false);
  });

  it('closes an open stream with an error when the caller sends a bad chunk, and releases the target', async () => {
    const { caller, target } = await room();
    const { requestId, offer: offered } = await offer(caller, target);
    answer(target, offered, { type: 'control', method: 'open' });
    await caller.waitForResponse(requestId);
    await caller.waitFor((m) => m.type === 'room.tool_call_response_chunk');
    requestChunk(caller, 'tc-1', { type: 'text', text: 'not a message' });
    const error = await caller.waitFor((m) => m.type === 'room.tool_call_response_chunk');
    expect(chunkOf(error).chunk).toMatchObject({ type: 'error', code: ErrorCode.InvalidRequest, text: expect.stringMatching(/json or a close control/) });
    const close = await caller.waitFor((m) => m.type === 'room.tool_call_response_chunk');
    expect(chunkOf(close).chunk).toMatchObject({ type: 'control', method: 'close', status_code: 1007 });
    const released = await target.waitFor((m) => m.type === 'room.tool_call_request_chunk.messaging' && chunkOf(m).chunk.type === 'control');
    expect(chunkOf(released).chunk).toEqual({ type: 'control', method: 'close', status_code: 1000 });
  });

  it('answers 1100 when the target replies with anything but an open control or an error, and relays its error', async () => {
    const { caller, target } = await room();
    const first = await offer(caller, target, 'one');
    answer(target, first.offer, { type: 'json', json: {} });
    expect(await caller.waitForResponse(first.requestId)).toMatchObject({ type: 'error', code: ErrorCode.UnexpectedResponseType });
    const second = await offer(caller, target, 'two');
    answer(target, second.offer, { type: 'error', text: 'not now', code: 1006 });
    expect(await caller.waitForResponse(second.requestId)).toEqual({ type: 'error', text: 'not now', code: 1006 });
  });

  it('times out a stream that is never addressed or never accepted, with 1009', async () => {
    const time = manualTime();
    const { caller, target } = await room({ timers: time.timers, clock: time.clock });
    const silent = openStream(caller, 'silent');
    const { requestId } = await offer(caller, target, 'unanswered');
    time.advance(STREAM_ACCEPT_TIMEOUT_MS);
    expect(await caller.waitForResponse(silent)).toMatchObject({ type: 'error', code: ErrorCode.Timeout, text: expect.stringMatching(/no first message/) });
    expect(await caller.waitForResponse(requestId)).toMatchObject({ type: 'error', code: ErrorCode.Timeout, text: expect.stringMatching(/did not accept/) });
    const released = await target.waitFor((m) => m.type === 'room.tool_call_request_chunk.messaging' && chunkOf(m).chunk.type === 'control');
    expect(chunkOf(released).chunk).toMatchObject({ type: 'control', method: 'close' });
  });
});
