/**
 * Clients that send their actors' inspection events to the console
 * (`consoleInspector` in `roomstate/inspect`): their actors of roomstate's
 * machines, with the state each is in and the events it took. What one
 * connection and one admin identity may make the server hold is bounded in
 * actors, log entries and bytes; a connection over a bound is closed, and
 * everything it held goes with it.
 */
import { z } from 'zod';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { RoomStateError, RoomStateErrorCode } from '../../errors.js';
import { activeStateIds } from '../../diagram/statechart.js';
import { MACHINES, machineNameById } from '../../diagram/machines.js';
import type { ClientActorView, InspectedClientView, InspectMessage, LogEntry } from '../../console/feed-protocol.js';

/** Events kept per client actor. */
export const CLIENT_LOG_LENGTH = 20;
/** Actors kept per inspector connection; a client with more (a huge room) shows its first ones. */
export const MAX_CLIENT_ACTORS = 1000;
/** Bytes one inspector connection may make the server hold (estimated from what it sent). */
export const MAX_INSPECTOR_BYTES = 1024 * 1024;
/** Bytes all inspector connections of one admin identity may make the server hold together. */
export const MAX_INSPECTOR_BYTES_PER_IDENTITY = 4 * MAX_INSPECTOR_BYTES;

/** Estimated bytes of an actor record, without its strings. */
const ACTOR_OVERHEAD = 256;
/** Estimated bytes of a log entry, without its event name (its states are shared). */
const ENTRY_OVERHEAD = 64;

const text = z.string().max(200);
// A state value or attributes: bounded so that reading them stays shallow.
const small = (what: string) => z.unknown().refine((value) => JSON.stringify(value ?? null).length <= 2000, `${what} too large`);
const inspectMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('client'), name: text }),
  z.object({ type: z.literal('actor'), id: text, machine: text, label: text }),
  z.object({
    type: z.literal('snapshot'),
    id: text,
    event: text,
    value: small('state value'),
    label: text,
    stopped: z.boolean(),
    title: text.optional(),
    attributes: small('attributes').pipe(z.record(z.string(), z.unknown())).optional(),
  }),
]);

/** Parses one inspector message; throws a {@link RoomStateError} (`ROOM_ERR_VALIDATION`) for anything else. */
export function parseInspectMessage(data: string): InspectMessage {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new RoomStateError(RoomStateErrorCode.Validation, 'invalid inspection message: expected JSON');
  }
  const result = inspectMessage.safeParse(json);
  if (!result.success) throw new RoomStateError(RoomStateErrorCode.Validation, `invalid inspection message: ${z.prettifyError(result.error)}`);
  return result.data as InspectMessage;
}

/**
 * The active states of `value` as ids of `machine`'s own state nodes: the
 * strings are the machine's (shared, never copies of input), and a value
 * naming states the machine does not have yields only those it does.
 */
function knownStates(machine: AnyStateMachine, value: unknown): readonly string[] {
  const cache = internedStates(machine);
  const ids = activeStateIds(machine.id, value);
  const key = ids.join(' ');
  let states = cache.configurations.get(key);
  if (states === undefined) {
    states = ids.map((id) => cache.ids.get(id)).filter((id) => id !== undefined);
    // Only real configurations are remembered, so the cache is as small as the machine.
    if (states.length === ids.length) cache.configurations.set(key, states);
  }
  return states;
}

const interned = new WeakMap<AnyStateMachine, { ids: Map<string, string>; configurations: Map<string, readonly string[]> }>();
function internedStates(machine: AnyStateMachine) {
  let cache = interned.get(machine);
  if (cache === undefined) {
    const ids = new Map<string, string>();
    const visit = (node: AnyStateNode): void => {
      ids.set(node.id, node.id);
      for (const child of Object.values(node.states)) visit(child);
    };
    visit(machine.root);
    cache = { ids, configurations: new Map() };
    interned.set(machine, cache);
  }
  return cache;
}

interface Actor {
  readonly id: string;
  readonly machine: string;
  label: string;
  title: string;
  attributes: Readonly<Record<string, unknown>> | null;
  states: readonly string[];
  readonly log: LogEntry[];
  /** Estimated bytes held for this actor. */
  bytes: number;
}

interface Client {
  readonly identity: string;
  name: string;
  readonly actors: Map<string, Actor>;
  bytes: number;
}

/** What changed: a client (added, renamed or removed) or one of its actors (with the entry it took, if any). */
export type InspectedChange =
  | { readonly kind: 'client'; readonly client: string }
  | { readonly kind: 'actor'; readonly client: string; readonly actor: string; readonly entry: LogEntry | undefined };

const stringBytes = (value: string): number => 2 * value.length;
const jsonBytes = (value: unknown): number => (value === null ? 0 : 2 * JSON.stringify(value).length);

/** The inspected clients of one server. */
export class InspectedClients {
  private readonly clients = new Map<string, Client>();
  private readonly identityBytes = new Map<string, number>();
  private next = 1;

