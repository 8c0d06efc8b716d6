/**
 * A plain, serialisable description of a statechart, read from an XState v5
 * machine's `root` state node: every state (nested and final), every
 * transition with its event, guard, delay and actions, and tags. The Mermaid,
 * JSON and SVG outputs are all drawn from it, so nothing is written by hand.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** One state of a {@link Statechart}. */
export interface StatechartState {
  /** The XState id, e.g. `connection.reconnecting.waiting`; unique in the chart. */
  readonly id: string;
  /** The state's key within its parent, e.g. `waiting`. */
  readonly key: string;
  /** The parent state's id; `null` for the root. */
  readonly parent: string | null;
  /** `atomic`, `compound`, `parallel`, `final` or `history`. */
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** The initial child's id, for compound states. */
  readonly initial: string | null;
  /** Tags: what the state permits. */
  readonly tags: readonly string[];
  /** Named entry actions. */
  readonly entry: readonly string[];
  /** Named exit actions. */
  readonly exit: readonly string[];
}

/** One transition of a {@link Statechart}. */
export interface StatechartTransition {
  /** The id of the state that declares it. */
  readonly source: string;
  /** Target state ids; empty for a targetless transition (actions only, the state stays). */
  readonly targets: readonly string[];
  /** `event` (an `on` entry), `after` (a named delay) or `always` (eventless). */
  readonly kind: 'event' | 'after' | 'always';
  /** The event name for `event`; the delay name (or milliseconds) for `after`; `always` for `always`. */
  readonly event: string;
  /** The named guard, if any. */
  readonly guard: string | null;
  /** Named actions, in order. */
  readonly actions: readonly string[];
}

/** A whole machine: its states (root first, parents before children) and transitions. */
export interface Statechart {
  /** The name the CLI knows it by, e.g. `participant-session`. */
  readonly name: string;
  /** The root state's id (the machine id). */
  readonly id: string;
  readonly states: readonly StatechartState[];
  readonly transitions: readonly StatechartTransition[];
}

interface TransitionLike {
  readonly target?: readonly AnyStateNode[] | undefined;
  readonly guard?: unknown;
  readonly actions?: readonly unknown[];
}

/** The name of a named action/guard (`'x'` or `{ type: 'x' }`); null for inline functions and XState internals. */
function nameOf(item: unknown): string | null {
  const name = typeof item === 'string' ? item : typeof (item as { type?: unknown })?.type === 'string' && typeof item === 'object' ? (item as { type: string }).type : null;
  return name === null || name.startsWith('xstate.') ? null : name;
}

function names(items: readonly unknown[] | undefined): string[] {
  return (items ?? []).map(nameOf).filter((name): name is string => name !== null);
}

function transitionOf(source: AnyStateNode, kind: StatechartTransition['kind'], event: string, definition: TransitionLike): StatechartTransition {
  const guard = definition.guard === undefined ? null : (nameOf(definition.guard) ?? 'inline guard');
  return {
    source: source.id,
    targets: (definition.target ?? []).map((target) => target.id),
    kind,
    event,
    guard,
    actions: names(definition.actions),
  };
}

function transitionsOf(node: AnyStateNode): StatechartTransition[] {
  const delayed = new Set<string>(node.after.map((after) => after.eventType));
  const result: StatechartTransition[] = [];
  for (const [event, definitions] of node.transitions) {
    if (delayed.has(event)) continue;
    for (const definition of definitions) result.push(transitionOf(node, 'event', event, definition));
  }
  for (const after of node.after) result.push(transitionOf(node, 'after', String(after.delay), after));
  for (const always of node.always ?? []) result.push(transitionOf(node, 'always', 'always', always));
  return result;
}

/**
 * Reads a machine's statechart by walking its state nodes.
 *
 * @example
 * ```ts
 * const chart = statechartOf('participant-session', participantSessionMachine);
 * chart.states.map((state) => state.id); // ['participantSession', 'participantSession.connected', ...]
 * ```
 */
export function statechartOf(name: string, machine: AnyStateMachine): Statechart {
  const states: StatechartState[] = [];
  const transitions: StatechartTransition[] = [];
  const visit = (node: AnyStateNode): void => {
    const children = Object.values(node.states) as AnyStateNode[];
    const initial = children.length > 0 && node.type === 'compound' ? (node.initial.target[0]?.id ?? null) : null;
    states.push({
      id: node.id,
      key: node.key,
      parent: node.parent?.id ?? null,
      type: node.type,
      initial,
      tags: [...node.tags],
      entry: names(node.entry),
      exit: names(node.exit),
    });
    transitions.push(...transitionsOf(node));
    for (const child of children) visit(child);
  };
  visit(machine.root);
  return { name, id: machine.root.id, states, transitions };
}

/** What fires a transition: `event [guard]`, `after delay [guard]` or `always [guard]`. */
export function transitionTrigger(transition: StatechartTransition): string {
  const trigger = transition.kind === 'after' ? `after ${transition.event}` : transition.event;
  return transition.guard === null ? trigger : `${trigger} [${transition.guard}]`;
}

/** The full label of a transition: `event [guard] / action, action`. */
export function transitionLabel(transition: StatechartTransition): string {
  const trigger = transitionTrigger(transition);
  return transition.actions.length === 0 ? trigger : `${trigger} / ${transition.actions.join(', ')}`;
}

/**
 * The ids of the active leaf states of a state value (`{ connected: 'enabled' }`
 * under root `participantSession` gives `['participantSession.connected.enabled']`).
 */
export function activeStateIds(rootId: string, value: unknown): string[] {
  if (typeof value === 'string') return [`${rootId}.${value}`];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
    const id = `${rootId}.${key}`;
    const below = activeStateIds(id, child);
    return below.length === 0 ? [id] : below;
  });
}
