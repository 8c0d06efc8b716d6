/**
 * Statechart diagrams generated from roomstate's machines: a plain model
 * read from the XState definitions, Mermaid text, and SVG laid out by ELK.
 *
 * @packageDocumentation
 */
export { statechartOf, transitionLabel, transitionTrigger, activeStateIds } from './statechart.js';
export type { Statechart, StatechartState, StatechartTransition } from './statechart.js';
export { MACHINES, MACHINE_NAMES, machineStatechart, machineNameById } from './machines.js';
export { toMermaid } from './mermaid.js';
export { layoutStatechart } from './layout.js';
export type { StatechartLayout, PlacedState, PlacedEdge, Box, Point } from './layout.js';
export { toSvg, escapeXml } from './svg.js';
