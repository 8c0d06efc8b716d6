/**
 * The messaging statechart: `disabled`, `enabling`, `enabled`, `disabling`,
 * and the final `closed` once the room connection has ended for good.
 *
 * It follows the connection: `disabled` and `enabling` wait `offline` until
 * a connection is established. When the connection drops while enabling or
 * enabled, messaging goes back to `enabling.waiting` and re-enables by
 * itself after the reconnect, because the user still wants it enabled; the
 * fresh presence snapshot is then reconciled with the one kept across the
 * outage. Tags say what a state permits: `canSend` (user sends go out now;
 * elsewhere they are queued, and in `closed` refused), `presenceLive`
 * (presence is kept current by the server).
 *
 * Presence is a {@link PresenceRoster} in `context.participants`: one
 * immutable entry per remote participant, keyed by participant id. Each
 * presence event replaces the roster with its next persistent version in
 * O(1), not O(n) (spawning an actor per participant made XState copy every
 * child on each join and leave).
 *
 * Pure: imports only `xstate` and the presence roster. Effects leave as
 * emitted events: `request.enable`, `request.disable`, `outbox.flush`,
 * `outbox.reject`; notifications: `roster.changed` (the step's
 * `participant.added`, `participant.removed` and
 * `participant.attributes_updated` changes, in order) and `presence.loaded`.
 *
 * @packageDocumentation
 */
import { assign, emit, enqueueActions, setup } from 'xstate';
import { PresenceRoster, appearance, withAttributes, type PresenceEntry, type PresenceParticipant } from './presence.js';

/** Default time allowed between asking to enable and the `messaging.enabled` snapshot. */
export const ENABLE_TIMEOUT_MS = 30_000;
/** Default time allowed for the answer to `disable`. */
export const DISABLE_TIMEOUT_MS = 30_000;

/** Why enabling ended without messaging being enabled. */
export interface MessagingFailure {
  readonly kind: 'refused' | 'timeout';
  readonly message: string;
  readonly code?: number;
}

/** Why queued sends are being rejected. */
export type OutboxRejection =
  | { readonly reason: 'disabled' }
  | { readonly reason: 'closed' }
  | { readonly reason: 'enable_failed'; readonly failure: MessagingFailure };

/** What the messaging machine knows. */
export interface MessagingContext {
  /**
   * Presence: the remote participants, by participant id. Entries keep the
   * attribute objects of the events that brought them (not copies: in a
   * room of n, n clients would copy n^2 of them), so senders hand over
   * attribute objects they no longer change, as the decoder does.
   */
  readonly participants: PresenceRoster;
  /** Appearances so far: the next {@link PresenceEntry.key}. */
  readonly appeared: number;
  /** Why the last enable failed; cleared when enabling starts again. */
  readonly failure: MessagingFailure | undefined;
}

/** Events the messaging machine accepts. */
export type MessagingEvent =
  // commands
  | { type: 'messaging.enable' }
  | { type: 'messaging.disable' }
  // connection facts
  | { type: 'connection.established' }
  | { type: 'connection.lost' }
  | { type: 'connection.ended' }
  // server facts
  // `received`: the control message as the client decoded it, for its observers; the machine ignores it.
  | { type: 'messaging.enabled'; participants: readonly PresenceParticipant[]; received?: unknown }
  | { type: 'messaging.enable_failed'; message: string; code?: number }
  | { type: 'messaging.disable_completed' }
  // `received`: the control message as the client decoded it, handed on untouched in the notification it causes.
  | { type: 'participant.enabled'; participant: PresenceParticipant; received?: unknown }
  | { type: 'participant.disabled'; participantId: string; received?: unknown }
  | { type: 'participant.attributes_changed'; participantId: string; attributes: Readonly<Record<string, unknown>>; received?: unknown }
  | { type: 'participant.not_found'; participantId: string }
  /** Several presence pushes received together (one socket read), applied in order in one step. */
  | { type: 'presence.changed'; events: readonly PresencePush[] };

/** A server presence push about one participant. */
export type PresencePush = Extract<
  MessagingEvent,
  { type: 'participant.enabled' | 'participant.disabled' | 'participant.attributes_changed' | 'participant.not_found' }
>;

