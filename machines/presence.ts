/**
 * Presence of remote participants: the {@link PresenceRoster} the messaging
 * machine keeps in its context (one immutable {@link PresenceEntry} per
 * messaging-enabled participant), and the presence statechart of a single
 * participant (`online` with its attributes, merging updates key by key,
 * final `offline` once it leaves), which the client runs once per remote
 * participant (`src/client/presence-actors.ts`).
 *
 * The messaging machine does not spawn those actors as its children: XState
 * copies a parent's `children` on every spawn and stop, which makes each
 * presence event O(n) and filling a room of n participants O(n^2) per
 * client. The roster is a persistent map instead: snapshots stay immutable
 * and a presence event costs O(1); the client's standalone presence actors
 * follow the roster's emitted changes.
 *
 * Pure: imports only `xstate`.
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

/** A participant in a {@link PresenceRoster}: immutable; an update replaces it. */
export interface PresenceEntry extends PresenceParticipant {
  /**
   * Unique per appearance, increasing: a participant that leaves and comes
   * back (or is re-added by a fresh snapshot) gets a new key. Orders the roster.
   */
  readonly key: number;
  /**
   * The entry this appearance began with; absent on that first entry
   * itself. An attribute update replaces the entry but keeps its appearance,
   * so `first ?? entry` ({@link appearanceOf}) is the same object for the
   * whole appearance.
   */
  readonly first?: PresenceEntry;
  /**
   * On an appearance's first entry only: a slot the client fills with its
   * participant object the first time it hands one out, so that object
   * hangs off the roster (the one place presence lives) and goes with its
   * entry, at the cost of one field, where a map beside the roster costs
   * tens of bytes per participant (n^2 of them in a process running n
   * clients in one room). Not state: the machine never reads it.
   */
  view?: unknown;
}

/** A participant's first entry: a new appearance. */
export function appearance(participant: PresenceParticipant, key: number): PresenceEntry {
  // One shape for every first entry (the view slot is there from the start).
  return { id: participant.id, role: participant.role, attributes: participant.attributes, key, view: undefined };
}

/** The stable object of `entry`'s appearance (see {@link PresenceEntry.first}). */
export function appearanceOf(entry: PresenceEntry): PresenceEntry {
  return entry.first ?? entry;
}

/** `entry` with new attributes, the same appearance. */
export function withAttributes(entry: PresenceEntry, attributes: Readonly<Record<string, unknown>>): PresenceEntry {
  return { id: entry.id, role: entry.role, attributes, key: entry.key, first: appearanceOf(entry) };
}

/**
 * What a roster version holds: the map itself (the version that holds it is
 * the "root"), or the one change that turns the next version into this one.
 */
type RosterNode =
  | { readonly kind: 'map'; readonly map: Map<string, PresenceEntry> }
  | {
      readonly kind: 'diff';
      /** The ids changed, in order: undoing them, last first, turns `next` into this version. */
      readonly ids: readonly string[];
      /** What each id of `ids` maps to in this version (`undefined`: absent). */
      readonly entries: readonly (PresenceEntry | undefined)[];
      readonly next: PresenceRoster;
    };

/**
 * Changes to one roster version that become its next version together (see
 * {@link PresenceRoster.edited}): reads see the changes made so far.
 */
export interface RosterDraft {
  /** The participant with this id, if present. */
  get(id: string): PresenceEntry | undefined;
  /** Adds `entry`, or replaces the entry with its id. */
  set(entry: PresenceEntry): void;
  /** Removes the participant with this id; false when absent. */
  delete(id: string): boolean;
}

/**
 * The remote participants by id: a persistent map. Every version is
 * immutable to its readers, yet an update costs O(1) per change and
 * allocates a few small objects per version, however many changes it
 * holds: all versions share one `Map`, held by the newest version read or
 * written; each other version holds the changes from the version after it
 * (Baker's "rerooting" of persistent arrays). Reading an
 * older version moves the `Map` to it by undoing those changes, so old
 * snapshots stay correct (as XState's pure `transition()` and graph
 * traversal need), while the actor, which only ever moves forward, pays
 * O(1) per presence event and leaves no long-lived garbage behind.
 *
 * `membership` changes whenever a participant is added or removed (not
 * when attributes change), so observers can tell membership changes apart
 * cheaply.
 *
 * @example
 * ```ts
 * const roster = PresenceRoster.empty.with({ id: 'p1', role: 'user', attributes: { name: 'bob' }, key: 0 });
 * roster.get('p1')?.attributes.name; // 'bob'
 * ```
 */
