/**
 * Participants, shaped like the official SDK's: the {@link LocalParticipant}
 * (this client) and {@link RemoteParticipant}s (presence). Both read their
 * state from actor snapshots and expose `attributes$`.
 *
 * @packageDocumentation
 */
import type { Observable } from 'rxjs';
import type { ActorRefFrom } from 'xstate';
import type { connectionMachine, PresenceActorRef } from '../../machines/index.js';
import { select } from './observe.js';

type ConnectionActorRef = ActorRefFrom<typeof connectionMachine>;

/** Attributes as participants carry them. */
export type Attributes = Readonly<Record<string, unknown>>;

/** Shallow equality of attribute sets by JSON value. */
export function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key in b && JSON.stringify(a[key]) === JSON.stringify(b[key]));
}

/**
 * A remote participant with messaging enabled, backed by its presence actor.
 * Once it leaves, `online` is false and `attributes$` completes.
 */
export class RemoteParticipant {
  /** The participant id. */
  readonly id: string;
  /** The token role, e.g. "user" or "agent". */
  readonly role: string;
  /** The attributes, replayed to late subscribers; completes when the participant leaves. */
  readonly attributes$: Observable<Attributes>;
  /** @internal The presence actor. */
  readonly ref: PresenceActorRef;

  constructor(ref: PresenceActorRef) {
    const { id, role } = ref.getSnapshot().context;
    this.ref = ref;
    this.id = id;
    this.role = role;
    this.attributes$ = select(ref, (snapshot) => snapshot.context.attributes, sameAttributes);
  }

  /** True while the participant is present. */
  get online(): boolean {
    const snapshot = this.ref.getSnapshot();
    return snapshot.status === 'active' && snapshot.hasTag('online');
  }

  /** The current attributes. */
  get attributes(): Attributes {
    return this.ref.getSnapshot().context.attributes;
  }

  /** One attribute, e.g. `getAttribute('name')`. */
  getAttribute(name: string): unknown {
    return this.attributes[name];
  }
}

/**
 * This client in the room. `id` is '' until the first connection and
 * changes on every reconnect (the server assigns a new one). Attributes set
 * before `start()` are sent once connected; after a reconnect the whole
 * merged set is sent again.
 */
export class LocalParticipant {
  /** The attributes (the server's, with local values on top), replayed to late subscribers. */
  readonly attributes$: Observable<Attributes>;

  constructor(
    private readonly connection: ConnectionActorRef,
    private readonly command: (attributes: Attributes) => void,
  ) {
    this.attributes$ = select(connection, (snapshot) => snapshot.context.attributes, sameAttributes);
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
