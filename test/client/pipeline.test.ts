/**
 * The RxJS side of the client without a network: the actor bridge, the
 * outbox, request correlation, wire decoding, and the whole pipeline driven
 * through an in-memory websocket that a test plays the server on, with the
 * real codec.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createActor } from 'xstate';
import { presenceMachine } from '../../machines/presence.js';
import { messagingMachine } from '../../machines/messaging.js';
import { CodecError, RoomServerError } from '../../src/errors.js';
import { PacketReassembler, encodeContent, encodePackets, packEnvelope, unpackEnvelope, type Content } from '../../src/protocol/index.js';
import { RoomClient, RoomClosedError, ParticipantNotFoundError, emitted, select } from '../../src/client/index.js';
import { Outbox, type OutboxDeps } from '../../src/client/outbox.js';
import { LinkLostError, RequestTracker, type Pending } from '../../src/client/requests.js';
import type { SocketPort } from '../../src/client/socket-port.js';
import type { MessagingEvent } from '../../machines/messaging.js';
import { decodeMessagingPush, isUserMessage } from '../../src/client/wire.js';
import { encodeInvoke, messageArguments } from '../../src/protocol/messaging.js';
import { toBase64, toBase64Portable } from '../../src/protocol/base64.js';
import { ReadyState, type WebSocketLike, type WebSocketLikeEventMap } from '../../src/client/websocket.js';
import { Recorder, waitUntil } from '../helpers/recorder.js';
import { record } from './helpers/clients.js';

describe('select(): the actor bridge', () => {
  it('gives late subscribers the current value, deduplicates, and completes when the actor stops', async () => {
    const actor = createActor(presenceMachine, { input: { id: 'p', role: 'user', attributes: { name: 'bob' } } }).start();
    const names$ = select(actor, (s) => s.context.attributes.name);
    actor.send({ type: 'attributes.changed', attributes: { name: 'robert' } });
    // Subscribing after the change still yields the current value (XState actors do not replay).
    expect(await firstValueFrom(names$)).toBe('robert');
    const seen = record(names$);
    actor.send({ type: 'attributes.changed', attributes: { status: 'busy' } }); // name unchanged: no emission
    actor.send({ type: 'attributes.changed', attributes: { name: 'bobby' } });
    let completed = false;
    names$.subscribe({ complete: () => (completed = true) });
    actor.send({ type: 'participant.left' });
    expect(seen.items).toEqual(['robert', 'bobby']);
    expect(completed).toBe(true);
  });

  it('shares one subscription to the actor between subscribers and releases it with the last', () => {
    const actor = createActor(presenceMachine, { input: { id: 'p', role: 'user', attributes: {} } }).start();
    let subscriptions = 0;
    const original = actor.subscribe.bind(actor);
    (actor as { subscribe: typeof actor.subscribe }).subscribe = ((...args: Parameters<typeof actor.subscribe>) => {
      subscriptions++;
      return original(...args);
    }) as typeof actor.subscribe;
    const value$ = select(actor, (s) => s.value);
    const a = value$.subscribe();
    const b = value$.subscribe();
    expect(subscriptions).toBe(1);
    a.unsubscribe();
    b.unsubscribe();
    value$.subscribe().unsubscribe();
    expect(subscriptions).toBe(2);
  });

  it('emitted() delivers one emitted event type and stops on unsubscribe', () => {
    const actor = createActor(messagingMachine).start();
    const requests = record(emitted(actor, 'request.enable'));
    actor.send({ type: 'connection.established' });
    actor.send({ type: 'messaging.enable' });
    requests.subscription.unsubscribe();
    actor.send({ type: 'connection.lost' });
    actor.send({ type: 'connection.established' });
    expect(requests.items).toEqual([{ type: 'request.enable' }]);
  });
});

/** An outbox wired to plain functions the test controls. */
function outboxUnderTest(overrides: Partial<OutboxDeps> = {}) {
  const calls: { tool: string; json: Record<string, unknown>; resolve: (c: Content) => void; reject: (e: unknown) => void }[] = [];
  const state = { canSend: false, refusal: undefined as Error | undefined, present: new Set(['bob']) };
  const notFound: string[] = [];
  const outbox = new Outbox({
    window: 100,
    canSend: () => state.canSend,
    refusal: () => state.refusal,
    resolveTarget: (to) => (typeof to === 'string' && state.present.has(to) ? to : undefined),
    ...overrides,
  });
  // The port the pipeline would hand over: writes and answers recorded.
  const port = {
    invoke: (tool: string, json: Record<string, unknown>, pending: Pending) => void calls.push({ tool, json, resolve: pending.resolve, reject: pending.reject }),
    answer: (event: MessagingEvent) => {
      if (event.type === 'participant.not_found') notFound.push(event.participantId);
    },
  };
  outbox.use(port as unknown as SocketPort);
  return { outbox, calls, state, notFound };
}

