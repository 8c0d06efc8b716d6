import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, type SnapshotFrom } from 'xstate';
import { messagingMachine, type MessagingEmitted, type MessagingEvent, type RosterChange } from '../../machines/messaging.js';
import { appearanceOf, type PresenceParticipant } from '../../machines/presence.js';
import { coverTransitions } from '../client/helpers/machine-coverage.js';

type Snapshot = SnapshotFrom<typeof messagingMachine>;

const bob: PresenceParticipant = { id: 'p-bob', role: 'user', attributes: { name: 'bob' } };
const carol: PresenceParticipant = { id: 'p-carol', role: 'agent', attributes: { name: 'carol' } };
const dave: PresenceParticipant = { id: 'p-dave', role: 'user', attributes: { name: 'dave' } };

const enabled = (...participants: PresenceParticipant[]): MessagingEvent => ({ type: 'messaging.enabled', participants });

function run() {
  const clock = new SimulatedClock();
  const actor = createActor(messagingMachine, { clock });
  /** What the actor emitted, each `roster.changed` notification as its changes. */
  const emitted: (Exclude<MessagingEmitted, { type: 'roster.changed' }> | RosterChange)[] = [];
  /** The number of changes in each `roster.changed` notification. */
  const notifications: number[] = [];
  actor.on('*', (event) => {
    if (event.type !== 'roster.changed') return void emitted.push(event);
    notifications.push(event.changes.length);
    emitted.push(...event.changes);
  });
  actor.start();
  const state = (): string => {
    const s = actor.getSnapshot();
    return s.status === 'done' ? 'closed' : JSON.stringify(s.value);
  };
  const ids = (): string[] => actor.getSnapshot().context.participants.ids().sort();
  /** Emitted events since the last call, as `type` or `type:id`. */
  let seen = 0;
  const since = (): string[] => {
    const out = emitted.slice(seen).map((e) => ('participant' in e ? `${e.type}:${e.participant.id}` : e.type));
    seen = emitted.length;
    return out;
  };
  return { actor, clock, emitted, notifications, state, ids, since };
}

/** An actor in `enabled` with bob and carol present. */
function enabledWith(...participants: PresenceParticipant[]) {
  const r = run();
  r.actor.send({ type: 'connection.established' });
  r.actor.send({ type: 'messaging.enable' });
  r.actor.send(enabled(...participants));
  r.since();
  return r;
}

describe('messaging machine: every transition', () => {
  it('covers every transition definition through @xstate/graph paths', () => {
    const events: MessagingEvent[] = [
      { type: 'messaging.enable' },
      { type: 'messaging.disable' },
      { type: 'connection.established' },
      { type: 'connection.lost' },
      { type: 'connection.ended' },
      enabled(bob),
      { type: 'messaging.enable_failed', message: 'permission denied', code: 1001 },
      { type: 'messaging.disable_completed' },
      { type: 'participant.enabled', participant: carol },
      { type: 'participant.disabled', participantId: bob.id },
      { type: 'participant.attributes_changed', participantId: bob.id, attributes: { status: 'busy' } },
      { type: 'participant.not_found', participantId: carol.id },
      { type: 'presence.changed', events: [{ type: 'participant.enabled', participant: carol }, { type: 'participant.disabled', participantId: bob.id }] },
      { type: 'xstate.after.enableTimeout.messaging.enabling.requesting' } as never,
      { type: 'xstate.after.disableTimeout.messaging.disabling' } as never,
    ];
    const coverage = coverTransitions(messagingMachine, {
      events,
      inputs: [undefined],
      serializeState: (snapshot) => {
        const s = snapshot as Snapshot;
        return JSON.stringify([s.status, s.value, s.context.participants.ids().sort(), s.context.failure?.kind]);
      },
    });
    expect(coverage.missing).toEqual([]);
    expect(coverage.total).toBeGreaterThanOrEqual(24);
  });
});

