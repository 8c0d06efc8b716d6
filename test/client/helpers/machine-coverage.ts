/**
 * Transition coverage for statecharts, without I/O: @xstate/graph finds the
 * shortest path to every reachable state; each path is replayed on a real
 * actor (with a SimulatedClock, so no timer ever fires by itself), followed
 * by every event once; the actor's inspector records every transition
 * definition taken. The result lists the definitions never taken.
 */
import { getShortestPaths } from '@xstate/graph';
import { SimulatedClock, createActor, type AnyStateMachine, type AnyTransitionDefinition, type EventObject, type InspectionEvent } from 'xstate';

/** Every transition definition of a machine (event, delayed and eventless), with a readable label. */
export function transitionsOf(machine: AnyStateMachine): Map<AnyTransitionDefinition, string> {
  const all = new Map<AnyTransitionDefinition, string>();
  const label = (t: AnyTransitionDefinition): string => {
    const guard = t.guard === undefined ? '' : ` [${typeof t.guard === 'string' ? t.guard : ((t.guard as { type?: string }).type ?? 'inline')}]`;
    const targets = t.target?.map((n) => n.id).join(',') ?? '(self)';
    return `${t.source.id} --${t.eventType || 'always'}${guard}--> ${targets}`;
  };
  const walk = (node: AnyStateMachine['root']): void => {
    for (const definitions of node.transitions.values()) for (const t of definitions) all.set(t, label(t));
    for (const t of node.always ?? []) all.set(t, label(t));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return all;
}

/** Options of {@link coverTransitions}. */
export interface CoverOptions<TEvent extends EventObject> {
  /** The events to try in every state (include `xstate.after.*` events for delays). */
  events: readonly TEvent[];
  /** Inputs to traverse with (guards often depend on them). */
  inputs: readonly unknown[];
  /** Collapses snapshots into a finite set of states (drop counters, refs). */
  serializeState: (snapshot: ReturnType<AnyStateMachine['transition']>) => string;
}

/** Result of {@link coverTransitions}. */
export interface Coverage {
  /** Labels of transitions never taken. */
  readonly missing: string[];
  /** Number of distinct states reached. */
  readonly states: number;
  /** Number of transitions defined. */
  readonly total: number;
}

/** Replays shortest paths to every state, plus every event from each, and reports the transitions never taken. */
export function coverTransitions<TEvent extends EventObject>(machine: AnyStateMachine, options: CoverOptions<TEvent>): Coverage {
  const all = transitionsOf(machine);
  const taken = new Set<AnyTransitionDefinition>();
  const inspect = (event: InspectionEvent): void => {
    if (event.type === '@xstate.microstep') for (const t of event._transitions) taken.add(t);
  };
  let states = 0;
  for (const input of options.inputs) {
    const paths = getShortestPaths(machine, {
      events: options.events as never,
      input: input as never,
      serializeState: options.serializeState as never,
      serializeEvent: (event: EventObject) => JSON.stringify(event) as never,
    });
    states += paths.length;
    for (const path of paths) {
      const steps = path.steps.filter((step) => !step.event.type.startsWith('xstate.init'));
      for (const extra of [undefined, ...options.events]) {
        const actor = createActor(machine, { input: input as never, inspect, clock: new SimulatedClock() });
        actor.start();
        for (const step of steps) actor.send(step.event);
        if (extra !== undefined && actor.getSnapshot().status === 'active') actor.send(extra);
        actor.stop();
      }
    }
  }
  const missing = [...all].filter(([t]) => !taken.has(t)).map(([, label]) => label);
  return { missing, states, total: all.size };
}