const flushPromises = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('Outbox', () => {
  it('queues while sending is not allowed and sends in order on flush', async () => {
    const { outbox, calls, state } = outboxUnderTest();
    const sends = [1, 2, 3].map((n) => outbox.submit({ tool: 'send', to: 'bob', type: 't', message: { n }, ignoreOffline: false }));
    expect(calls).toHaveLength(0);
    expect(outbox.queued).toBe(3);
    state.canSend = true;
    outbox.flush();
    expect(calls.map((c) => c.json)).toEqual([1, 2, 3].map((n) => messageArguments({ toParticipantId: 'bob', type: 't', message: { n } })));
    for (const call of calls) call.resolve({ type: 'empty' });
    await Promise.all(sends);
  });

  it('sends at once when allowed, after what is already queued', () => {
    const { outbox, calls, state } = outboxUnderTest();
    void outbox.submit({ tool: 'broadcast', type: 'first', message: {}, ignoreOffline: false });
    state.canSend = true;
    void outbox.submit({ tool: 'broadcast', type: 'second', message: {}, ignoreOffline: false });
    expect(calls.map((c) => c.json.type)).toEqual(['first', 'second']);
  });

  it('keeps at most `window` sends unanswered; the rest go out in order as answers come back', async () => {
    const { outbox, calls, state } = outboxUnderTest({ window: 2 });
    state.canSend = true;
    const sends = [1, 2, 3, 4, 5].map((n) => outbox.submit({ tool: 'broadcast', type: 't', message: { n }, ignoreOffline: false }));
    const settled = Promise.allSettled(sends);
    const sent = () => calls.map((c) => (JSON.parse(c.json.message_json as string) as { n: number }).n);
    expect(sent()).toEqual([1, 2]);
    expect([outbox.pending, outbox.queued]).toEqual([2, 3]);
    calls[1]!.resolve({ type: 'empty' });
    await flushPromises();
    expect(sent()).toEqual([1, 2, 3]);
    calls[0]!.reject(new RoomServerError('refused', 1008));
    await flushPromises();
    expect(sent()).toEqual([1, 2, 3, 4]);
    for (const call of calls.slice(2)) call.resolve({ type: 'empty' });
    await flushPromises();
    expect(sent()).toEqual([1, 2, 3, 4, 5]);
    calls[4]!.resolve({ type: 'empty' });
    expect((await settled).map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  });

  it('puts sends lost with their socket back in their original places', async () => {
    const { outbox, calls, state } = outboxUnderTest();
    state.canSend = true;
    const sends = [1, 2, 3].map((n) => outbox.submit({ tool: 'send', to: 'bob', type: 't', message: { n }, ignoreOffline: false }));
    state.canSend = false;
    const late = outbox.submit({ tool: 'send', to: 'bob', type: 't', message: { n: 4 }, ignoreOffline: false });
    calls[1]!.resolve({ type: 'empty' });
    calls[2]!.reject(new LinkLostError());
    calls[0]!.reject(new LinkLostError());
    await flushPromises();
    expect(outbox.queued).toBe(3);
    state.canSend = true;
    outbox.flush();
    expect(calls.slice(3).map((c) => (JSON.parse(c.json.message_json as string) as { n: number }).n)).toEqual([1, 3, 4]);
    for (const call of calls.slice(3)) call.resolve({ type: 'empty' });
    await Promise.all([...sends, late]);
  });

  it('rejects what is queued or lost once refused, resolving ignoreOffline sends', async () => {
    const { outbox, calls, state } = outboxUnderTest();
    state.canSend = true;
    const inFlight = outbox.submit({ tool: 'send', to: 'bob', type: 't', message: {}, ignoreOffline: false });
    state.canSend = false;
    const queued = outbox.submit({ tool: 'broadcast', type: 't', message: {}, ignoreOffline: false });
    const quiet = outbox.submit({ tool: 'send', to: 'bob', type: 't', message: {}, ignoreOffline: true });
    const closed = new RoomClosedError(undefined, 'the message was sent');
    state.refusal = closed;
    outbox.rejectAll(closed);
    calls[0]!.reject(new LinkLostError());
    await expect(queued).rejects.toBe(closed);
    await expect(inFlight).rejects.toBe(closed);
    await expect(quiet).resolves.toBeUndefined();
    await expect(outbox.submit({ tool: 'broadcast', type: 't', message: {}, ignoreOffline: false })).rejects.toBe(closed);
  });

  it('turns "not found" into ParticipantNotFoundError and reports it; passes other server errors on', async () => {
    const { outbox, calls, state, notFound } = outboxUnderTest();
    state.canSend = true;
    const absent = outbox.submit({ tool: 'send', to: 'carol', type: 't', message: {}, ignoreOffline: false });
    await expect(absent).rejects.toEqual(new ParticipantNotFoundError('carol'));
    expect(calls).toHaveLength(0); // resolved locally: no request
    const gone = outbox.submit({ tool: 'send', to: 'bob', type: 't', message: {}, ignoreOffline: false });
    calls[0]!.reject(new RoomServerError('the participant was not found', 1003));
    await expect(gone).rejects.toMatchObject({ name: 'ParticipantNotFoundError', message: 'the participant was not found', participantId: 'bob' });
    expect(notFound).toEqual(['bob']);
    const denied = outbox.submit({ tool: 'broadcast', type: 't', message: {}, ignoreOffline: false });
    calls[1]!.reject(new RoomServerError('messaging broadcast is not permitted', 1001));
    await expect(denied).rejects.toMatchObject({ name: 'RoomServerError', protocolCode: 1001 });
  });
});

/** A request registered with the tracker, as a promise. */
function expecting(tracker: RequestTracker, id: number): Promise<Content> {
  return new Promise<Content>((resolve, reject) => tracker.expect(id, { resolve, reject }));
}

describe('RequestTracker', () => {
  it('numbers messages from 0 and settles requests by id', async () => {
    const tracker = new RequestTracker();
    expect([tracker.nextId(), tracker.nextId()]).toEqual([0, 1]);
    const ok = expecting(tracker, 1);
    const failed = expecting(tracker, 0);
    expect(tracker.settle(7, encodeContent({ type: 'empty' }))).toBe(false);
    tracker.settle(1, encodeContent({ type: 'json', json: { a: 1 } }));
    tracker.settle(0, encodeContent({ type: 'error', text: 'the participant was not found', code: 1003 }));
    await expect(ok).resolves.toEqual({ type: 'json', json: { a: 1 } });
    await expect(failed).rejects.toEqual(new RoomServerError('the participant was not found', 1003));
    expect(tracker.size).toBe(0);
  });

  it('settles the common empty answer without parsing it, and a same-length other answer by parsing', async () => {
    const tracker = new RequestTracker();
    const empty = expecting(tracker, tracker.nextId());
    const other = expecting(tracker, tracker.nextId());
    const emptyBytes = encodeContent({ type: 'empty' });
    tracker.settle(0, emptyBytes);
    // Same length as the empty answer, different bytes: must go through the decoder (and fail here).
    const lookalike = emptyBytes.slice();
    lookalike[lookalike.byteLength - 2] ^= 1;
    tracker.settle(1, lookalike);
    await expect(empty).resolves.toEqual({ type: 'empty' });
    await expect(other).rejects.toBeInstanceOf(CodecError);
  });

  it('rejects everything pending when the socket goes, and undecodable answers with CodecError', async () => {
    const tracker = new RequestTracker();
    const a = expecting(tracker, tracker.nextId());
    const b = expecting(tracker, tracker.nextId());
    tracker.settle(1, new Uint8Array([1, 2, 3]));
    tracker.failAll(new LinkLostError());
    await expect(a).rejects.toBeInstanceOf(LinkLostError);
    await expect(b).rejects.toBeInstanceOf(CodecError);
  });
});

describe('wire decoding', () => {
  const push = (header: object, payload?: Uint8Array) => packEnvelope(header, payload);

  it.each([
    [{ type: 'messaging.enabled', from_participant_id: 'me', message: { participants: [{ id: 'b', role: 'agent', attributes: { name: 'bob' } }] } }, { type: 'messaging.enabled', participants: [{ id: 'b', role: 'agent', attributes: { name: 'bob' } }] }],
    [{ type: 'participant.enabled', from_participant_id: 'b', message: { id: 'b' } }, { type: 'participant.enabled', participant: { id: 'b', role: 'user', attributes: {} } }],
    [{ type: 'participant.disabled', from_participant_id: 'b', message: { id: 'b' } }, { type: 'participant.disabled', participantId: 'b' }],
    [{ type: 'participant.attributes', from_participant_id: 'b', message: { attributes: { s: 1 } } }, { type: 'participant.attributes_changed', participantId: 'b', attributes: { s: 1 } }],
  ])('turns presence control type %# into a machine event, never a user message', (header, event) => {
    const message = { fromParticipantId: header.from_participant_id ?? '', type: header.type, message: header.message };
    // Observed, the event hands the control message on as decoded.
    const observed = decodeMessagingPush(push(header), true);
    expect(isUserMessage(observed)).toBe(false);
    expect(observed).toEqual({ ...event, received: message });
    // Unobserved, no control message is built.
    expect(decodeMessagingPush(push(header), false)).toEqual({ ...event, received: undefined });
  });

  it('reuses a well-formed participant body for the event instead of copying it', () => {
    const decoded = decodeMessagingPush(push({ type: 'participant.enabled', from_participant_id: 'b', message: { id: 'b', role: 'agent', attributes: { n: 1 } } }), true);
    if (isUserMessage(decoded) || decoded.type !== 'participant.enabled' || decoded.received === undefined) throw new Error('expected a participant.enabled event with its control message');
    expect(decoded.participant).toBe((decoded.received as { message: unknown }).message);
  });

  it('turns other types into user messages with the attachment bytes', () => {
    const chat = decodeMessagingPush(push({ type: 'chat', from_participant_id: 'b', message: { text: 'hi' } }, new Uint8Array([9])), false);
    expect(isUserMessage(chat)).toBe(true);
    expect(chat).toEqual({ fromParticipantId: 'b', type: 'chat', message: { text: 'hi' }, attachment: new Uint8Array([9]) });
    expect(decodeMessagingPush(push({ type: 'chat', from_participant_id: 'b', message: 1 }), true)).toEqual({ fromParticipantId: 'b', type: 'chat', message: 1 });
  });

  it('refuses malformed control messages with a CodecError naming the field', () => {
    expect(() => decodeMessagingPush(push({ type: 'messaging.enabled', message: {} }), false)).toThrow(/messaging\.enabled\.participants: expected an array/);
    expect(() => decodeMessagingPush(push({ type: 'participant.disabled', message: {} }), false)).toThrow(CodecError);
  });

  it('encodes send arguments as 0.39.9 does, base64 without Buffer', () => {
    const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    // The portable encoder (browsers), at every padding length and a large odd size.
    for (const size of [0, 1, 2, 3, 4, 5, 6, 1023, 70_001]) {
      const sample = new Uint8Array(size).map((_, i) => (i * 131 + 7) % 256);
      expect(toBase64Portable(sample)).toBe(Buffer.from(sample).toString('base64'));
    }
    expect(messageArguments({ type: 't', message: { a: 1 }, messageJson: '{"a":1}' })).toEqual({ type: 't', message_json: '{"a":1}' });
    expect(messageArguments({ toParticipantId: 'b', type: 't', message: { a: 1 } })).toEqual({ to_participant_id: 'b', type: 't', message_json: '{"a":1}' });
    const withAttachment = encodeInvoke('send', messageArguments({ toParticipantId: 'b', type: 't', message: null }), undefined, new Uint8Array([1, 2, 3, 4]));
    expect(unpackEnvelope(withAttachment).header).toEqual({
      toolkit: 'messaging',
      tool: 'send',
      arguments: { type: 'json', json: { to_participant_id: 'b', type: 't', message_json: 'null', attachment_base64: 'AQIDBA==' } },
    });
  });
});

/**
 * An in-memory WebSocket: the client's frames are reassembled with the codec
 * and handed to the test, which answers as the server would.
 */
class MemorySocket implements WebSocketLike {
  static last: MemorySocket | undefined;
  static created = 0;
  binaryType = 'blob';
  readyState: number = ReadyState.Connecting;
  readonly received = new Recorder<{ id: number; type: string; header: Record<string, unknown> }>();
  readonly closes: { code?: number }[] = [];
  private readonly listeners = new Map<string, Set<(event: never) => void>>();
  private readonly reassembler = new PacketReassembler();

  constructor(readonly url: string) {
    MemorySocket.last = this;
    MemorySocket.created++;
  }

  addEventListener<K extends keyof WebSocketLikeEventMap>(type: K, listener: (event: WebSocketLikeEventMap[K]) => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener as (event: never) => void);
  }

  removeEventListener<K extends keyof WebSocketLikeEventMap>(type: K, listener: (event: WebSocketLikeEventMap[K]) => void): void {
    this.listeners.get(type)?.delete(listener as (event: never) => void);
  }

  private fire<K extends keyof WebSocketLikeEventMap>(type: K, event: WebSocketLikeEventMap[K]): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) (listener as (e: WebSocketLikeEventMap[K]) => void)(event);
  }

  send(frame: Uint8Array): void {
    const message = this.reassembler.push(frame);
    if (message) this.received.push({ id: message.id, type: message.type, header: unpackEnvelope(message.data).header });
  }

  close(code?: number): void {
    this.closes.push({ code });
    if (this.readyState === ReadyState.Closed) return;
    this.readyState = ReadyState.Closed;
    queueMicrotask(() => this.fire('close', { code: code ?? 1005, reason: '' }));
  }

  // The server side.
  open(): void {
    this.readyState = ReadyState.Open;
    this.fire('open', {});
  }

  push(id: number, type: string, data: Uint8Array): void {
    for (const frame of encodePackets(id, type, data)) this.fire('message', { data: frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) });
  }

  raw(data: unknown): void {
    this.fire('message', { data });
  }

  handshake(participantId: string): void {
    this.open();
    this.push(0, 'room_ready', packEnvelope({ room_name: 'r', room_url: 'ws://x/rooms/r', session_id: 's' }));
    this.push(1, 'connected', packEnvelope({ type: 'init', participantId, attributes: { name: 'alice' } }));
  }

  serverClose(code: number, reason = '', error?: string): void {
    this.readyState = ReadyState.Closed;
    if (error) this.fire('error', { message: error });
    this.fire('close', { code, reason });
  }
}

