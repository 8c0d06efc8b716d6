/**
 * One presence actor per remote participant: the `presence` statechart
 * (`online` with attributes, attribute updates, final `offline`) run for
 * every participant the messaging machine reports, so inspectors and
 * visualisers show each participant's lifecycle.
 *
 * The actors are standalone (not children of the messaging actor): XState
 * copies a parent's `children` on every spawn and stop, which would make each
 * presence event O(n). Here an event costs one map lookup and one `send`.
 * The messaging machine's roster stays the membership truth (it reconciles
 * presence after a reconnect); these actors follow its emitted events.
 *
 * @packageDocumentation
 */
import { createActor, type ActorOptions, type ActorRefFrom, type AnyActorLogic } from 'xstate';
import { presenceMachine, type MessagingEmitted } from '../../machines/index.js';

/** The actor of one remote participant's presence. */
export type PresenceActor = ActorRefFrom<typeof presenceMachine>;

type PresenceChange = Extract<MessagingEmitted, { type: 'participant.added' | 'participant.removed' | 'participant.attributes_updated' }>;

/** The live presence actors of one messaging client, keyed by participant id. */
export class PresenceActors {
  private readonly byId = new Map<string, { key: number; actor: PresenceActor }>();

  constructor(private readonly inspect?: ActorOptions<AnyActorLogic>['inspect']) {}

  /** Applies one presence change the messaging machine emitted. */
  apply(change: PresenceChange): void {
    const { participant } = change;
    switch (change.type) {
      case 'participant.added': {
        // A participant re-added by a fresh snapshot replaces its previous appearance.
        this.byId.get(participant.id)?.actor.send({ type: 'participant.left' });
        const actor = createActor(presenceMachine, {
          id: `presence:${participant.id}`,
          input: { id: participant.id, role: participant.role, attributes: participant.attributes },
          ...(this.inspect === undefined ? {} : { inspect: this.inspect }),
        });
        this.byId.set(participant.id, { key: participant.key, actor });
        actor.start();
        return;
      }
      case 'participant.attributes_updated': {
        const current = this.byId.get(participant.id);
        // The entry carries the whole attribute set after the change: exact even when a snapshot dropped keys.
        if (current?.key === participant.key) current.actor.send({ type: 'attributes.replaced', attributes: participant.attributes });
        return;
      }
      case 'participant.removed': {
        const current = this.byId.get(participant.id);
        if (current?.key !== participant.key) return;
        this.byId.delete(participant.id);
        current.actor.send({ type: 'participant.left' });
        return;
      }
    }
  }

  /** The presence actor of a present participant, if any. */
  get(id: string): PresenceActor | undefined {
    return this.byId.get(id)?.actor;
  }

  /** Number of live presence actors. */
  get size(): number {
    return this.byId.size;
  }

  /** Stops every actor (the client was disposed). */
  stop(): void {
    for (const { actor } of this.byId.values()) actor.stop();
    this.byId.clear();
  }
}
