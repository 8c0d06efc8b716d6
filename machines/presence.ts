/**
 * The presence statechart: one actor per remote messaging-enabled
 * participant, keyed by the participant's id. It is `online` with its
 * attributes, merges attribute updates key by key, and ends in the final
 * `offline` state when the participant leaves (or presence is cleared).
 *
 * Pure: imports only `xstate`. The messaging machine spawns one per
 * participant; the client reads `attributes` from its snapshot.
 *
 * @packageDocumentation
 */
import { assign, setup } from 'xstate';

/** A participant as the server describes it in presence messages. */
export interface PresenceParticipant {
  /** The participant id, opaque and stable for one connection. */
  readonly id: string;
  /** The token role, e.g. "user", "agent" or "tool". */
  readonly role: string;
  /** The participant's attributes; `name` is the token's name claim. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** What the presence actor knows about its participant. */
export interface PresenceContext {
  readonly id: string;
  readonly role: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** Events a presence actor accepts. */
export type PresenceEvent =
  /** Some attributes changed; merge them key by key (a `participant.attributes` push). */
  | { type: 'attributes.changed'; attributes: Readonly<Record<string, unknown>> }
  /** A fresh presence snapshot carried the whole attribute set; replace it. */
  | { type: 'attributes.replaced'; attributes: Readonly<Record<string, unknown>> }
  /** The participant disabled messaging, disconnected, or presence was cleared. */
  | { type: 'participant.left' };

/**
 * One remote participant's presence.
 *
 * @example
 * ```ts
 * const actor = createActor(presenceMachine, { input: { id: 'p1', role: 'user', attributes: { name: 'bob' } } }).start();
 * actor.send({ type: 'attributes.changed', attributes: { status: 'busy' } });
 * ```
 */
export const presenceMachine = setup({
  types: {
    context: {} as PresenceContext,
    events: {} as PresenceEvent,
    input: {} as PresenceParticipant,
    output: {} as { id: string },
  },
  actions: {
    mergeAttributes: assign({
      attributes: ({ context, event }) =>
        event.type === 'attributes.changed' ? { ...context.attributes, ...event.attributes } : context.attributes,
    }),
    replaceAttributes: assign({
      attributes: ({ context, event }) => (event.type === 'attributes.replaced' ? { ...event.attributes } : context.attributes),
    }),
  },
}).createMachine({
  id: 'presence',
  context: ({ input }) => ({ id: input.id, role: input.role, attributes: { ...input.attributes } }),
  initial: 'online',
  states: {
    online: {
      tags: ['online'],
      on: {
        'attributes.changed': { actions: 'mergeAttributes' },
        'attributes.replaced': { actions: 'replaceAttributes' },
        'participant.left': { target: 'offline' },
      },
    },
    offline: {
      type: 'final',
    },
  },
  output: ({ context }) => ({ id: context.id }),
});

/** The presence machine's type, for typing actor refs. */
export type PresenceMachine = typeof presenceMachine;