function memoryClient(options: Partial<ConstructorParameters<typeof RoomClient>[0]> = {}) {
  const warnings: string[] = [];
  const client = new RoomClient({
    url: 'http://127.0.0.1:9',
    room: 'r',
    token: 'tok',
    WebSocket: MemorySocket,
    logger: { warn: (message) => warnings.push(message) },
    ...options,
  });
  return { client, warnings };
}

describe('the pipeline over an in-memory websocket', () => {
  it('asks for a resume key on the room URL by default (resume off: the URL of the official client)', async () => {
    const { client } = memoryClient();
    void client.start().catch(() => undefined);
    expect(MemorySocket.last!.url).toBe('ws://127.0.0.1:9/rooms/r?token=tok&roomstate_request_key=1');
    await client.close();
  });

  it('opens the room URL with the token, routes the handshake, and answers requests by id', async () => {
    const { client } = memoryClient({ resume: false });
    const started = client.start();
    const socket = MemorySocket.last!;
    expect(socket.url).toBe('ws://127.0.0.1:9/rooms/r?token=tok');
    expect(socket.binaryType).toBe('arraybuffer');
    socket.handshake('p1');
    await started;
    const enabled = client.messaging.enable();
    const enable = await socket.received.waitFor((m) => m.type === 'room.invoke_tool');
    expect(enable.id).toBe(0); // the first message on this socket
    expect(enable.header).toMatchObject({ toolkit: 'messaging', tool: 'enable', arguments: { type: 'json', json: {} } });
    expect(typeof enable.header.tool_call_id).toBe('string');
    socket.push(enable.id, '__response__', encodeContent({ type: 'empty' }));
    socket.push(50, 'messaging.send', packEnvelope({ type: 'messaging.enabled', from_participant_id: 'p1', message: { participants: [{ id: 'b', role: 'user', attributes: { name: 'bob' } }] } }));
    await enabled;
    const sent = client.messaging.sendMessage({ to: client.messaging.getParticipantByName('bob')!, type: 'chat', message: { text: 'hi' } });
    const send = await socket.received.waitFor((m) => m.header.tool === 'send');
    expect(send.id).toBe(1);
    expect(send.header).toEqual({ toolkit: 'messaging', tool: 'send', arguments: { type: 'json', json: { to_participant_id: 'b', type: 'chat', message_json: '{"text":"hi"}' } } });
    socket.push(send.id, '__response__', encodeContent({ type: 'error', text: 'the participant was not found', code: 1003 }));
    await expect(sent).rejects.toBeInstanceOf(ParticipantNotFoundError);
    expect(client.messaging.getParticipants()).toEqual([]); // removed, as the official client does
    await client.close();
    expect(socket.closes).toEqual([{ code: 1000 }]);
  });

  it('survives frames the codec refuses and text frames, warning about each', async () => {
    const { client, warnings } = memoryClient();
    const messages = record(client.messaging.messages$);
    const started = client.start();
    const socket = MemorySocket.last!;
    socket.handshake('p1');
    await started;
    socket.raw(new Uint8Array([1, 2, 3]).buffer); // shorter than a packet header
    socket.raw('text frames carry no meaning');
    socket.push(9, 'messaging.send', packEnvelope({ type: 'participant.disabled', message: {} })); // malformed control
    socket.push(10, 'messaging.send', packEnvelope({ type: 'chat', from_participant_id: 'b', message: { ok: true } }));
    await messages.waitFor(() => true);
    expect(messages.items).toEqual([{ fromParticipantId: 'b', type: 'chat', message: { ok: true } }]);
    expect(warnings).toHaveLength(3);
    expect(client.connectionState).toBe('connected');
    await client.close();
  });

  it('reports an HTTP 403 at the upgrade (as ws words it) as final', async () => {
    const { client } = memoryClient();
    const started = client.start();
    MemorySocket.last!.serverClose(1006, '', 'Unexpected server response: 403');
    await expect(started).rejects.toMatchObject({ name: 'RoomClosedError', end: { kind: 'refused', httpStatus: 403 } });
  });

  it('opens a fresh socket per attempt, numbering messages from 0 again', async () => {
    // Without resume: a server without the extension makes a resuming client a new participant too, but its ids go on.
    const { client } = memoryClient({ retryDelay: () => 1, resume: false });
    const states = client.connectionState$.pipe(take(6), toArray());
    const allStates = firstValueFrom(states);
    const enabling = client.messaging.enable().catch((error: unknown) => error);
    const started = client.start();
    const first = MemorySocket.last!;
    first.handshake('p1');
    await started;
    await first.received.waitFor((m) => m.header.tool === 'enable');
    first.serverClose(1012, 'restart');
    await waitUntil(() => MemorySocket.last !== first, { what: 'a second socket' });
    const second = MemorySocket.last!;
    second.handshake('p2');
    const enable = await second.received.waitFor((m) => m.header.tool === 'enable');
    // Ids restart at 0: set_attributes (the whole merged set) first, then enable.
    expect(second.received.items.map((m) => [m.id, m.type])).toEqual([
      [0, 'set_attributes'],
      [1, 'room.invoke_tool'],
    ]);
    expect(second.received.items[0]!.header).toEqual({ name: 'alice' });
    expect(enable.id).toBe(1);
    expect(client.localParticipant.id).toBe('p2');
    await client.close();
    expect(await allStates).toEqual(['idle', 'connecting', 'connected', 'reconnecting', 'connected', 'closed']);
    expect(await enabling).toBeInstanceOf(RoomClosedError); // never confirmed by this scripted server
  });
});

