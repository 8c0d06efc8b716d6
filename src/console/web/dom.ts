/**
 * Small DOM helpers for the console page: element creation with text only
 * (never HTML from the server, except the diagrams' SVG, which the server
 * renders and escapes), and state highlighting in a diagram.
 */

/** Creates an element with attributes and children (strings become text nodes). */
export function h(tag: string, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Marks the states in `active` (ids) as current in a diagram element; clears the rest. */
export function highlight(diagram: Element, active: readonly string[]): void {
  const wanted = new Set(active);
  for (const group of diagram.querySelectorAll('[data-state]')) {
    group.classList.toggle('rs-active', wanted.has(group.getAttribute('data-state') ?? ''));
  }
}

/** A number with a unit suffix for rates and sizes: 1.2k, 3.4M. */
export function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** A log time: hh:mm:ss.mmm local time. */
export function clock(at: number): string {
  const date = new Date(at);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
