/**
 * The ELK layout places every state inside its parent, siblings apart, and
 * routes every transition.
 */
import { describe, expect, it } from 'vitest';
import { MACHINE_NAMES, layoutStatechart, machineStatechart, type Box } from '../../src/diagram/index.js';

const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
const apart = (a: Box, b: Box) => a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;

describe('layoutStatechart', () => {
  it.each(MACHINE_NAMES)('%s: states nest and do not overlap; every transition is routed', async (name) => {
    const chart = machineStatechart(name)!;
    const layout = await layoutStatechart(chart);
    const byId = new Map(layout.states.map((state) => [state.id, state] as const));
    expect([...byId.keys()].sort()).toEqual(chart.states.map((state) => state.id).sort());
    for (const state of layout.states) {
      expect(state.width).toBeGreaterThan(0);
      const parent = state.state.parent === null ? undefined : byId.get(state.state.parent);
      if (parent) expect(inside(state, parent)).toBe(true);
      for (const other of layout.states) {
        if (other !== state && other.state.parent === state.state.parent) expect(apart(state, other)).toBe(true);
      }
    }
    const routed = layout.edges.filter((edge) => edge.transition !== undefined);
    const expected = chart.transitions.reduce((n, t) => n + Math.max(1, t.targets.length), 0);
    expect(routed).toHaveLength(expected);
    for (const edge of layout.edges) expect(edge.points.length).toBeGreaterThanOrEqual(2);
  });
});
