/**
 * What the console page draws from the feed: the rooms table, the selected
 * participant's session statechart and event log, and the inspected
 * clients' actors. Diagrams are the server's SVG (ELK layout), inserted once
 * per panel; updates only move the highlight and append to logs.
 */
import type { ClientActorView, InspectedClientView, LogEntry, RoomView } from '../feed-protocol.js';
import { clock, compact, h } from './dom.js';
import { DiagramView } from './diagram-view.js';

/** Asks the feed for a machine's diagram and resolves with its SVG. */
export type DiagramSource = (machine: string) => Promise<string>;

function logLine(entry: LogEntry): HTMLElement {
  const leaves = entry.states.map((id) => id.slice(id.indexOf('.') + 1)).join(', ');
  return h('div', {}, `${clock(entry.at)}  ${entry.event}  → ${leaves}`);
}

/** JSON with a space after each comma and colon, so that it wraps between values (strings hold no raw newlines). */
function spacedJson(value: unknown): string {
  return (JSON.stringify(value, null, 1) ?? String(value)).replace(/\n\s*/g, ' ');
}

/** Attributes as key/value rows that wrap between words: strings as they are, other values as JSON. */
export function attributeRows(attributes: Readonly<Record<string, unknown>>): HTMLElement {
  const rows = Object.entries(attributes).map(([key, value]) => h('div', {}, h('dt', {}, key), h('dd', {}, typeof value === 'string' ? value : spacedJson(value))));
  return rows.length === 0 ? h('span', { class: 'muted attributes' }, 'none') : h('dl', { class: 'attributes' }, ...rows);
}

/** Renders the rooms and their participants into `root`; `selected` gets a highlight. */
export function renderRooms(root: HTMLElement, rooms: readonly RoomView[], selected: string | null): void {
  const sections = rooms.map((room) => {
    const rows = room.participants.map((p) =>
      h(
        'tr',
        { 'data-participant-id': p.id, 'data-enabled': String(p.enabled), 'data-detached': String(p.detached), class: p.id === selected ? 'selected' : '' },
        h('td', {}, p.name),
        h('td', {}, p.role),
        h('td', {}, h('code', {}, p.id)),
        // A resumable participant whose connection dropped is still in the room, waiting for its client.
        h('td', { class: 'messaging' }, `${p.enabled ? 'enabled' : 'disabled'}${p.detached ? ' · detached, resumable' : ''}`),
        h('td', {}, attributeRows(p.attributes)),
        h('td', {}, p.node ?? ''),
      ),
    );
    const rates = `${room.participants.length} connected · ${compact(room.messagesPerSecond)} msg/s · ${compact(room.bytesPerSecond)} B/s · ${compact(room.messages)} messages, ${compact(room.bytes)} B in total`;
    return h(
      'div',
      { 'data-room': room.name },
      h('h3', {}, `room ${room.name} `, h('span', { class: 'rates', 'data-messages': String(room.messages) }, rates)),
      h('table', {}, h('tr', {}, ...['name', 'role', 'id', 'messaging', 'attributes', 'node'].map((title) => h('th', {}, title))), ...rows),
    );
  });
  root.replaceChildren(...(sections.length > 0 ? sections : [h('p', { class: 'muted' }, 'No participants.')]));
}

/** The selected participant's panel: its session statechart and its log. */
export class SessionPanel {
  private participantId: string | null = null;
  private diagram: DiagramView | undefined;
  private states: readonly string[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly diagrams: DiagramSource,
  ) {
    root.replaceChildren(h('p', { class: 'muted' }, 'Select a participant to see its server-side session.'));
  }

  /** Shows participant `id`, now in `states` (its statechart; an empty log until the history arrives). */
  async select(id: string, title: string, states: readonly string[]): Promise<void> {
    this.participantId = id;
    this.states = states;
    this.diagram = undefined;
    const holder = h('div', { class: 'diagram-holder' });
    this.root.replaceChildren(h('h3', {}, `participant-session of ${title}`), holder, h('div', { class: 'log', id: 'session-log' }));
    const svg = await this.diagrams('participant-session');
    if (this.participantId !== id) return;
    this.diagram = new DiagramView(svg, 'session-diagram');
    holder.replaceChildren(this.diagram.element);
    this.diagram.highlight(this.states);
  }

