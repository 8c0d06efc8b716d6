import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { connectionMachine, type ConnectionEmitted, type ConnectionEvent, type ConnectionInput } from '../../machines/connection.js';
import { coverTransitions } from '../client/helpers/machine-coverage.js';
import { isFinalClose } from '../../src/protocol/close-codes.js';
import { CONNECTION_CLOSE_CODES } from '../../src/client/errors.js';

type Snapshot = SnapshotFrom<typeof connectionMachine>;

const ready: ConnectionEvent = { type: 'room.ready_received', roomName: 'r', roomUrl: 'ws://x/rooms/r', sessionId: 's1' };
const joined = (participantId = 'p1', attributes: Record<string, unknown> = { name: 'alice' }): ConnectionEvent => ({ type: 'room.joined', participantId, attributes });
/** A websocket's end as the client's pipeline reports it: `final` by the protocol's rule. */
const closed = (code: number, httpStatus?: number): ConnectionEvent => {
  const close = httpStatus === undefined ? { code, reason: `closed ${code}` } : { code, reason: '', httpStatus };
  return { type: 'transport.closed', ...close, final: isFinalClose(close) };
};
/** The machine's input with the client's close codes. */
const inputOf = (input: Partial<ConnectionInput> = {}): ConnectionInput => ({ closeCodes: CONNECTION_CLOSE_CODES, ...input });