  constructor(
    private readonly changed: (change: InspectedChange) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers a new inspector connection of admin `identity`; returns its id. */
  add(identity: string): string {
    const id = `client-${this.next++}`;
    this.clients.set(id, { identity, name: '', actors: new Map(), bytes: 0 });
    this.changed({ kind: 'client', client: id });
    return id;
  }

  /** Forgets a client and everything it sent (its inspector disconnected). */
  remove(id: string): void {
    const client = this.clients.get(id);
    if (client === undefined) return;
    this.clients.delete(id);
    this.charge(client, -client.bytes);
    this.changed({ kind: 'client', client: id });
  }

  /** Estimated bytes held for client `id` (0 when unknown), or for all clients. */
  bytes(id?: string): number {
    if (id !== undefined) return this.clients.get(id)?.bytes ?? 0;
    let total = 0;
    for (const client of this.clients.values()) total += client.bytes;
    return total;
  }

  /**
   * Applies one message from client `id`. Throws a {@link RoomStateError} (`ROOM_ERR_LIMIT`) when
   * it would make the client or its identity hold more than their budget
   * (the caller closes the connection, which removes the client).
   */
  receive(id: string, message: InspectMessage): void {
    const client = this.clients.get(id);
    if (client === undefined) return;
    if (message.type === 'client') {
      this.resize(client, undefined, stringBytes(message.name) - stringBytes(client.name));
      client.name = message.name;
      this.changed({ kind: 'client', client: id });
    } else if (message.type === 'actor') this.actor(id, client, message.id, message.machine, message.label);
    else {
      const actor = client.actors.get(message.id);
      if (actor === undefined) return;
      const states = knownStates(MACHINES[actor.machine]!, message.value);
      const entry: LogEntry = { at: this.now(), event: message.event, states };
      const attributes = message.attributes ?? null;
      const dropped = actor.log.length >= CLIENT_LOG_LENGTH ? actor.log[0]! : undefined;
      const delta =
        stringBytes(message.label) - stringBytes(actor.label) +
        stringBytes(message.title ?? '') - stringBytes(actor.title) +
        jsonBytes(attributes) - jsonBytes(actor.attributes) +
        ENTRY_OVERHEAD + stringBytes(entry.event) - (dropped === undefined ? 0 : ENTRY_OVERHEAD + stringBytes(dropped.event));
      this.resize(client, actor, delta);
      Object.assign(actor, { states, label: message.label, title: message.title ?? '', attributes });
      actor.log.push(entry);
      if (dropped !== undefined) actor.log.shift();
      // A stopped actor (a presence actor whose participant left) is gone from the client too.
      if (message.stopped) {
        client.actors.delete(message.id);
        this.charge(client, -actor.bytes);
      }
      this.changed({ kind: 'actor', client: id, actor: message.id, entry });
    }
  }

  /** Every client and its actors. */
  views(): InspectedClientView[] {
    return [...this.clients].map(([id, client]) => ({ id, name: client.name, actors: [...client.actors.values()].map(actorView) }));
  }

  /** Client `id`'s name; undefined when it is gone. */
  clientName(id: string): string | undefined {
    return this.clients.get(id)?.name;
  }

  /** One actor of client `id`; undefined when it is gone. */
  actorView(id: string, actorId: string): ClientActorView | undefined {
    const actor = this.clients.get(id)?.actors.get(actorId);
    return actor === undefined ? undefined : actorView(actor);
  }

  private actor(clientId: string, client: Client, id: string, machineId: string, label: string): void {
    const machine = machineNameById(machineId);
    // Only roomstate's own machines can be drawn; other actors are ignored.
    if (machine === undefined || client.actors.has(id) || client.actors.size >= MAX_CLIENT_ACTORS) return;
    const actor: Actor = { id, machine, label, title: '', attributes: null, states: [], log: [], bytes: 0 };
    this.resize(client, actor, ACTOR_OVERHEAD + stringBytes(id) + stringBytes(label));
    client.actors.set(id, actor);
    this.changed({ kind: 'actor', client: clientId, actor: id, entry: undefined });
  }

  /** Adds `delta` bytes to `client` (and `actor`), or throws when that goes over a budget. */
  private resize(client: Client, actor: Actor | undefined, delta: number): void {
    if (delta > 0) {
      if (client.bytes + delta > MAX_INSPECTOR_BYTES) {
        throw new RoomStateError(RoomStateErrorCode.Limit, `inspection data over ${MAX_INSPECTOR_BYTES} bytes for one connection`);
      }
      if ((this.identityBytes.get(client.identity) ?? 0) + delta > MAX_INSPECTOR_BYTES_PER_IDENTITY) {
        throw new RoomStateError(RoomStateErrorCode.Limit, `inspection data over ${MAX_INSPECTOR_BYTES_PER_IDENTITY} bytes for one admin identity`);
      }
    }
    if (actor !== undefined) actor.bytes += delta;
    this.charge(client, delta);
  }

  private charge(client: Client, delta: number): void {
    client.bytes += delta;
    const total = (this.identityBytes.get(client.identity) ?? 0) + delta;
    if (total > 0) this.identityBytes.set(client.identity, total);
    else this.identityBytes.delete(client.identity);
  }
}

function actorView(actor: Actor): ClientActorView {
  const { id, machine, label, title, attributes, states } = actor;
  return { id, machine, label, title, attributes, states, log: [...actor.log] };
}
