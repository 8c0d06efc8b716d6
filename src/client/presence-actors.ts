/**
 * One presence actor per remote participant: the `presence` statechart
 * (`online` with attributes, attribute updates, final `offline`) run for
 * every participant the messaging machine reports, so inspectors and
 * visualisers show each participant's lifecycle.
 *
 * The actors are standalone (not children of the messaging actor): XState
 * copies a parent's `children` on every spawn and stop, which would make each
 * presence event O(n). Here an event costs one map lookup and one `send`.
 * The messaging machine's roster is the one truth of presence (it reconciles
 * presence after a reconnect); these actors are a view of it for
 * inspectors, fed by the RxJS pipeline (the only caller of `actor.send`)
 * with the deliveries {@link PresenceActors.deliveriesFor} computes from the
 * roster's emitted changes.
 *
 * @packageDocumentation
 */
import { createActor, type ActorOptions, type ActorRefFrom, type AnyActorLogic } from 'xstate';
import { presenceMachine, type PresenceEntry, type PresenceEvent, type RosterChange } from '../../machines/index.js';

/** The actor of one remote participant's presence. */
export type PresenceActor = ActorRefFrom<typeof presenceMachine>;

/** An event for one presence actor, for the pipeline to send. */
export interface PresenceDelivery {
  readonly actor: PresenceActor;
  readonly event: PresenceEvent;
}

const NONE: readonly PresenceDelivery[] = [];

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

  /**
   * Follows one roster change the messaging machine announced: updates which
   * actor stands for which appearance, and returns the events the pipeline
   * must send (none when no actor exists for the participant).
   */
  deliveriesFor(change: RosterChange): readonly PresenceDelivery[] {
    const { participant } = change;
    switch (change.type) {
      case 'participant.added': {
        // A participant re-added by a fresh snapshot replaces its previous appearance.
        const left = this.leave(participant.id);
        if (this.inspect !== undefined) this.create(participant);
        return left;
      }
      case 'participant.attributes_updated': {
        const current = this.byId.get(participant.id);
        // The entry carries the whole attribute set after the change: exact even when a snapshot dropped keys.
        if (current?.key !== participant.key) return NONE;
        return [{ actor: current.actor, event: { type: 'attributes.replaced', attributes: participant.attributes } }];
      }
      case 'participant.removed':
        return this.byId.get(participant.id)?.key === participant.key ? this.leave(participant.id) : NONE;
    }
  }

  /** The presence actor of the present participant `entry`, created on first use. */
  actorOf(entry: PresenceEntry): PresenceActor {
    const current = this.byId.get(entry.id);
    if (current?.key === entry.key) return current.actor;
    // A stale appearance (its departure is delivered by the pipeline in order) is not reused.
    this.byId.delete(entry.id);
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

  private leave(id: string): readonly PresenceDelivery[] {
    const current = this.byId.get(id);
    if (current === undefined) return NONE;
    this.byId.delete(id);
    return [{ actor: current.actor, event: { type: 'participant.left' } }];
  }
}
