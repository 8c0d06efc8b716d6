/**
 * The console's participant tracker without sockets: sessions as the server
 * reports them, their session states and logs, and per-room message and
 * byte rates computed from counts over an explicit interval.
 */
import { describe, expect, it } from 'vitest';
import type { ObservedSession } from '../../src/server/core/observer.js';
import { LOG_LENGTH, ParticipantTracker } from '../../src/server/console/participant-tracker.js';

function session(id: string, room: string): ObservedSession & { enabled: boolean; detached: boolean; attributes: Record<string, unknown> } {
  return { id, name: `name-${id}`, role: 'user', attributes: { name: `name-${id}` }, enabled: false, detached: false, room: { name: room } };
}

describe('ParticipantTracker', () => {
  it('lists live sessions by room with their current state, and forgets them when gone', () => {
    let now = 1000;
    const tracker = new ParticipantTracker(() => now);
    const a = session('a', 'r1');
    tracker.observer.sessionTransition!(a, 'xstate.init', { connected: 'disabled' });
    tracker.observer.sessionTransition!(session('b', 'r2'), 'xstate.init', { connected: 'disabled' });
    a.enabled = true;
    a.attributes = { name: 'name-a', status: 'busy' };
    now = 2000;
    tracker.observer.sessionTransition!(a, 'messaging.enable', { connected: 'enabled' });
    expect(tracker.rooms().map((room) => [room.name, room.participants.map((p) => [p.id, p.enabled, p.attributes, p.states])])).toEqual([
      ['r1', [['a', true, { name: 'name-a', status: 'busy' }, ['participantSession.connected.enabled']]]],
      ['r2', [['b', false, { name: 'name-b' }, ['participantSession.connected.disabled']]]],
    ]);
    expect(tracker.log('a')).toEqual([
      { at: 1000, event: 'xstate.init', states: ['participantSession.connected.disabled'] },
      { at: 2000, event: 'messaging.enable', states: ['participantSession.connected.enabled'] },
    ]);
    tracker.observer.sessionTransition!(a, 'transport.closed', 'gone');
    expect(tracker.rooms().map((room) => room.name)).toEqual(['r2']);
    expect(tracker.log('a')).toEqual([]);
  });

  it('shows a resumable participant whose connection dropped as detached, and tells its viewers when that changes', () => {
    const tracker = new ParticipantTracker();
    const a = session('a', 'r1');
    tracker.observer.sessionTransition!(a, 'xstate.init', { connected: 'enabled' });
    const changes: string[] = [];
    tracker.subscribe((change) => changes.push(change.kind === 'participant' ? `${change.participantId}` : change.kind));
    a.detached = true;
    tracker.observer.participantDetached!('r1', 'a');
    expect(tracker.participant('a')?.detached).toBe(true);
    a.detached = false;
    tracker.observer.participantResumed!('r1', 'a', 3);
    expect(tracker.participant('a')?.detached).toBe(false);
    expect(changes).toEqual(['a', 'a']);
  });

  it('counts user messages (not presence or other requests) per room and turns them into rates per tick', () => {
    const tracker = new ParticipantTracker();
    tracker.observer.sessionTransition!(session('a', 'r1'), 'xstate.init', { connected: 'disabled' });
    for (let i = 0; i < 6; i++) tracker.observer.requestReceived!('broadcast', 100, 'r1');
    tracker.observer.requestReceived!('direct', 400, 'r1');
    tracker.observer.requestReceived!('presence', 50, 'r1');
    tracker.observer.requestReceived!('other', 50, 'r1');
    tracker.tick(2);
    expect(tracker.rooms()[0]).toMatchObject({ messages: 7, bytes: 1000, messagesPerSecond: 3.5, bytesPerSecond: 500 });
    tracker.tick(1);
    expect(tracker.rooms()[0]).toMatchObject({ messages: 7, bytes: 1000, messagesPerSecond: 0, bytesPerSecond: 0 });
  });

  it(`keeps the last ${LOG_LENGTH} events of a participant`, () => {
    const tracker = new ParticipantTracker();
    const a = session('a', 'r1');
    for (let i = 0; i < LOG_LENGTH + 5; i++) tracker.observer.sessionTransition!(a, `e${i}`, { connected: 'disabled' });
    expect(tracker.log('a')).toHaveLength(LOG_LENGTH);
    expect(tracker.log('a')[0]!.event).toBe('e5');
  });
});

describe('ParticipantTracker in a cluster', () => {
  it("shows this node's id beside its participants", () => {
    const tracker = new ParticipantTracker(Date.now, () => 'node-1');
    tracker.observer.sessionTransition!(session('a', 'r1'), 'xstate.init', { connected: 'disabled' });
    expect(tracker.rooms()[0]!.participants[0]!.node).toBe('node-1');
  });
});
