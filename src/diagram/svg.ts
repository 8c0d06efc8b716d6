/**
 * SVG from a {@link StatechartLayout}: rounded boxes for states (a frame with
 * a title for composite ones, a double border for final ones), dots for
 * initial states, orthogonal arrows with their trigger as label and the full
 * transition (actions included) as tooltip. Each state group carries
 * `data-state="<state id>"` so that the console can highlight the current
 * state with a class, without laying anything out again.
 */
import { FONT_SIZE, type PlacedEdge, type PlacedState, type Point, type StatechartLayout } from './layout.js';
import { transitionLabel } from './statechart.js';

const MARGIN = 8;

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = `
.rs-state rect{fill:#f8fafc;stroke:#475569;stroke-width:1.2}
.rs-state.rs-composite>rect{fill:#ffffff08;stroke-dasharray:none}
.rs-state.rs-final rect.rs-inner{fill:none}
.rs-state text{font:${FONT_SIZE}px ui-monospace,Menlo,Consolas,monospace;fill:#0f172a}
.rs-state text.rs-tags{fill:#64748b}
.rs-state.rs-active>rect{fill:#fde68a;stroke:#b45309;stroke-width:2.5}
.rs-edge path{fill:none;stroke:#64748b;stroke-width:1.1}
.rs-edge text{font:${FONT_SIZE - 1}px ui-monospace,Menlo,Consolas,monospace;fill:#334155}
.rs-initial{fill:#0f172a}
`;

function path(points: readonly Point[]): string {
  return points.map((point, i) => `${i === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(' ');
}

function stateSvg(state: PlacedState): string {
  const classes = ['rs-state', state.composite ? 'rs-composite' : '', state.state.type === 'final' ? 'rs-final' : ''].filter(Boolean).join(' ');
  const rect = `<rect x="${state.x}" y="${state.y}" width="${state.width}" height="${state.height}" rx="8"/>`;
  const inner =
    state.state.type === 'final'
      ? `<rect class="rs-inner" x="${state.x + 3}" y="${state.y + 3}" width="${state.width - 6}" height="${state.height - 6}" rx="6"/>`
      : '';
  const textX = state.composite ? state.x + 10 : state.x + state.width / 2;
  const anchor = state.composite ? 'start' : 'middle';
  const text = state.lines
    .map((line, i) => `<text ${i > 0 ? 'class="rs-tags" ' : ''}x="${textX}" y="${state.y + 10 + FONT_SIZE + i * 15}" text-anchor="${anchor}">${escapeXml(line)}</text>`)
    .join('');
  return `<g class="${classes}" data-state="${escapeXml(state.id)}"><title>${escapeXml(state.id)}</title>${rect}${inner}${text}</g>`;
}

function edgeSvg(edge: PlacedEdge): string {
  const title = edge.transition === undefined ? '' : `<title>${escapeXml(transitionLabel(edge.transition))}</title>`;
  const label =
    edge.labelBox === undefined
      ? ''
      : `<text x="${edge.labelBox.x}" y="${edge.labelBox.y + FONT_SIZE}">${escapeXml(edge.label)}</text>`;
  return `<g class="rs-edge" data-source="${escapeXml(edge.source)}" data-target="${escapeXml(edge.target)}">${title}<path d="${path(edge.points)}" marker-end="url(#rs-arrow)"/>${label}</g>`;
}

/**
 * Renders a laid-out statechart as a standalone SVG document.
 *
 * @example
 * ```ts
 * const svg = toSvg(await layoutStatechart(machineStatechart('presence')!));
 * ```
 */
export function toSvg(layout: StatechartLayout): string {
  const width = Math.ceil(layout.width + 2 * MARGIN);
  const height = Math.ceil(layout.height + 2 * MARGIN);
  // Outer states first, so that children and arrows are drawn over their frames.
  const states = layout.states.map(stateSvg).join('');
  const initials = layout.initials.map((point) => `<circle class="rs-initial" cx="${point.x}" cy="${point.y}" r="5"/>`).join('');
  const edges = layout.edges.map(edgeSvg).join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="rs-statechart" data-machine="${escapeXml(layout.chart.name)}" width="${width}" height="${height}" viewBox="${-MARGIN} ${-MARGIN} ${width} ${height}">`,
    `<style>${STYLE}</style>`,
    '<defs><marker id="rs-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>',
    states,
    initials,
    edges,
    '</svg>',
  ].join('\n');
}