describe('messaging machine: enabling', () => {
  it('waits for the connection when enabled before it, then asks, then flushes the outbox', () => {
    const { actor, state, since } = run();
    expect(state()).toBe('{"disabled":"offline"}');
    actor.send({ type: 'messaging.enable' });
    expect(state()).toBe('{"enabling":"waiting"}');
    expect(since()).toEqual([]);
    actor.send({ type: 'connection.established' });
    expect(state()).toBe('{"enabling":"requesting"}');
    expect(since()).toEqual(['request.enable']);
    expect(actor.getSnapshot().hasTag('canSend')).toBe(false);
    actor.send(enabled(bob));
    expect(state()).toBe('"enabled"');
    expect(actor.getSnapshot().hasTag('canSend')).toBe(true);
    expect(actor.getSnapshot().hasTag('presenceLive')).toBe(true);
    // Presence first, so queued sends resolve their targets against it.
    expect(since()).toEqual(['participant.added:p-bob', 'presence.loaded', 'outbox.flush']);
  });

  it('permits sending only where tagged canSend', () => {
    const { actor } = run();
    const can = (): boolean => actor.getSnapshot().hasTag('canSend');
    expect(can()).toBe(false); // disabled.offline: queued until connected
    actor.send({ type: 'connection.established' });
    expect(can()).toBe(true); // disabled.online: sends without enabling are allowed
    actor.send({ type: 'messaging.enable' });
    expect(can()).toBe(false); // enabling
    actor.send(enabled());
    expect(can()).toBe(true);
    actor.send({ type: 'messaging.disable' });
    expect(can()).toBe(true); // disabling
    actor.send({ type: 'connection.ended' });
    expect(can()).toBe(false);
  });

  it('fails enabling when the server refuses, rejecting the queued sends', () => {
    const { actor, state, since } = run();
    actor.send({ type: 'connection.established' });
    actor.send({ type: 'messaging.enable' });
    since();
    actor.send({ type: 'messaging.enable_failed', message: 'messaging is not granted', code: 1001 });
    expect(state()).toBe('{"disabled":"online"}');
    expect(actor.getSnapshot().context.failure).toEqual({ kind: 'refused', message: 'messaging is not granted', code: 1001 });
    expect(since()).toEqual(['outbox.reject', 'outbox.flush']);
  });

  it('fails enabling after enableTimeout', () => {
    const { actor, clock, state, emitted } = run();
    actor.send({ type: 'connection.established' });
    actor.send({ type: 'messaging.enable' });
    clock.increment(29_999);
    expect(state()).toBe('{"enabling":"requesting"}');
    clock.increment(1);
    expect(state()).toBe('{"disabled":"online"}');
    expect(actor.getSnapshot().context.failure?.kind).toBe('timeout');
    expect(emitted).toContainEqual(expect.objectContaining({ type: 'outbox.reject', reason: 'enable_failed' }));
  });

  it('turns a late messaging.enabled off again once disabled', () => {
    const { actor, since } = run();
    actor.send({ type: 'connection.established' });
    since();
    actor.send(enabled(bob));
    expect(since()).toEqual(['request.disable']);
    expect(actor.getSnapshot().context.participants.size).toBe(0);
  });
});

