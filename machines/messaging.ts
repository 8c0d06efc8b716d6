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
 * Presence is one spawned {@link presenceMachine} actor per remote
 * participant, keyed by participant id in `context.participants`.
 *
 * Pure: imports only `xstate` and the presence machine. Effects leave as
 * emitted events: `request.enable`, `request.disable`, `outbox.flush`,
 * `outbox.reject`; notifications: `participant.added`, `participant.removed`,
 * `participant.attributes_updated`, `presence.loaded`.
 *
 * @packageDocumentation
 */
import { assign, emit, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import { presenceMachine, type PresenceParticipant } from './presence.js';

/** Default time allowed between asking to enable and the `messaging.enabled` snapshot. */
export const ENABLE_TIMEOUT_MS = 30_000;
/** Default time allowed for the answer to `disable`. */
export const DISABLE_TIMEOUT_MS = 30_000;

/** A spawned presence actor. */
export type PresenceActorRef = ActorRefFrom<typeof presenceMachine>;

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
  /** Presence: one actor per remote participant, by participant id. */
  readonly participants: Readonly<Record<string, PresenceActorRef>>;
  /** Counter that keeps spawned child ids unique when a participant id comes back. */
  readonly spawned: number;
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
  | { type: 'messaging.enabled'; participants: readonly PresenceParticipant[] }
  | { type: 'messaging.enable_failed'; message: string; code?: number }
  | { type: 'messaging.disable_completed' }
  | { type: 'participant.enabled'; participant: PresenceParticipant }
  | { type: 'participant.disabled'; participantId: string }
  | { type: 'participant.attributes_changed'; participantId: string; attributes: Readonly<Record<string, unknown>> }
  | { type: 'participant.not_found'; participantId: string };

/** Events the messaging machine emits. */
export type MessagingEmitted =
  | { type: 'request.enable' }
  | { type: 'request.disable' }
  | { type: 'outbox.flush' }
  | ({ type: 'outbox.reject' } & OutboxRejection)
  | { type: 'participant.added'; participant: PresenceParticipant; ref: PresenceActorRef }
  | { type: 'participant.removed'; participant: PresenceParticipant; ref: PresenceActorRef }
  | { type: 'participant.attributes_updated'; participant: PresenceParticipant; changed: Readonly<Record<string, unknown>>; ref: PresenceActorRef }
  | { type: 'presence.loaded'; participants: readonly PresenceParticipant[] };

function describe(ref: PresenceActorRef): PresenceParticipant {
  const { id, role, attributes } = ref.getSnapshot().context;
  return { id, role, attributes };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Keys whose values differ between two attribute sets (removed keys map to undefined). */
function changedKeys(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!sameJson(before[key], after[key])) changed[key] = after[key];
  }
  return changed;
}

/** Emits `participant.added` with the ref spawned earlier in the same step (assign has run by then). */
function announceAdded(participant: PresenceParticipant) {
  return emit<MessagingContext, MessagingEvent, undefined, MessagingEvent, MessagingEmitted>(({ context }) => ({
    type: 'participant.added',
    participant: { ...participant, attributes: { ...participant.attributes } },
    ref: context.participants[participant.id]!,
  }));
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
  actors: { presence: presenceMachine },
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
      participants: Object.values(context.participants).map(describe),
    })),
    /** Replaces presence with a `messaging.enabled` snapshot: removes the gone, adds the new, updates the rest. */
    reconcilePresence: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'messaging.enabled') return;
      const incoming = new Map(event.participants.map((p) => [p.id, p] as const));
      const next: Record<string, PresenceActorRef> = {};
      for (const [id, ref] of Object.entries(context.participants)) {
        const fresh = incoming.get(id);
        if (fresh === undefined) {
          const gone = describe(ref);
          enqueue.sendTo(ref, { type: 'participant.left' });
          enqueue.stopChild(ref);
          enqueue.emit({ type: 'participant.removed', participant: gone, ref });
          continue;
        }
        next[id] = ref;
        const before = describe(ref);
        const changed = changedKeys(before.attributes, fresh.attributes);
        if (Object.keys(changed).length > 0) {
          enqueue.sendTo(ref, { type: 'attributes.replaced', attributes: fresh.attributes });
          enqueue.emit({ type: 'participant.attributes_updated', participant: { ...before, attributes: { ...fresh.attributes } }, changed, ref });
        }
      }
      const added = event.participants.filter((p) => context.participants[p.id] === undefined);
      let spawned = context.spawned;
      enqueue.assign(({ spawn }) => {
        for (const participant of added) {
          next[participant.id] = spawn('presence', { id: `presence-${spawned++}`, input: participant });
        }
        return { participants: next, spawned };
      });
      for (const participant of added) enqueue(announceAdded(participant));
    }),
    /** `participant.enabled`: adds the participant; a known id only has its attributes refreshed. */
    addParticipant: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'participant.enabled') return;
      const participant = event.participant;
      const known = context.participants[participant.id];
      if (known !== undefined) {
        const before = describe(known);
        const changed = changedKeys(before.attributes, participant.attributes);
        if (Object.keys(changed).length === 0) return;
        enqueue.sendTo(known, { type: 'attributes.replaced', attributes: participant.attributes });
        enqueue.emit({ type: 'participant.attributes_updated', participant: { ...before, attributes: { ...participant.attributes } }, changed, ref: known });
        return;
      }
      enqueue.assign(({ spawn }) => ({
        participants: {
          ...context.participants,
          [participant.id]: spawn('presence', { id: `presence-${context.spawned}`, input: participant }),
        },
        spawned: context.spawned + 1,
      }));
      enqueue(announceAdded(participant));
    }),
    /** `participant.disabled` or a send answered "not found": the participant goes offline and is removed. */
    removeParticipant: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'participant.disabled' && event.type !== 'participant.not_found') return;
      const ref = context.participants[event.participantId];
      if (ref === undefined) return;
      const gone = describe(ref);
      enqueue.sendTo(ref, { type: 'participant.left' });
      enqueue.stopChild(ref);
      const { [event.participantId]: _removed, ...rest } = context.participants;
      enqueue.assign({ participants: rest });
      enqueue.emit({ type: 'participant.removed', participant: gone, ref });
    }),
    /** `participant.attributes`: merges the changed keys into the participant's attributes. */
    updateParticipant: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'participant.attributes_changed') return;
      const ref = context.participants[event.participantId];
      if (ref === undefined) return;
      const before = describe(ref);
      enqueue.sendTo(ref, { type: 'attributes.changed', attributes: event.attributes });
      enqueue.emit({
        type: 'participant.attributes_updated',
        participant: { ...before, attributes: { ...before.attributes, ...event.attributes } },
        changed: { ...event.attributes },
        ref,
      });
    }),
    /** Everyone goes offline and is removed (messaging disabled, or the room closed). */
    clearPresence: enqueueActions(({ context, enqueue }) => {
      const refs = Object.values(context.participants);
      if (refs.length === 0) return;
      for (const ref of refs) {
        const gone = describe(ref);
        enqueue.sendTo(ref, { type: 'participant.left' });
        enqueue.stopChild(ref);
        enqueue.emit({ type: 'participant.removed', participant: gone, ref });
      }
      enqueue.assign({ participants: {} });
    }),
  },
}).createMachine({
  id: 'messaging',
  context: { participants: {}, spawned: 0, failure: undefined },
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
        'participant.enabled': { actions: 'addParticipant' },
        'participant.disabled': { actions: 'removeParticipant' },
        'participant.not_found': { actions: 'removeParticipant' },
        'participant.attributes_changed': { actions: 'updateParticipant' },
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
