/**
 * The server-side lifecycle of one participant connection: connected with
 * messaging disabled, connected with messaging enabled, gone.
 *
 * The machine decides which presence pushes a lifecycle event causes; the
 * room server listens for the emitted events (`actor.on(...)`) and does the
 * I/O. The per-message relay path never goes through it: the server mirrors
 * the `messagingEnabled` tag into a plain boolean.
 *
 * @packageDocumentation
 */
import { assertEvent, emit, setup } from 'xstate';

/** Events the room server sends to a participant session. */
export type ParticipantSessionEvent =
  /** The participant asked to enable messaging (`messaging.enable` tool). */
  | { type: 'messaging.enable' }
  /** The participant asked to disable messaging (`messaging.disable` tool). */
  | { type: 'messaging.disable' }
  /** The participant's attributes changed (`set_attributes`); `changed` holds the merged keys. */
  | { type: 'attributes.changed'; changed: Record<string, unknown> }
  /** The connection is gone: closed cleanly, dropped, timed out or kicked. */
  | { type: 'transport.closed' };

/** Effects the machine asks the room server to perform. */
export type ParticipantSessionEmitted =
  /** Send the `messaging.enabled` presence snapshot to this participant. */
  | { type: 'presence.snapshot' }
  /** Tell the other enabled participants `participant.enabled`. */
  | { type: 'presence.enabled' }
  /** Tell the other enabled participants `participant.disabled`. */
  | { type: 'presence.disabled' }
  /** Tell the other enabled participants `participant.attributes` with these keys. */
  | { type: 'presence.attributes'; changed: Record<string, unknown> }
  /** The session ended; remove the participant from its room. */
  | { type: 'session.ended' };

/**
 * One participant's server-side session.
 *
 * - `connected.disabled`: joined the room, invisible to presence; may still
 *   send and broadcast (only its grant matters), but receives nothing.
 * - `connected.enabled` (tag `messagingEnabled`): in presence, receives
 *   sends and broadcasts.
 * - `gone`: final; leaving `enabled` announces `participant.disabled`.
 *
 * Re-enabling while enabled re-sends the snapshot only (the client waits for
 * `messaging.enabled`); disabling while disabled changes nothing.
 *
 * @example
 * ```ts
 * const actor = createActor(participantSessionMachine);
 * actor.on('presence.enabled', () => room.announceEnabled(session));
 * actor.start();
 * actor.send({ type: 'messaging.enable' });
 * ```
 */
export const participantSessionMachine = setup({
  types: {
    events: {} as ParticipantSessionEvent,
    emitted: {} as ParticipantSessionEmitted,
  },
  actions: {
    sendSnapshot: emit({ type: 'presence.snapshot' } as const),
    announceEnabled: emit({ type: 'presence.enabled' } as const),
    announceDisabled: emit({ type: 'presence.disabled' } as const),
    announceAttributes: emit(({ event }) => {
      assertEvent(event, 'attributes.changed');
      return { type: 'presence.attributes' as const, changed: event.changed };
    }),
    endSession: emit({ type: 'session.ended' } as const),
  },
}).createMachine({
  id: 'participantSession',
  initial: 'connected',
  states: {
    connected: {
      initial: 'disabled',
      states: {
        disabled: {
          on: {
            // Snapshot first: the enabling client learns who is there before others learn of it.
            'messaging.enable': { target: 'enabled', actions: ['sendSnapshot', 'announceEnabled'] },
            'messaging.disable': {},
            // Attributes are stored by the server; nobody is told while disabled.
            'attributes.changed': {},
            'transport.closed': { target: '#participantSession.gone' },
          },
        },
        enabled: {
          tags: ['messagingEnabled'],
          on: {
            'messaging.enable': { actions: 'sendSnapshot' },
            'messaging.disable': { target: 'disabled', actions: 'announceDisabled' },
            'attributes.changed': { actions: 'announceAttributes' },
            'transport.closed': { target: '#participantSession.gone', actions: 'announceDisabled' },
          },
        },
      },
    },
    gone: {
      type: 'final',
      entry: 'endSession',
    },
  },
});