describe('messaging machine: presence', () => {
  it('adds, updates and removes participants, never adding one twice', () => {
    const { actor, ids, since } = enabledWith(bob);
    actor.send({ type: 'participant.enabled', participant: carol });
    expect(ids()).toEqual(['p-bob', 'p-carol']);
    actor.send({ type: 'participant.enabled', participant: { ...carol, attributes: { name: 'carol', status: 'new' } } });
    expect(ids()).toEqual(['p-bob', 'p-carol']);
    actor.send({ type: 'participant.attributes_changed', participantId: bob.id, attributes: { status: 'busy' } });
    actor.send({ type: 'participant.attributes_changed', participantId: 'p-unknown', attributes: { status: 'x' } });
    expect(actor.getSnapshot().context.participants.get(bob.id)!.attributes).toEqual({ name: 'bob', status: 'busy' });
    actor.send({ type: 'participant.disabled', participantId: carol.id });
    actor.send({ type: 'participant.disabled', participantId: carol.id });
    expect(ids()).toEqual(['p-bob']);
    expect(since()).toEqual([
      'participant.added:p-carol',
      'participant.attributes_updated:p-carol',
      'participant.attributes_updated:p-bob',
      'participant.removed:p-carol',
    ]);
  });

  it('removes a participant a send found gone, reporting its last entry', () => {
    const { actor, ids, emitted } = enabledWith(bob);
    const entry = actor.getSnapshot().context.participants.get(bob.id)!;
    expect(entry).toMatchObject(bob);
    actor.send({ type: 'participant.not_found', participantId: bob.id });
    expect(ids()).toEqual([]);
    expect(actor.getSnapshot().context.participants.get(bob.id)).toBeUndefined();
    expect(emitted.at(-1)).toEqual({ type: 'participant.removed', participant: entry, origin: 'local' });
  });

  it('applies a batch of presence pushes in order, as if sent one by one, in one step', () => {
    const pushes = [
      { type: 'participant.enabled', participant: carol },
      { type: 'participant.attributes_changed', participantId: carol.id, attributes: { status: 'busy' } },
      { type: 'participant.disabled', participantId: bob.id },
      { type: 'participant.disabled', participantId: 'nobody' },
    ] as const;
    const one = enabledWith(bob);
    for (const push of pushes) one.actor.send(push);
    const batch = enabledWith(bob);
    const snapshots: unknown[] = [];
    batch.actor.subscribe((snapshot) => snapshots.push(snapshot));
    const before = batch.notifications.length;
    batch.actor.send({ type: 'presence.changed', events: pushes });
    expect(snapshots).toHaveLength(1);
    // One notification carries the step's three changes.
    expect(batch.notifications.slice(before)).toEqual([3]);
    expect(batch.since()).toEqual(one.since());
    expect(batch.ids()).toEqual(one.ids());
    expect(batch.actor.getSnapshot().context.participants.get(carol.id)?.attributes).toEqual({ ...carol.attributes, status: 'busy' });
  });

  it('tags each presence notification with its origin: a push, a snapshot, or the client', () => {
    const { actor, emitted } = enabledWith(bob);
    const origins = (): string[] => emitted.filter((e) => e.type.startsWith('participant.')).map((e) => `${e.type}:${(e as { origin: string }).origin}`);
    expect(origins()).toEqual(['participant.added:snapshot']);
    actor.send({ type: 'participant.attributes_changed', participantId: bob.id, attributes: { status: 'busy' } });
    actor.send({ type: 'participant.disabled', participantId: bob.id });
    actor.send({ type: 'participant.enabled', participant: bob });
    actor.send({ type: 'messaging.disable' });
    expect(origins()).toEqual([
      'participant.added:snapshot',
      'participant.attributes_updated:event',
      'participant.removed:event',
      'participant.added:event',
      'participant.removed:local',
    ]);
  });

  it('gives a participant that comes back a new appearance key', () => {
    const { actor } = enabledWith(bob);
    const first = actor.getSnapshot().context.participants.get(bob.id)!;
    actor.send({ type: 'participant.disabled', participantId: bob.id });
    actor.send({ type: 'participant.enabled', participant: bob });
    const second = actor.getSnapshot().context.participants.get(bob.id)!;
    expect(second.key).toBeGreaterThan(first.key);
  });

  it('keeps one appearance object across attribute updates and a reconcile, a new one after a return', () => {
    const { actor } = enabledWith(bob);
    const roster = () => actor.getSnapshot().context.participants;
    const first = roster().get(bob.id)!;
    expect(appearanceOf(first)).toBe(first);
    actor.send({ type: 'participant.attributes_changed', participantId: bob.id, attributes: { status: 'busy' } });
    actor.send({ type: 'connection.lost' });
    actor.send({ type: 'connection.established' });
    actor.send(enabled({ ...bob, attributes: { name: 'bob', status: 'away' } }));
    const updated = roster().get(bob.id)!;
    expect(updated).not.toBe(first);
    expect(updated.attributes).toEqual({ name: 'bob', status: 'away' });
    expect(appearanceOf(updated)).toBe(first);
    actor.send({ type: 'participant.disabled', participantId: bob.id });
    actor.send({ type: 'participant.enabled', participant: bob });
    expect(appearanceOf(roster().get(bob.id)!)).not.toBe(first);
  });

  it('hands the received control message on in the notification a push causes', () => {
    const { actor, emitted } = enabledWith(bob);
    const received = { type: 'participant.enabled' };
    actor.send({ type: 'participant.enabled', participant: carol, received });
    actor.send({ type: 'presence.changed', events: [{ type: 'participant.disabled', participantId: carol.id, received: 'gone' }] });
    actor.send({ type: 'participant.not_found', participantId: bob.id });
    const notes = emitted.filter((e) => e.type === 'participant.added' || e.type === 'participant.removed').slice(1);
    expect(notes.map((e) => [e.type, e.received ?? 'none'])).toEqual([
      ['participant.added', received],
      ['participant.removed', 'gone'],
      ['participant.removed', 'none'],
    ]);
  });

  it('keeps earlier snapshots unchanged (the roster is persistent)', () => {
    const { actor } = enabledWith(bob, carol);
    const before = actor.getSnapshot().context.participants;
    actor.send({ type: 'participant.disabled', participantId: bob.id });
    actor.send({ type: 'participant.attributes_changed', participantId: carol.id, attributes: { status: 'busy' } });
    actor.send({ type: 'participant.enabled', participant: dave });
    expect(before.ids()).toEqual(['p-bob', 'p-carol']);
    expect(before.get(carol.id)!.attributes).toEqual({ name: 'carol' });
    expect(actor.getSnapshot().context.participants.ids()).toEqual(['p-carol', 'p-dave']);
  });

  it('keeps presence through an outage and reconciles it with the next snapshot', () => {
    const { actor, state, ids, since, notifications } = enabledWith(bob, carol);
    const carolKey = actor.getSnapshot().context.participants.get(carol.id)!.key;
    actor.send({ type: 'connection.lost' });
    expect(state()).toBe('{"enabling":"waiting"}');
    expect(ids()).toEqual(['p-bob', 'p-carol']);
    actor.send({ type: 'connection.established' });
    expect(since()).toEqual(['request.enable']);
    // Bob left during the outage, dave arrived, carol changed her status.
    actor.send(enabled({ ...carol, attributes: { name: 'carol', status: 'away' } }, dave));
    expect(state()).toBe('"enabled"');
    expect(ids()).toEqual(['p-carol', 'p-dave']);
    expect(since()).toEqual([
      'participant.removed:p-bob',
      'participant.attributes_updated:p-carol',
      'participant.added:p-dave',
      'presence.loaded',
      'outbox.flush',
    ]);
    // The snapshot's three changes came in one notification.
    expect(notifications.at(-1)).toBe(3);
    // Carol is the same appearance: reconciled, not reported as new.
    expect(actor.getSnapshot().context.participants.get(carol.id)!.key).toBe(carolKey);
    const update = actor.getSnapshot().context.participants.get(carol.id)!.attributes;
    expect(update).toEqual({ name: 'carol', status: 'away' });
  });

  it('takes a participant listed twice in a snapshot as one appearance, the later listing winning', () => {
    const { actor, since, ids } = run();
    actor.send({ type: 'connection.established' });
    actor.send({ type: 'messaging.enable' });
    since();
    actor.send(enabled(bob, carol, { ...bob, attributes: { name: 'bob', status: 'late' } }));
    expect(ids()).toEqual(['p-bob', 'p-carol']);
    expect(since()).toEqual(['participant.added:p-bob', 'participant.added:p-carol', 'presence.loaded', 'outbox.flush']);
    expect(actor.getSnapshot().context.participants.get(bob.id)!.attributes).toEqual({ name: 'bob', status: 'late' });
  });

  it('reports nothing for participants unchanged across a reconnect', () => {
    const { actor, since } = enabledWith(bob);
    actor.send({ type: 'connection.lost' });
    actor.send({ type: 'connection.established' });
    since();
    actor.send(enabled(bob));
    expect(since()).toEqual(['presence.loaded', 'outbox.flush']);
  });
});