/** A running actor with a simulated clock and every emitted event recorded. */
function run(partial: Partial<ConnectionInput> = {}, delays: { handshakeTimeout?: number } = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(connectionMachine.provide({ delays }), { input: inputOf(partial), clock });
  const emitted: ConnectionEmitted[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  const state = (): string => {
    const s = actor.getSnapshot();
    return s.status === 'done' ? 'closed' : JSON.stringify(s.value);
  };
  const types = (): string[] => emitted.map((e) => e.type);
  return { actor, clock, emitted, state, types };
}

function connect(actor: ReturnType<typeof run>['actor'], id = 'p1', attributes?: Record<string, unknown>): void {
  actor.send({ type: 'transport.opened' });
  actor.send(ready);
  actor.send(joined(id, attributes));
}

describe('connection machine: every transition', () => {
  it('covers every transition definition through @xstate/graph paths', () => {
    const events: ConnectionEvent[] = [
      { type: 'connection.start' },
      { type: 'connection.close' },
      { type: 'attributes.set', attributes: { status: 'busy' } },
      { type: 'transport.opened' },
      ready,
      joined(),
      closed(1000),
      closed(1012),
      closed(1006, 403),
      { type: 'xstate.after.handshakeTimeout.connection.connecting.attempting' } as never,
      { type: 'xstate.after.retryDelay.connection.connecting.waiting' } as never,
      { type: 'xstate.after.connectTimeout.connection.connecting' } as never,
      { type: 'xstate.after.handshakeTimeout.connection.reconnecting.attempting' } as never,
      { type: 'xstate.after.retryDelay.connection.reconnecting.waiting' } as never,
      { type: 'xstate.after.reconnectTimeout.connection.reconnecting' } as never,
    ];
    const coverage = coverTransitions(connectionMachine, {
      events,
      inputs: [inputOf(), inputOf({ reconnectTimeout: 0 }), inputOf({ reconnectTimeout: 5000 }), inputOf({ connectTimeout: null })],
      serializeState: (snapshot) => {
        const s = snapshot as Snapshot;
        return JSON.stringify([s.status, s.value, s.context.established, !!s.context.pendingRoom, !!s.context.pendingJoin, s.context.end?.kind]);
      },
    });
    expect(coverage.missing).toEqual([]);
    expect(coverage.total).toBeGreaterThanOrEqual(32);
  });
});

describe('connection machine: connecting', () => {
  it('starts idle and opens a socket on connection.start', () => {
    const [idle] = initialTransition(connectionMachine, inputOf());
    expect(idle.value).toBe('idle');
    const [connecting, actions] = transition(connectionMachine, idle, { type: 'connection.start' });
    expect(connecting.value).toEqual({ connecting: 'attempting' });
    const effects = (actions as { type: string; params?: { event?: ConnectionEmitted } }[]).filter((a) => a.type === 'xstate.emit').map((a) => a.params?.event);
    expect(effects).toEqual([{ type: 'socket.open', attempt: 0 }]);
  });

  it.each([
    ['room_ready first', [ready, joined()]],
    ['connected first', [joined(), ready]],
  ])('is connected once both room_ready and connected arrived (%s)', (_name, handshake) => {
    const { actor, state, emitted } = run();
    actor.send({ type: 'connection.start' });
    actor.send({ type: 'transport.opened' });
    actor.send(handshake[0]);
    expect(state()).toBe('{"connecting":"attempting"}');
    actor.send(handshake[1]);
    expect(state()).toBe('"connected"');
    expect(actor.getSnapshot().hasTag('online')).toBe(true);
    expect(actor.getSnapshot().context.participantId).toBe('p1');
    expect(actor.getSnapshot().context.room).toEqual({ roomName: 'r', roomUrl: 'ws://x/rooms/r', sessionId: 's1' });
    expect(emitted).toContainEqual({ type: 'connection.established', participantId: 'p1', reconnected: false, resumed: false });
  });

  it.each([
    [1000, undefined, 'server'],
    [1006, 403, 'refused'],
    [1006, 404, 'refused'],
  ])('ends for good on close %i / HTTP %s before ready', (code, status, kind) => {
    const { actor, state, emitted } = run();
    actor.send({ type: 'connection.start' });
    actor.send(closed(code, status));
    expect(state()).toBe('closed');
    expect(actor.getSnapshot().context.end?.kind).toBe(kind);
    expect(emitted.at(-1)).toMatchObject({ type: 'connection.ended', end: { kind } });
  });

  it.each([
    [1006, undefined],
    [1012, undefined],
    [1013, undefined],
    [1006, 500],
    [1006, 401],
  ])('retries after close %i / HTTP %s before ready, still connecting', (code, status) => {
    const { actor, state, clock, emitted } = run();
    actor.send({ type: 'connection.start' });
    actor.send(closed(code, status));
    expect(state()).toBe('{"connecting":"waiting"}');
    expect(emitted.at(-1)).toMatchObject({ type: 'connection.attempt_failed', attempt: 1, established: false, code });
    clock.increment(999);
    expect(state()).toBe('{"connecting":"waiting"}');
    clock.increment(1);
    expect(state()).toBe('{"connecting":"attempting"}');
    expect(emitted.at(-1)).toEqual({ type: 'socket.open', attempt: 1 });
  });

  it('gives up after connectTimeout, however many attempts failed, saying why the last one did', () => {
    const { actor, state, clock, emitted } = run({ connectTimeout: 4000 });
    actor.send({ type: 'connection.start' });
    actor.send({ type: 'transport.closed', code: 1006, reason: '', error: 'connection refused (connect ECONNREFUSED 127.0.0.1:9)', final: false });
    clock.increment(1000);
    actor.send({ type: 'transport.closed', code: 1006, reason: '', error: 'connection refused (connect ECONNREFUSED 127.0.0.1:9)', final: false });
    clock.increment(2999);
    expect(state()).toBe('{"connecting":"attempting"}');
    clock.increment(1);
    expect(state()).toBe('closed');
    const end = { kind: 'connect_timeout', code: 1006, reason: '', error: 'connection refused (connect ECONNREFUSED 127.0.0.1:9)', connectTimeout: 4000 };
    expect(actor.getSnapshot().context.end).toEqual(end);
    expect(emitted.filter((e) => e.type === 'connection.attempt_failed').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
    expect(emitted.slice(-2)).toEqual([{ type: 'socket.close' }, { type: 'connection.ended', end }]);
  });

  it('reports "nothing came back" when the connect timeout ends the very first attempt', () => {
    const { actor, state, clock } = run({ connectTimeout: 1000 });
    actor.send({ type: 'connection.start' });
    clock.increment(1000);
    expect(state()).toBe('closed');
    expect(actor.getSnapshot().context.end).toEqual({ kind: 'connect_timeout', code: 1006, reason: '', connectTimeout: 1000 });
  });

  it('keeps trying without limit with connectTimeout null', () => {
    const { actor, state, clock } = run({ connectTimeout: null });
    actor.send({ type: 'connection.start' });
    for (let i = 0; i < 20; i++) {
      actor.send(closed(1006));
      clock.increment(30_000);
    }
    expect(state()).toBe('{"connecting":"attempting"}');
  });

  it('gives up at once when reconnectTimeout is 0', () => {
    const { actor, state } = run({ reconnectTimeout: 0 });
    actor.send({ type: 'connection.start' });
    actor.send(closed(1006));
    expect(state()).toBe('closed');
    expect(actor.getSnapshot().context.end).toMatchObject({ kind: 'lost', code: 1006 });
  });

  it('abandons an attempt after the handshake timeout and closes its socket', () => {
    const { actor, clock, state, types } = run({}, { handshakeTimeout: 10_000 });
    actor.send({ type: 'connection.start' });
    actor.send({ type: 'transport.opened' });
    clock.increment(9_999);
    expect(state()).toBe('{"connecting":"attempting"}');
    clock.increment(1);
    expect(state()).toBe('{"connecting":"waiting"}');
    expect(types()).toEqual(['socket.open', 'socket.close', 'connection.attempt_failed']);
  });
});

describe('connection machine: reconnecting', () => {
  it('backs off 0.5 s doubling to 30 s, opening one socket per attempt', () => {
    const { actor, clock, state, emitted } = run();
    actor.send({ type: 'connection.start' });
    connect(actor);
    actor.send(closed(1006));
    expect(state()).toBe('{"reconnecting":"waiting"}');
    const expected = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
    for (const [attempt, delay] of expected.entries()) {
      clock.increment(delay - 1);
      expect(state()).toBe('{"reconnecting":"waiting"}');
      clock.increment(1);
      expect(state()).toBe('{"reconnecting":"attempting"}');
      expect(emitted.at(-1)).toEqual({ type: 'socket.open', attempt });
      actor.send(closed(1006));
    }
  });

  it('adopts the new participant id and re-sends the whole merged attribute set', () => {
    const { actor, clock, emitted } = run();
    actor.send({ type: 'connection.start' });
    connect(actor, 'p1', { name: 'alice', colour: 'red' });
    actor.send({ type: 'attributes.set', attributes: { status: 'busy' } });
    expect(emitted.at(-1)).toEqual({ type: 'attributes.send', attributes: { status: 'busy' } });
    actor.send(closed(1012));
    expect(emitted.at(-1)).toEqual({ type: 'connection.lost', code: 1012, reason: 'closed 1012' });
    actor.send({ type: 'attributes.set', attributes: { mood: 'ok' } }); // while offline: kept, sent with the rest
    clock.increment(500);
    connect(actor, 'p2', { name: 'alice', colour: 'blue' });
    const snapshot = actor.getSnapshot();
    expect(snapshot.context.participantId).toBe('p2');
    expect(snapshot.context.attributes).toEqual({ name: 'alice', colour: 'red', status: 'busy', mood: 'ok' });
    const sends = emitted.filter((e) => e.type === 'attributes.send');
    expect(sends.at(-1)).toEqual({ type: 'attributes.send', attributes: { name: 'alice', colour: 'red', status: 'busy', mood: 'ok' } });
    // Attributes go out before anyone is told the connection is back (so messaging.enable follows set_attributes).
    const last = emitted.slice(-2).map((e) => e.type);
    expect(last).toEqual(['attributes.send', 'connection.established']);
    expect(emitted.at(-1)).toEqual({ type: 'connection.established', participantId: 'p2', reconnected: true, resumed: false });
  });

  it('after a resume sends only the attributes set while offline, and says it resumed', () => {
    const { actor, clock, emitted } = run();
    actor.send({ type: 'connection.start' });
    connect(actor, 'p1', { name: 'alice' });
    actor.send({ type: 'attributes.set', attributes: { status: 'busy' } });
    actor.send(closed(1006));
    actor.send({ type: 'attributes.set', attributes: { mood: 'ok' } });
    clock.increment(500);
    actor.send({ type: 'transport.opened' });
    actor.send({ ...ready, resumed: true });
    actor.send(joined('p1', { name: 'alice', status: 'busy' }));
    const snapshot = actor.getSnapshot();
    expect(snapshot.context.resumed).toBe(true);
    expect(snapshot.context.attributes).toEqual({ name: 'alice', status: 'busy', mood: 'ok' });
    expect(emitted.slice(-2)).toEqual([
      { type: 'attributes.send', attributes: { mood: 'ok' } },
      { type: 'connection.established', participantId: 'p1', reconnected: true, resumed: true },
    ]);
    // The next drop that is not resumed re-sends everything again.
    actor.send(closed(1006));
    clock.increment(500);
    connect(actor, 'p2', { name: 'alice' });
    expect(actor.getSnapshot().context.resumed).toBe(false);
    expect(emitted.filter((e) => e.type === 'attributes.send').at(-1)).toEqual({ type: 'attributes.send', attributes: { name: 'alice', status: 'busy', mood: 'ok' } });
  });

  it('a first connection never counts as resumed, whatever room_ready says', () => {
    const { actor, emitted } = run();
    actor.send({ type: 'connection.start' });
    actor.send({ type: 'transport.opened' });
    actor.send({ ...ready, resumed: true });
    actor.send(joined('p1'));
    expect(actor.getSnapshot().context.resumed).toBe(false);
    expect(emitted).toContainEqual({ type: 'connection.established', participantId: 'p1', reconnected: false, resumed: false });
  });

  it('sends attributes set before start once connected, merged over the server ones', () => {
    const { actor, emitted } = run();
    actor.send({ type: 'attributes.set', attributes: { status: 'early' } });
    actor.send({ type: 'connection.start' });
    connect(actor, 'p1', { name: 'alice', status: 'server' });
    expect(actor.getSnapshot().context.attributes).toEqual({ name: 'alice', status: 'early' });
    expect(emitted.filter((e) => e.type === 'attributes.send')).toEqual([{ type: 'attributes.send', attributes: { status: 'early' } }]);
  });

  it('closes for good on 1000 or HTTP 403/404 while reconnecting, keeps trying on anything else', () => {
    const { actor, clock, state } = run();
    actor.send({ type: 'connection.start' });
    connect(actor);
    actor.send(closed(1006));
    clock.increment(500);
    actor.send(closed(1006, 503));
    expect(state()).toBe('{"reconnecting":"waiting"}');
    clock.increment(1000);
    actor.send(closed(1006, 404));
    expect(state()).toBe('closed');
    expect(actor.getSnapshot().context.end).toMatchObject({ kind: 'refused', httpStatus: 404 });
  });

  it('gives up after reconnectTimeout, however many attempts are under way', () => {
    const { actor, clock, state, emitted } = run({ reconnectTimeout: 5000 });
    actor.send({ type: 'connection.start' });
    connect(actor);
    actor.send(closed(1006));
    clock.increment(500);
    actor.send(closed(1006));
    clock.increment(1000);
    expect(state()).toBe('{"reconnecting":"attempting"}');
    clock.increment(3500);
    expect(state()).toBe('closed');
    expect(actor.getSnapshot().context.end).toMatchObject({ kind: 'timeout', reconnectTimeout: 5000 });
    expect(emitted.slice(-2).map((e) => e.type)).toEqual(['socket.close', 'connection.ended']);
  });

  it('is closed by the user from every state, closing the socket', () => {
    for (const setup of [
      (a: ReturnType<typeof run>['actor']) => a,
      (a: ReturnType<typeof run>['actor']) => a.send({ type: 'connection.start' }),
      (a: ReturnType<typeof run>['actor']) => {
        a.send({ type: 'connection.start' });
        connect(a);
      },
      (a: ReturnType<typeof run>['actor']) => {
        a.send({ type: 'connection.start' });
        connect(a);
        a.send(closed(1006));
      },
    ]) {
      const { actor, state, emitted } = run();
      setup(actor);
      actor.send({ type: 'connection.close' });
      expect(state()).toBe('closed');
      expect(actor.getSnapshot().context.end).toEqual({ kind: 'user', code: 1000, reason: '' });
      expect(emitted.slice(-2)).toEqual([{ type: 'socket.close' }, { type: 'connection.ended', end: { kind: 'user', code: 1000, reason: '' } }]);
    }
  });
});