/**
 * What caused a presence notification: a server `participant.*` push
 * (`event`), a `messaging.enabled` snapshot reconciled with the roster kept
 * across an outage (`snapshot`), or the client itself (`local`: messaging
 * disabled, the room closed, a send answered "not found"). The official
 * client's `on()` events fire only for `event`.
 */
export type PresenceOrigin = 'event' | 'snapshot' | 'local';

/** One change to the roster, in a `roster.changed` notification. */
export type RosterChange =
  /** A participant appeared: its roster entry (and, from a push, the `participant.enabled` message received). */
  | { readonly type: 'participant.added'; readonly participant: PresenceEntry; readonly origin: PresenceOrigin; readonly received?: unknown }
  /** A participant left: its last roster entry (and, from a push, the `participant.disabled` message received). */
  | { readonly type: 'participant.removed'; readonly participant: PresenceEntry; readonly origin: PresenceOrigin; readonly received?: unknown }
  /** A participant's attributes changed: its new roster entry and the changed keys (and, from a push, the `participant.attributes` message received). */
  | {
      readonly type: 'participant.attributes_updated';
      readonly participant: PresenceEntry;
      readonly changed: Readonly<Record<string, unknown>>;
      readonly origin: PresenceOrigin;
      readonly received?: unknown;
    };

/**
 * A roster change as allocated: one class for every kind, so consumers see
 * one hidden class. Built with `new`, not as an object literal: V8 pretenures
 * object-literal sites in optimized code once a join storm has run through
 * them, and changes die young; allocated straight into the old generation
 * they fragmented it (docs/performance.md, "Client memory at room scale").
 */
class Change {
  constructor(
    readonly type: RosterChange['type'],
    readonly participant: PresenceEntry,
    readonly origin: PresenceOrigin,
    readonly received: unknown,
    readonly changed: Readonly<Record<string, unknown>> | undefined,
  ) {}
}

function added(participant: PresenceEntry, origin: PresenceOrigin, received?: unknown): RosterChange {
  return new Change('participant.added', participant, origin, received, undefined) as RosterChange;
}

function removed(participant: PresenceEntry, origin: PresenceOrigin, received?: unknown): RosterChange {
  return new Change('participant.removed', participant, origin, received, undefined) as RosterChange;
}

function updated(participant: PresenceEntry, changed: Readonly<Record<string, unknown>>, origin: PresenceOrigin, received?: unknown): RosterChange {
  return new Change('participant.attributes_updated', participant, origin, received, changed) as RosterChange;
}

/** Events the messaging machine emits. */
export type MessagingEmitted =
  | { type: 'request.enable' }
  | { type: 'request.disable' }
  | { type: 'outbox.flush' }
  | ({ type: 'outbox.reject' } & OutboxRejection)
  /**
   * The roster changed: every change of the step, in order, in one
   * notification (one per participant cost XState an action object and its
   * closures each, old-space garbage in a process of many clients).
   */
  | { type: 'roster.changed'; changes: readonly RosterChange[] }
  /**
   * A `messaging.enabled` snapshot was applied: the roster as it left the
   * step (immutable; listed by whoever listens, so a client nobody asks
   * for the list pays nothing, where a list per snapshot cost n objects).
   */
  | { type: 'presence.loaded'; participants: PresenceRoster };

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Keys whose values differ between two attribute sets (removed keys map to undefined); undefined when none. */
function changedKeys(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  let changed: Record<string, unknown> | undefined;
  for (const key in after) {
    if (!sameJson(before[key], after[key])) (changed ??= {})[key] = after[key];
  }
  for (const key in before) {
    if (!(key in after)) (changed ??= {})[key] = undefined;
  }
  return changed;
}

/**
 * Messaging for one room client.
 *
 * @example
 * ```ts
 * const actor = createActor(messagingMachine);
 * actor.on('request.enable', () => invokeEnable());
 * actor.start();
 * actor.send({ type: 'messaging.enable' });
 * ```
 */