export class PresenceRoster {
  /** The roster with nobody. */
  static get empty(): PresenceRoster {
    return new PresenceRoster(new Map(), 0, 0);
  }

  private node: RosterNode;

  private constructor(
    map: Map<string, PresenceEntry>,
    /** Number of participants. */
    readonly size: number,
    /** Changes (increases) on every addition or removal. */
    readonly membership: number,
  ) {
    this.node = { kind: 'map', map };
  }

  /** A roster of `entries` (later duplicates win), with the given membership counter. */
  static of(entries: Iterable<PresenceEntry>, membership: number): PresenceRoster {
    const map = new Map<string, PresenceEntry>();
    for (const entry of entries) map.set(entry.id, entry);
    return PresenceRoster.adopt(map, membership);
  }

  /** A roster that takes `map` (entries by id) over: the caller hands it on and never touches it again. */
  static adopt(map: Map<string, PresenceEntry>, membership: number): PresenceRoster {
    return new PresenceRoster(map, map.size, membership);
  }

  /** Makes this version hold the shared map, undoing the changes of the versions after it. */
  private reroot(): Map<string, PresenceEntry> {
    if (this.node.kind === 'map') return this.node.map;
    const path: PresenceRoster[] = [];
    let version: PresenceRoster = this;
    while (version.node.kind === 'diff') {
      path.push(version);
      version = version.node.next;
    }
    const map = version.node.map;
    for (let i = path.length - 1; i >= 0; i--) {
      const older = path[i]!;
      const diff = older.node as Extract<RosterNode, { kind: 'diff' }>;
      // Undone last change first. What each id held before its undo, listed
      // in the order of the undoing, is the newer version's way back: undone
      // last first in turn, it replays the changes in their order.
      const ids: string[] = [];
      const entries: (PresenceEntry | undefined)[] = [];
      for (let k = diff.ids.length - 1; k >= 0; k--) {
        const id = diff.ids[k]!;
        ids.push(id);
        entries.push(map.get(id));
        const entry = diff.entries[k];
        if (entry === undefined) map.delete(id);
        else map.set(id, entry);
      }
      diff.next.node = { kind: 'diff', ids, entries, next: older };
      older.node = { kind: 'map', map };
    }
    return map;
  }

  /**
   * The next version after `edit` has made its changes on a draft: one
   * version however many changes (this one when there were none). The draft
   * is valid only while `edit` runs, and `edit` reads through the draft
   * alone: this version shares the map being changed.
   */
  edited(edit: (draft: RosterDraft) => void): PresenceRoster {
    const map = this.reroot();
    const ids: string[] = [];
    const entries: (PresenceEntry | undefined)[] = [];
    let size = this.size;
    let membership = this.membership;
    edit({
      get: (id) => map.get(id),
      set: (entry) => {
        const before = map.get(entry.id);
        ids.push(entry.id);
        entries.push(before);
        map.set(entry.id, entry);
        if (before === undefined) {
          size++;
          membership++;
        }
      },
      delete: (id) => {
        const before = map.get(id);
        if (before === undefined) return false;
        ids.push(id);
        entries.push(before);
        map.delete(id);
        size--;
        membership++;
        return true;
      },
    });
    if (ids.length === 0) return this;
    const next = new PresenceRoster(map, size, membership);
    this.node = { kind: 'diff', ids, entries, next };
    return next;
  }

  /** The participant with this id, if present. */
  get(id: string): PresenceEntry | undefined {
    return this.reroot().get(id);
  }

  /** Adds `entry`, or replaces the entry with its id. */
  with(entry: PresenceEntry): PresenceRoster {
    return this.edited((draft) => draft.set(entry));
  }

  /** Removes the participant with this id (the same roster when absent). */
  without(id: string): PresenceRoster {
    return this.edited((draft) => void draft.delete(id));
  }

  /** Nobody (the same roster when already empty). */
  cleared(): PresenceRoster {
    return this.size === 0 ? this : new PresenceRoster(new Map(), 0, this.membership + 1);
  }

  /** Every participant, in order of appearance (by `key`). O(n log n): for listings, not per event. */
  list(): PresenceEntry[] {
    return [...this.reroot().values()].sort((a, b) => a.key - b.key);
  }

  /** The ids, in order of appearance. */
  ids(): string[] {
    return this.list().map((entry) => entry.id);
  }
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
