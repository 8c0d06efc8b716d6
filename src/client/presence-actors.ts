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
import { presenceMachine, type MessagingEmitted, type PresenceEntry } from '../../machines/index.js';

/** The actor of one remote participant's presence. */
export type PresenceActor = ActorRefFrom<typeof presenceMachine>;

type PresenceChange = Extract<MessagingEmitted, { type: 'participant.added' | 'participant.removed' | 'participant.attributes_updated' }>;

/**
 * The presence actors of one messaging client, keyed by participant id.
 *
 * With an inspector every participant's actor is created when it appears,
 * so the inspector sees each lifecycle from the start. Without one, an actor
 * is created the first time it is asked for ({@link RemoteParticipant.presence}),
 * starting from the roster's current entry: a process running many clients
 * in big rooms (n clients x n participants) then pays nothing for actors
 * nobody reads. Measured with 1000 clients joining one room: eager actors
 * made the join 4x slower.
 */
export class PresenceActors {
  private readonly byId = new Map<string, { key: number; actor: PresenceActor }>();

  constructor(private readonly inspect?: ActorOptions<AnyActorLogic>['inspect']) {}

  /** Applies one presence change the messaging machine emitted. */
  apply(change: PresenceChange): void {
    const { participant } = change;
    switch (change.type) {
      case 'participant.added':
        // A participant re-added by a fresh snapshot replaces its previous appearance.
        this.leave(participant.id);
        if (this.inspect !== undefined) this.create(participant);
        return;
      case 'participant.attributes_updated': {
        const current = this.byId.get(participant.id);
        // The entry carries the whole attribute set after the change: exact even when a snapshot dropped keys.
        if (current?.key === participant.key) current.actor.send({ type: 'attributes.replaced', attributes: participant.attributes });
        return;
      }
      case 'participant.removed':
        if (this.byId.get(participant.id)?.key === participant.key) this.leave(participant.id);
        return;
    }
  }

  /** The presence actor of the present participant `entry`, created on first use. */
  actorOf(entry: PresenceEntry): PresenceActor {
    const current = this.byId.get(entry.id);
    if (current?.key === entry.key) return current.actor;
    this.leave(entry.id);
    return this.create(entry);
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

  private create(entry: PresenceEntry): PresenceActor {
    const actor = createActor(presenceMachine, {
      id: `presence:${entry.id}`,
      input: { id: entry.id, role: entry.role, attributes: entry.attributes },
      ...(this.inspect === undefined ? {} : { inspect: this.inspect }),
    });
    this.byId.set(entry.id, { key: entry.key, actor });
    actor.start();
    return actor;
  }

  private leave(id: string): void {
    const current = this.byId.get(id);
    if (current === undefined) return;
    this.byId.delete(id);
    current.actor.send({ type: 'participant.left' });
  }
}