export const messagingMachine = setup({
  types: {
    context: {} as MessagingContext,
    events: {} as MessagingEvent,
    emitted: {} as MessagingEmitted,
  },
  delays: {
    enableTimeout: ENABLE_TIMEOUT_MS,
    disableTimeout: DISABLE_TIMEOUT_MS,
  },
  actions: {
    requestEnable: emit({ type: 'request.enable' as const }),
    requestDisable: emit({ type: 'request.disable' as const }),
    flushOutbox: emit({ type: 'outbox.flush' as const }),
    rejectOutboxDisabled: emit({ type: 'outbox.reject' as const, reason: 'disabled' as const }),
    rejectOutboxClosed: emit({ type: 'outbox.reject' as const, reason: 'closed' as const }),
    rejectOutboxFailed: emit(({ context }) => ({
      type: 'outbox.reject' as const,
      reason: 'enable_failed' as const,
      failure: context.failure ?? { kind: 'refused' as const, message: 'messaging could not be enabled' },
    })),
    clearFailure: assign({ failure: undefined }),
    recordRefusal: assign({
      failure: ({ event }) =>
        event.type === 'messaging.enable_failed'
          ? ({ kind: 'refused', message: event.message, ...(event.code === undefined ? {} : { code: event.code }) } as MessagingFailure)
          : undefined,
    }),
    recordTimeout: assign({
      failure: { kind: 'timeout', message: 'the server did not confirm messaging.enable in time' } as MessagingFailure,
    }),
    announcePresence: emit(({ context }) => ({
      type: 'presence.loaded' as const,
      participants: context.participants,
    })),
    /**
     * Replaces presence with a `messaging.enabled` snapshot: removes the
     * gone, adds the new, updates the rest. The next roster's map is built
     * in one pass over the snapshot (no map of the snapshot, no lists of
     * kept and added entries: a join reconciles a snapshot of the whole
     * room in every client); the roster is walked only when someone left.
     */
    reconcilePresence: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'messaging.enabled') return;
      const current = context.participants;
      const next = new Map<string, PresenceEntry>();
      const changes: RosterChange[] = [];
      let appeared = context.appeared;
      let stayed = 0;
      for (const participant of event.participants) {
        const known = current.get(participant.id);
        if (known === undefined) {
          // A duplicate id in the snapshot: the later one wins, as one appearance.
          const twin = next.get(participant.id);
          const entry = twin === undefined ? appearance(participant, appeared++) : withAttributes(twin, participant.attributes);
          next.set(participant.id, entry);
          if (twin === undefined) changes.push(added(entry, 'snapshot'));
          continue;
        }
        if (!next.has(participant.id)) stayed++;
        const changed = changedKeys(known.attributes, participant.attributes);
        if (changed === undefined) {
          next.set(participant.id, known);
          continue;
        }
        const entry = withAttributes(known, participant.attributes);
        next.set(participant.id, entry);
        changes.push(updated(entry, changed, 'snapshot'));
      }
      // Who left comes first, in order of appearance.
      const gone =
        stayed === current.size
          ? undefined
          : current.list().flatMap((entry): RosterChange[] => (next.has(entry.id) ? [] : [removed(entry, 'snapshot')]));
      const membershipChanged = gone !== undefined || appeared !== context.appeared;
      enqueue.assign({ participants: PresenceRoster.adopt(next, membershipChanged ? current.membership + 1 : current.membership), appeared });
      const all = gone === undefined ? changes : gone.concat(changes);
      if (all.length > 0) enqueue.emit({ type: 'roster.changed', changes: all });
    }),
    /**
     * Presence pushes, one or a batch, applied in order: `participant.enabled`
     * adds the participant (a known id only has its attributes refreshed);
     * `participant.disabled` (or a send answered "not found") removes it;
     * `participant.attributes` merges the changed keys. The roster is
     * assigned once, however many pushes.
     */
    applyPresence: enqueueActions(({ context, event, enqueue }) => {
      const pushes: readonly MessagingEvent[] = event.type === 'presence.changed' ? event.events : [event];
      let appeared = context.appeared;
      const changes: RosterChange[] = [];
      const participants = context.participants.edited((draft) => {
        for (const push of pushes) {
          switch (push.type) {
            case 'participant.enabled': {
              const participant = push.participant;
              const known = draft.get(participant.id);
              if (known === undefined) {
                const entry = appearance(participant, appeared++);
                draft.set(entry);
                changes.push(added(entry, 'event', push.received));
                break;
              }
              const changed = changedKeys(known.attributes, participant.attributes);
              if (changed === undefined) break;
              const entry = withAttributes(known, participant.attributes);
              draft.set(entry);
              changes.push(updated(entry, changed, 'event'));
              break;
            }
            case 'participant.disabled':
            case 'participant.not_found': {
              const entry = draft.get(push.participantId);
              if (entry === undefined || !draft.delete(entry.id)) break;
              changes.push(push.type === 'participant.disabled' ? removed(entry, 'event', push.received) : removed(entry, 'local'));
              break;
            }
            case 'participant.attributes_changed': {
              const entry = draft.get(push.participantId);
              if (entry === undefined) break;
              const next = withAttributes(entry, { ...entry.attributes, ...push.attributes });
              draft.set(next);
              changes.push(updated(next, { ...push.attributes }, 'event', push.received));
              break;
            }
          }
        }
      });
      if (participants === context.participants) return;
      enqueue.assign({ participants, appeared });
      enqueue.emit({ type: 'roster.changed', changes });
    }),
    /** Everyone is removed (messaging disabled, or the room closed). */
    clearPresence: enqueueActions(({ context, enqueue }) => {
      if (context.participants.size === 0) return;
      const changes = context.participants.list().map((entry) => removed(entry, 'local'));
      enqueue.emit({ type: 'roster.changed', changes });
      enqueue.assign({ participants: context.participants.cleared() });
    }),
  },
}).createMachine({
  id: 'messaging',
  context: { participants: PresenceRoster.empty, appeared: 0, failure: undefined },
  initial: 'disabled',
  on: {
    'connection.ended': { target: '.closed' },
  },
  states: {
    disabled: {
      initial: 'offline',
      states: {
        offline: {
          on: {
            'connection.established': { target: 'online' },
            'messaging.enable': { target: '#messaging.enabling.waiting', actions: 'clearFailure' },
          },
        },
        online: {
          tags: ['canSend'],
          entry: 'flushOutbox',
          on: {
            'connection.lost': { target: 'offline' },
            'messaging.enable': { target: '#messaging.enabling.requesting', actions: 'clearFailure' },
            // An enable answered after the user disabled: turn it off again, as the official client does.
            'messaging.enabled': { actions: 'requestDisable' },
          },
        },
      },
    },
    enabling: {
      initial: 'waiting',
      states: {
        waiting: {
          on: {
            'connection.established': { target: 'requesting' },
            'messaging.disable': { target: '#messaging.disabled.offline', actions: ['clearPresence', 'rejectOutboxDisabled'] },
          },
        },
        requesting: {
          entry: 'requestEnable',
          after: {
            enableTimeout: {
              target: '#messaging.disabled.online',
              actions: ['recordTimeout', 'clearPresence', 'rejectOutboxFailed'],
            },
          },
          on: {
            'messaging.enabled': { target: '#messaging.enabled', actions: ['reconcilePresence', 'announcePresence'] },
            'messaging.enable_failed': {
              target: '#messaging.disabled.online',
              actions: ['recordRefusal', 'clearPresence', 'rejectOutboxFailed'],
            },
            'connection.lost': { target: 'waiting' },
            'messaging.disable': { target: '#messaging.disabling', actions: ['clearPresence', 'rejectOutboxDisabled'] },
          },
        },
      },
    },
    enabled: {
      tags: ['canSend', 'presenceLive'],
      entry: 'flushOutbox',
      on: {
        'participant.enabled': { actions: 'applyPresence' },
        'participant.disabled': { actions: 'applyPresence' },
        'participant.not_found': { actions: 'applyPresence' },
        'participant.attributes_changed': { actions: 'applyPresence' },
        'presence.changed': { actions: 'applyPresence' },
        'messaging.enabled': { actions: ['reconcilePresence', 'announcePresence'] },
        'messaging.disable': { target: 'disabling', actions: 'clearPresence' },
        // Presence is kept through the outage and reconciled with the next snapshot.
        'connection.lost': { target: 'enabling.waiting' },
      },
    },
    disabling: {
      tags: ['canSend'],
      entry: 'requestDisable',
      after: {
        disableTimeout: { target: 'disabled.online' },
      },
      on: {
        'messaging.disable_completed': { target: 'disabled.online' },
        'messaging.enable': { target: 'enabling.requesting', actions: 'clearFailure' },
        'connection.lost': { target: 'disabled.offline' },
      },
    },
    closed: {
      type: 'final',
      entry: ['clearPresence', 'rejectOutboxClosed'],
    },
  },
});

/** The messaging machine's type. */
export type MessagingMachine = typeof messagingMachine;

/** The state names `messaging.state$` reports. */
export type MessagingStateName = 'disabled' | 'enabling' | 'enabled' | 'disabling' | 'closed';
