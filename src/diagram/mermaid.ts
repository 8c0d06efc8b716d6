/**
 * Mermaid `stateDiagram-v2` text from a {@link Statechart}.
 *
 * Mermaid ids are global, so nested states get their path (`reconnecting_waiting`)
 * as id and their key (plus tags) as label. Each transition is written in the
 * innermost composite that holds both ends. Mermaid has no transition on a
 * whole diagram, so one declared on the root is drawn from each top-level
 * state (what it means: it fires from any of them).
 */
import { transitionLabel, type Statechart, type StatechartState, type StatechartTransition } from './statechart.js';

const INDENT = '  ';

/** The Mermaid id of a state: its path below the root, joined with `_`. */
function mermaidId(chart: Statechart, id: string): string {
  return id.slice(chart.id.length + 1).replaceAll('.', '_');
}

function stateLabel(state: StatechartState): string {
  return state.tags.length === 0 ? state.key : `${state.key} (tags: ${state.tags.join(', ')})`;
}

/** The state ids from the root down to `id`. */
function lineage(chart: Statechart, id: string): string[] {
  const byId = new Map(chart.states.map((state) => [state.id, state] as const));
  const path: string[] = [];
  for (let at: string | null = id; at !== null; at = byId.get(at)?.parent ?? null) path.unshift(at);
  return path;
}

/** One drawn edge: its ends and the composite it is written in. */
interface Edge {
  readonly scope: string;
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

function edgesOf(chart: Statechart, transition: StatechartTransition): Edge[] {
  const label = transitionLabel(transition);
  const source = chart.states.find((state) => state.id === transition.source)!;
  const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
  const edges: Edge[] = [];
  for (const target of targets) {
    const from = lineage(chart, transition.source);
    const to = lineage(chart, target);
    if (to.length > from.length && to[from.length - 1] === transition.source) {
      // Declared on an ancestor of its target: it fires from each child of the source.
      for (const child of chart.states) {
        if (child.parent !== source.id || child.type === 'final') continue;
        edges.push(...edgesOf(chart, { ...transition, source: child.id, targets: [target] }));
      }
      continue;
    }
    let common = 0;
    while (common < from.length - 1 && common < to.length - 1 && from[common] === to[common]) common++;
    edges.push({ scope: from[common - 1]!, from: transition.source, to: target, label });
  }
  return edges;
}

/**
 * Renders a statechart as a Mermaid `stateDiagram-v2` block (without the fences).
 *
 * @example
 * ```ts
 * console.log(toMermaid(machineStatechart('presence')!));
 * ```
 */
export function toMermaid(chart: Statechart): string {
  const edges = chart.transitions.flatMap((transition) => edgesOf(chart, transition));
  const lines = ['stateDiagram-v2'];
  const write = (scope: StatechartState, depth: number): void => {
    const pad = INDENT.repeat(depth);
    const children = chart.states.filter((state) => state.parent === scope.id);
    for (const child of children) {
      lines.push(`${pad}state "${stateLabel(child)}" as ${mermaidId(chart, child.id)}`);
      if (child.type === 'compound' || child.type === 'parallel') {
        lines.push(`${pad}state ${mermaidId(chart, child.id)} {`);
        write(child, depth + 1);
        lines.push(`${pad}}`);
      }
    }
    if (scope.initial !== null) lines.push(`${pad}[*] --> ${mermaidId(chart, scope.initial)}`);
    for (const edge of edges) {
      if (edge.scope === scope.id) lines.push(`${pad}${mermaidId(chart, edge.from)} --> ${mermaidId(chart, edge.to)}: ${edge.label}`);
    }
    for (const child of children) {
      if (child.type === 'final') lines.push(`${pad}${mermaidId(chart, child.id)} --> [*]`);
    }
  };
  write(chart.states[0]!, 1);
  return lines.join('\n');
}
