/**
 * Participants, shaped like the official SDK's: the {@link LocalParticipant}
 * (this client) and {@link RemoteParticipant}s (presence). Both read their
 * state from actor snapshots (the connection's context, the messaging
 * machine's presence roster) and expose `attributes$`.
 *
 * @packageDocumentation
 */
import { defer, distinctUntilChanged, map, of, takeWhile, type Observable } from 'rxjs';
import type { ActorRefFrom } from 'xstate';
import type { connectionMachine, messagingMachine, PresenceEntry, PresenceRoster } from '../../machines/index.js';
import { select } from './observe.js';
import type { PresenceActor } from './presence-actors.js';

type ConnectionActorRef = ActorRefFrom<typeof connectionMachine>;
type MessagingActorRef = ActorRefFrom<typeof messagingMachine>;

/** Attributes as participants carry them. */
export type Attributes = Readonly<Record<string, unknown>>;

/** Shallow equality of attribute sets by JSON value. */
export function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key in b && JSON.stringify(a[key]) === JSON.stringify(b[key]));
}

/** Where a {@link RemoteParticipant} reads presence: the messaging actor's roster. */
export interface PresenceSource {
  /** The messaging actor, whose snapshots carry the roster. */
  readonly actor: MessagingActorRef;
  /** The current roster. */
  roster(): PresenceRoster;
  /** The presence actor of a present participant. */
  actorOf(id: string): PresenceActor | undefined;
}

/**
 * A remote participant with messaging enabled: a handle on its appearance
 * in the messaging machine's presence roster, the one truth of presence,
 * from which `online` and `attributes` are read. Once it leaves, `online` is
 * false, `attributes` keeps the last known values (its final entry, the
 * only thing it holds of its own) and `attributes$` completes.
 */
export class RemoteParticipant {
  private attributesStream: Observable<Attributes> | undefined;

  /**
   * @internal Created by the messaging client, one per appearance. Kept
   * small (three fields, no observable until `attributes$` is read): a
   * client in a room of n holds n of them, and a process running many
   * clients holds n^2.
   */
  constructor(
    /**
     * A roster entry of this appearance: it gives the id, role and key
     * (the same in all of them); once the participant has left, its final
     * entry, whose attributes stay readable.
     */
    private entry: PresenceEntry,
    private readonly source: PresenceSource,
  ) {}

  /** The participant id. */
  get id(): string {
    return this.entry.id;
  }

  /** The token role, e.g. "user" or "agent". */
  get role(): string {
    return this.entry.role;
  }

  /** @internal Which appearance of the participant this is (see {@link PresenceEntry.key}). */
  get key(): number {
    return this.entry.key;
  }

  /** The attributes, replayed to late subscribers; completes when the participant leaves. */
  get attributes$(): Observable<Attributes> {
    if (this.attributesStream === undefined) {
      const live = select(this.source.actor, (snapshot) => this.entryIn(snapshot.context.participants)).pipe(
        takeWhile((current): current is PresenceEntry => current !== undefined),
        map((current) => current.attributes),
        distinctUntilChanged(sameAttributes),
      );
      // Once gone, a late subscriber still gets the last attributes, then completion.
      this.attributesStream = defer(() => (this.online ? live : of(this.attributes)));
    }
    return this.attributesStream;
  }

  /** This appearance's entry in `roster`, if it is there (keys are never reused, so a return is another appearance). */
  private entryIn(roster: PresenceRoster): PresenceEntry | undefined {
    const current = roster.get(this.entry.id);
    return current !== undefined && current.key === this.entry.key ? current : undefined;
  }

  /**
   * @internal The participant left; `entry` is its final state, kept for
   * `attributes`. (Whether it is present is always read from the roster,
   * which no longer holds it when the removal is announced.)
   */
  markGone(entry: PresenceEntry): void {
    this.entry = entry;
  }

  /** True while the participant is present. */
  get online(): boolean {
    return this.entryIn(this.source.roster()) !== undefined;
  }

  /** The current attributes (the last known ones once gone). */
  get attributes(): Attributes {
    return (this.entryIn(this.source.roster()) ?? this.entry).attributes;
  }

  /** One attribute, e.g. `getAttribute('name')`. */
  getAttribute(name: string): unknown {
    return this.attributes[name];
  }

  /**
   * The participant's presence actor (the `presence` statechart: `online`,
   * then final `offline`) while it is present; `undefined` once it left.
   */
  get presence(): PresenceActor | undefined {
    return this.online ? this.source.actorOf(this.id) : undefined;
  }
}

/**
 * This client in the room. `id` is '' until the first connection and
 * changes on every reconnect (the server assigns a new one). Attributes set
 * before `start()` are sent once connected; after a reconnect the whole
 * merged set is sent again.
 */
export class LocalParticipant {
  private attributesStream: Observable<Attributes> | undefined;

  constructor(
    private readonly connection: ConnectionActorRef,
    private readonly command: (attributes: Attributes) => void,
  ) {}

  /** The attributes (the server's, with local values on top), replayed to late subscribers. */
  get attributes$(): Observable<Attributes> {
    return (this.attributesStream ??= select(this.connection, (snapshot) => snapshot.context.attributes, sameAttributes));
  }

  /** The participant id on the current connection; '' before the first. */
  get id(): string {
    return this.connection.getSnapshot().context.participantId;
  }

  /** The current attributes. */
  get attributes(): Attributes {
    return this.connection.getSnapshot().context.attributes;
  }

  /** One attribute, e.g. `getAttribute('name')`. */
  getAttribute(name: string): unknown {
    return this.attributes[name];
  }

  /** Sets one attribute and publishes it to the room (`set_attributes`). */
  setAttribute(name: string, value: unknown): void {
    this.command({ [name]: value });
  }

  /** Sets several attributes at once. */
  setAttributes(attributes: Attributes): void {
    this.command({ ...attributes });
  }
}