describe('messaging machine: disabling and closing', () => {
  it('disables: presence cleared, the server asked, then disabled', () => {
    const { actor, state, ids, since } = enabledWith(bob);
    actor.send({ type: 'messaging.disable' });
    expect(state()).toBe('"disabling"');
    expect(ids()).toEqual([]);
    expect(since()).toEqual(['participant.removed:p-bob', 'request.disable']);
    actor.send({ type: 'messaging.disable_completed' });
    expect(state()).toBe('{"disabled":"online"}');
  });

  it('rejects queued sends when the user disables while enabling', () => {
    const { actor, state, since } = run();
    actor.send({ type: 'messaging.enable' });
    actor.send({ type: 'messaging.disable' });
    expect(state()).toBe('{"disabled":"offline"}');
    expect(since()).toEqual(['outbox.reject']);
  });

  it('asks the server to disable when disabled while the enable request is in flight', () => {
    const { actor, state, since } = run();
    actor.send({ type: 'connection.established' });
    actor.send({ type: 'messaging.enable' });
    since();
    actor.send({ type: 'messaging.disable' });
    expect(state()).toBe('"disabling"');
    expect(since()).toEqual(['outbox.reject', 'request.disable']);
    actor.send(enabled(bob)); // the answer to the earlier enable: ignored
    expect(actor.getSnapshot().context.participants.size).toBe(0);
  });

  it('can be enabled again while disabling', () => {
    const { actor, state, since } = enabledWith(bob);
    actor.send({ type: 'messaging.disable' });
    actor.send({ type: 'messaging.enable' });
    expect(state()).toBe('{"enabling":"requesting"}');
    actor.send({ type: 'messaging.disable_completed' });
    expect(state()).toBe('{"enabling":"requesting"}');
    actor.send(enabled(bob));
    expect(state()).toBe('"enabled"');
    expect(since().filter((t) => t.startsWith('request'))).toEqual(['request.disable', 'request.enable']);
  });

  it('closes from every state, clearing presence and rejecting the outbox', () => {
    const { actor, state, since, notifications } = enabledWith(bob, carol);
    actor.send({ type: 'connection.ended' });
    expect(state()).toBe('closed');
    expect(actor.getSnapshot().status).toBe('done');
    expect(since()).toEqual(['participant.removed:p-bob', 'participant.removed:p-carol', 'outbox.reject']);
    expect(notifications.at(-1)).toBe(2);
    expect(actor.getSnapshot().context.participants.size).toBe(0);
  });
});