describe('presence pushes of one socket read', () => {
  it('are applied in one machine step, and always before a message that follows them', async () => {
    const { client } = memoryClient();
    const started = client.start();
    const socket = MemorySocket.last!;
    socket.handshake('p1');
    await started;
    const enabled = client.messaging.enable();
    const enable = await socket.received.waitFor((m) => m.type === 'room.invoke_tool');
    socket.push(enable.id, '__response__', encodeContent({ type: 'empty' }));
    socket.push(50, 'messaging.send', packEnvelope({ type: 'messaging.enabled', from_participant_id: 'p1', message: { participants: [] } }));
    await enabled;
    const steps: number[] = [];
    const sizes = client.messaging.participants$.subscribe((list) => steps.push(list.length));
    const seen: string[] = [];
    client.messaging.messages$.subscribe((m) => seen.push(`${m.type} from ${String(client.messaging.getParticipant(m.fromParticipantId)?.getAttribute('name'))}`));
    // One synchronous run of pushes, as ws delivers the messages of one socket read.
    for (const [n, name] of ['bob', 'carol', 'dave'].entries()) {
      socket.push(60 + n, 'messaging.send', packEnvelope({ type: 'participant.enabled', from_participant_id: name, message: { id: name, role: 'user', attributes: { name } } }));
    }
    socket.push(70, 'messaging.send', packEnvelope({ type: 'chat', from_participant_id: 'dave', message: {} }));
    socket.push(71, 'messaging.send', packEnvelope({ type: 'participant.disabled', from_participant_id: 'bob', message: { id: 'bob' } }));
    socket.push(72, 'messaging.send', packEnvelope({ type: 'participant.disabled', from_participant_id: 'carol', message: { id: 'carol' } }));
    await flushPromises();
    expect(seen).toEqual(['chat from dave']);
    // 0 (replayed), then all three at once (flushed by the message), then both leavers at once.
    expect(steps).toEqual([0, 3, 1]);
    sizes.unsubscribe();
    await client.close();
  });
});

describe('the pipeline is the only caller of actor.send', () => {
  it('no client module but pipeline.ts sends to an actor (socket and link writes aside)', () => {
    const dir = fileURLToPath(new URL('../../src/client/', import.meta.url));
    const senders = readdirSync(dir)
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => readFileSync(join(dir, file), 'utf8').split('\n').some((line) => /\.send\(/.test(line) && !/(socket|this\.link\?)\.send\(/.test(line)));
    expect(senders).toEqual(['pipeline.ts']);
  });
});