  /** The participant's current states (from the rooms feed). */
  update(id: string, states: readonly string[]): void {
    if (id !== this.participantId) return;
    this.states = states;
    this.diagram?.highlight(states);
  }

  /**
   * Log entries for participant `id`; `reset` replaces the log. The newest
   * entry's states are the current ones: after the participant left (and so
   * is gone from the rooms), its final state is highlighted from here.
   */
  log(id: string, entries: readonly LogEntry[], reset: boolean): void {
    const log = this.root.querySelector('#session-log');
    if (id !== this.participantId || log === null) return;
    if (reset) log.replaceChildren();
    log.append(...entries.map(logLine));
    log.scrollTop = log.scrollHeight;
    const last = entries.at(-1);
    if (last !== undefined) this.update(id, last.states);
  }
}

/** The inspected clients: one card per actor, kept across updates. */
export class ClientsPanel {
  private readonly cards = new Map<string, { card: HTMLElement; diagram: DiagramView | undefined; log: HTMLElement; attributes: HTMLElement }>();

  constructor(
    private readonly root: HTMLElement,
    private readonly diagrams: DiagramSource,
  ) {}

  render(clients: readonly InspectedClientView[]): void {
    const seen = new Set<string>();
    const blocks = clients.map((client) => {
      const actors = client.actors.map((actor) => {
        const key = `${client.id}/${actor.id}`;
        seen.add(key);
        return this.card(key, actor);
      });
      return h('div', { 'data-client': client.id }, h('h3', {}, `client ${client.name || client.id}`), h('div', { class: 'actors' }, ...actors));
    });
    for (const key of [...this.cards.keys()]) if (!seen.has(key)) this.cards.delete(key);
    this.root.replaceChildren(h('h2', {}, 'Inspected clients'), ...(blocks.length > 0 ? blocks : [h('p', { class: 'muted' }, 'No client is using consoleInspector.')]));
    // Re-inserting a card resets its chart's scrolling: put each back on its current state (or where the user left it).
    for (const key of seen) this.cards.get(key)?.diagram?.reattached();
  }

  private card(key: string, actor: ClientActorView): HTMLElement {
    let entry = this.cards.get(key);
    if (entry === undefined) {
      const holder = h('div', { class: 'diagram-holder' });
      const log = h('div', { class: 'log' });
      const attributes = h('div', { class: 'actor-attributes' });
      const heading = h('h4', {}, h('span', { class: 'machine' }, actor.machine), ' ', h('span', { class: 'title' }), ' ', h('code', { class: 'label' }));
      const card = h('div', { class: 'actor', 'data-client-actor': actor.machine }, heading, attributes, holder, log);
      const created = { card, diagram: undefined as DiagramView | undefined, log, attributes };
      this.cards.set(key, created);
      void this.diagrams(actor.machine).then((svg) => {
        created.diagram = new DiagramView(svg);
        holder.replaceChildren(created.diagram.element);
        created.diagram.highlight(created.card.dataset.states?.split(' ') ?? []);
      });
      entry = created;
    }
    entry.card.dataset.states = actor.states.join(' ');
    // People are named by their name; the id stays beside it, smaller.
    entry.card.querySelector('.title')!.textContent = actor.title === '' ? '' : `of ${actor.title}`;
    entry.card.querySelector('.label')!.textContent = actor.label;
    if (actor.attributes === null) entry.attributes.replaceChildren();
    else entry.attributes.replaceChildren(attributeRows(actor.attributes));
    entry.diagram?.highlight(actor.states);
    entry.log.replaceChildren(...actor.log.slice(-8).map(logLine));
    return entry.card;
  }
}
