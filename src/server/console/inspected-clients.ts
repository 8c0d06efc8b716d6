/**
 * Clients that send their actors' inspection events to the console
 * (`consoleInspector` in `roomstate/inspect`): their connection, messaging
 * and presence actors, with the state each is in and the events it took.
 */
import { z } from 'zod';
import { activeStateIds } from '../../diagram/statechart.js';
import { MACHINES, machineNameById } from '../../diagram/machines.js';
import type { ClientActorView, InspectedClientView, InspectMessage, LogEntry } from '../../console/feed-protocol.js';

/** Events kept per client actor. */
export const CLIENT_LOG_LENGTH = 50;
/** Actors kept per client; a client with more (a huge room) shows its first ones. */
export const MAX_CLIENT_ACTORS = 2000;

const text = z.string().max(200);
const inspectMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('client'), name: text }),
  z.object({ type: z.literal('actor'), id: text, machine: text, label: text }),
  z.object({
    type: z.literal('snapshot'),
    id: text,
    event: text,
    // A state value: a name or nested names; bounded so that reading it stays shallow.
    value: z.unknown().refine((value) => JSON.stringify(value ?? null).length <= 2000, 'state value too large'),
    label: text,
    stopped: z.boolean(),
  }),
]);

/** Parses one inspector message; throws a readable error for anything else. */
export function parseInspectMessage(data: string): InspectMessage {
  const result = inspectMessage.safeParse(JSON.parse(data));
  if (!result.success) throw new Error(`invalid inspection message: ${z.prettifyError(result.error)}`);
  return result.data as InspectMessage;
}

interface Actor {
  readonly id: string;
  readonly machine: string;
  label: string;
  states: string[];
  readonly log: LogEntry[];
}

interface Client {
  name: string;
  readonly actors: Map<string, Actor>;
}

/** The inspected clients of one server. */
export class InspectedClients {
  private readonly clients = new Map<string, Client>();
  private next = 1;

  constructor(
    private readonly changed: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers a new inspector connection; returns its id. */
  add(): string {
    const id = `client-${this.next++}`;
    this.clients.set(id, { name: '', actors: new Map() });
    this.changed();
    return id;
  }

  /** Forgets a client (its inspector disconnected). */
  remove(id: string): void {
    if (this.clients.delete(id)) this.changed();
  }

  /** Applies one message from client `id`. */
  receive(id: string, message: InspectMessage): void {
    const client = this.clients.get(id);
    if (client === undefined) return;
    if (message.type === 'client') client.name = message.name;
    else if (message.type === 'actor') this.actor(client, message.id, message.machine, message.label);
    else {
      const actor = client.actors.get(message.id);
      if (actor === undefined) return;
      const rootId = MACHINES[actor.machine]!.id;
      actor.states = activeStateIds(rootId, message.value);
      actor.label = message.label;
      // A stopped actor (a presence actor whose participant left) is gone from the client too.
      if (message.stopped) client.actors.delete(message.id);
      actor.log.push({ at: this.now(), event: message.event, states: actor.states });
      if (actor.log.length > CLIENT_LOG_LENGTH) actor.log.shift();
    }
    this.changed();
  }

  /** Every client and its actors. */
  views(): InspectedClientView[] {
    return [...this.clients].map(([id, client]) => ({
      id,
      name: client.name,
      actors: [...client.actors.values()].map((actor): ClientActorView => ({ ...actor, log: [...actor.log] })),
    }));
  }

  private actor(client: Client, id: string, machineId: string, label: string): void {
    const machine = machineNameById(machineId);
    // Only roomstate's own machines can be drawn; other actors are ignored.
    if (machine === undefined || client.actors.has(id) || client.actors.size >= MAX_CLIENT_ACTORS) return;
    client.actors.set(id, { id, machine, label, states: [], log: [] });
  }
}
