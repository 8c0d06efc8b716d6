/**
 * Lays a {@link Statechart} out with ELK (elkjs, the Eclipse Layout Kernel's
 * layered algorithm): states are nodes, composite states hold their children,
 * transitions are edges with their labels placed by ELK. Nothing is placed by
 * hand; this module only sizes boxes for their text and converts ELK's
 * container-relative coordinates to absolute ones.
 */
import ElkBundled from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { transitionTrigger, type Statechart, type StatechartState, type StatechartTransition } from './statechart.js';

/** Width of one character of the diagrams' monospace font, at {@link FONT_SIZE}. */
const CHAR_WIDTH = 6.7;
/** Font size of the diagrams, in px. */
export const FONT_SIZE = 11;
const LINE_HEIGHT = 15;
const BOX_PADDING = 10;
const INITIAL_SIZE = 10;

/**
 * A point in absolute coordinates. The layout's own type, not elkjs's, so the
 * package's public declarations need nothing from elkjs.
 */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** A rectangle in absolute coordinates. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A state placed on the page. */
export interface PlacedState extends Box {
  readonly id: string;
  readonly state: StatechartState;
  /** The lines written in the box: the key, then the tags. */
  readonly lines: readonly string[];
  /** True when it holds children (drawn as a frame with its title on top). */
  readonly composite: boolean;
}

/** A transition (or an initial arrow) routed on the page. */
export interface PlacedEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** The transition it draws; undefined for the arrow from an initial dot. */
  readonly transition: StatechartTransition | undefined;
  /** What fires it (`event [guard]`); the actions are in {@link PlacedEdge.transition}. */
  readonly label: string;
  /** The route, start to end, in absolute coordinates. */
  readonly points: readonly Point[];
  readonly labelBox: Box | undefined;
}

/** A laid-out statechart. */
export interface StatechartLayout {
  readonly chart: Statechart;
  readonly width: number;
  readonly height: number;
  readonly states: readonly PlacedState[];
  /** Initial-state dots: their centres. */
  readonly initials: readonly Point[];
  readonly edges: readonly PlacedEdge[];
}

// elkjs is CommonJS whose typings declare an ES default export: under NodeNext the import is the constructor itself.
const Elk = ElkBundled as unknown as new () => ELK;
const elk = new Elk();

function textWidth(text: string): number {
  return Math.ceil(text.length * CHAR_WIDTH);
}

function linesOf(state: StatechartState): string[] {
  return state.tags.length === 0 ? [state.key] : [state.key, state.tags.map((tag) => `«${tag}»`).join(' ')];
}

const initialId = (id: string): string => `${id}#initial`;

function nodeOf(chart: Statechart, state: StatechartState): ElkNode {
  const lines = linesOf(state);
  const children = chart.states.filter((child) => child.parent === state.id).map((child) => nodeOf(chart, child));
  if (children.length === 0) {
    return {
      id: state.id,
      width: Math.max(60, ...lines.map(textWidth)) + 2 * BOX_PADDING,
      height: lines.length * LINE_HEIGHT + 2 * BOX_PADDING,
    };
  }
  if (state.initial !== null) children.unshift({ id: initialId(state.id), width: INITIAL_SIZE, height: INITIAL_SIZE });
  return {
    id: state.id,
    children,
    layoutOptions: { 'elk.padding': `[top=${lines.length * LINE_HEIGHT + 2 * BOX_PADDING},left=${BOX_PADDING},bottom=${BOX_PADDING},right=${BOX_PADDING}]` },
  };
}

function edgesOf(chart: Statechart): { edges: ElkExtendedEdge[]; transitions: Map<string, StatechartTransition> } {
  const edges: ElkExtendedEdge[] = [];
  const transitions = new Map<string, StatechartTransition>();
  for (const state of chart.states) {
    if (state.initial !== null) edges.push({ id: `${state.id}#start`, sources: [initialId(state.id)], targets: [state.initial] });
  }
  chart.transitions.forEach((transition, index) => {
    const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
    targets.forEach((target, n) => {
      const id = `t${index}.${n}`;
      const label = transitionTrigger(transition);
      transitions.set(id, transition);
      edges.push({
        id,
        sources: [transition.source],
        targets: [target],
        labels: [{ text: label, width: textWidth(label), height: LINE_HEIGHT }],
      });
    });
  });
  return { edges, transitions };
}

/** Absolute offsets of every laid-out node, by id. */
function offsets(node: ElkNode, x: number, y: number, into: Map<string, Point>): void {
  const nx = x + (node.x ?? 0);
  const ny = y + (node.y ?? 0);
  into.set(node.id, { x: nx, y: ny });
  for (const child of node.children ?? []) offsets(child, nx, ny, into);
}

function flatten(node: ElkNode, into: ElkNode[]): ElkNode[] {
  into.push(node);
  for (const child of node.children ?? []) flatten(child, into);
  return into;
}

/**
 * Lays a statechart out.
 *
 * @example
 * ```ts
 * const layout = await layoutStatechart(machineStatechart('connection')!);
 * layout.states.find((s) => s.id === 'connection.idle'); // { x, y, width, height, ... }
 * ```
 */
export async function layoutStatechart(chart: Statechart): Promise<StatechartLayout> {
  const { edges, transitions } = edgesOf(chart);
  const graph: ElkNode = {
    id: '#graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '30',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.inline': 'false',
      // Keep declaration order where the layering allows: the initial state comes first.
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
    },
    children: [nodeOf(chart, chart.states[0]!)],
    edges,
  };
  const laid = await elk.layout(graph);
  const origin = new Map<string, Point>();
  offsets(laid, -(laid.x ?? 0), -(laid.y ?? 0), origin);
  const byId = new Map(chart.states.map((state) => [state.id, state] as const));
  const states: PlacedState[] = [];
  const initials: Point[] = [];
  for (const node of flatten(laid, []).slice(1)) {
    const at = origin.get(node.id)!;
    const state = byId.get(node.id);
    if (state === undefined) {
      initials.push({ x: at.x + (node.width ?? 0) / 2, y: at.y + (node.height ?? 0) / 2 });
      continue;
    }
    states.push({ id: node.id, state, lines: linesOf(state), composite: (node.children?.length ?? 0) > 0, x: at.x, y: at.y, width: node.width ?? 0, height: node.height ?? 0 });
  }
  const placed: PlacedEdge[] = (laid.edges ?? []).map((edge) => {
    // ELK gives edge coordinates relative to the edge's container node.
    const base = origin.get((edge as { container?: string }).container ?? '#graph') ?? { x: 0, y: 0 };
    const shift = (point: Point): Point => ({ x: point.x + base.x, y: point.y + base.y });
    const points = (edge.sections ?? []).flatMap((section) => [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]).map(shift);
    const label = edge.labels?.[0];
    return {
      id: edge.id,
      source: edge.sources[0]!,
      target: edge.targets[0]!,
      transition: transitions.get(edge.id),
      label: label?.text ?? '',
      points,
      labelBox: label === undefined ? undefined : { ...shift({ x: label.x ?? 0, y: label.y ?? 0 }), width: label.width ?? 0, height: label.height ?? 0 },
    };
  });
  return { chart, width: laid.width ?? 0, height: laid.height ?? 0, states, initials, edges: placed };
}
