/**
 * A statechart on the page at a readable size: drawn at its own scale (100%,
 * labels at the diagrams' font size), never squeezed to the panel; the panel
 * scrolls, dragging pans it, and the toolbar zooms (−, +, 100%, fit). Until
 * the user pans or zooms, the view follows the current state. A page that
 * re-inserts the view (which resets an element's scrolling) calls
 * {@link DiagramView.reattached} to put it back.
 */
import { h, highlight } from './dom.js';

/** Zoom steps, as scales of the drawing. */
const ZOOM_STEP = 1.25;
const MIN_SCALE = 0.25;
const MAX_SCALE = 3;

function svgElement(svg: string): SVGSVGElement {
  const template = document.createElement('template');
  template.innerHTML = svg;
  return template.content.firstElementChild as SVGSVGElement;
}

/** One diagram with its zoom toolbar and scrolling viewport. */
export class DiagramView {
  /** The toolbar and the viewport, to insert into the page. */
  readonly element: HTMLElement;
  /** The drawing: states carry `data-state` for highlighting. */
  readonly svg: SVGSVGElement;
  private readonly viewport: HTMLElement;
  private readonly width: number;
  private readonly height: number;
  private scale = 1;
  /** False once the user moved the view: it stays where they put it. */
  private following = true;
  /** The scroll position last seen in the page, to restore after a re-insertion. */
  private scrolled = { left: 0, top: 0 };

  constructor(svg: string, id?: string) {
    this.svg = svgElement(svg);
    this.width = Number(this.svg.getAttribute('width'));
    this.height = Number(this.svg.getAttribute('height'));
    this.viewport = h('div', { class: 'diagram', ...(id === undefined ? {} : { id }) }, this.svg);
    const button = (text: string, title: string, action: () => void) => {
      const element = h('button', { type: 'button', title, 'data-zoom': text }, text);
      element.onclick = action;
      return element;
    };
    const zoom = h('span', { class: 'zoom-level' });
    const toolbar = h(
      'div',
      { class: 'diagram-toolbar' },
      button('−', 'zoom out', () => this.zoom(this.scale / ZOOM_STEP, false)),
      button('+', 'zoom in', () => this.zoom(this.scale * ZOOM_STEP, false)),
      button('100%', 'actual size', () => this.zoom(1, false)),
      button('fit', 'fit to the panel', () => this.zoom(this.viewport.clientWidth / this.width, false)),
      zoom,
    );
    this.element = h('div', { class: 'diagram-frame' }, toolbar, this.viewport);
    this.pannable();
    this.viewport.addEventListener('scroll', () => {
      if (this.viewport.isConnected) this.scrolled = { left: this.viewport.scrollLeft, top: this.viewport.scrollTop };
    });
    this.zoom(1);
  }

  /** The view was taken out of the page and put back (its scrolling reset): restores it, then follows the current state. */
  reattached(): void {
    this.viewport.scrollLeft = this.scrolled.left;
    this.viewport.scrollTop = this.scrolled.top;
    this.follow();
  }

  /** Marks `states` (ids) as current and, unless the user moved the view, brings the first into view. */
  highlight(states: readonly string[]): void {
    highlight(this.svg, states);
    this.follow();
  }

  /** Unless the user moved the view, scrolls the first current state into it. */
  private follow(): void {
    if (!this.following || !this.viewport.isConnected) return;
    const active = this.svg.querySelector('.rs-active:not(.rs-composite)') ?? this.svg.querySelector('.rs-active');
    if (active === null) return;
    const box = active.getBoundingClientRect();
    const view = this.viewport.getBoundingClientRect();
    const inside = box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom;
    if (inside) return;
    this.viewport.scrollLeft += box.left + box.width / 2 - (view.left + view.width / 2);
    this.viewport.scrollTop += box.top + box.height / 2 - (view.top + view.height / 2);
  }

  /** Draws at `scale` (1 = the diagram's own size); `follow` false when the user asked. */
  zoom(scale: number, follow = true): void {
    this.following &&= follow;
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    this.svg.setAttribute('width', String(Math.round(this.width * this.scale)));
    this.svg.setAttribute('height', String(Math.round(this.height * this.scale)));
    this.element.querySelector('.zoom-level')!.textContent = `${Math.round(this.scale * 100)}%`;
  }

  /** Dragging with the primary button scrolls the viewport. */
  private pannable(): void {
    const viewport = this.viewport;
    viewport.addEventListener('pointerdown', (down) => {
      if (down.button !== 0) return;
      this.following = false;
      const start = { x: down.clientX, y: down.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
      viewport.setPointerCapture(down.pointerId);
      viewport.classList.add('panning');
      const move = (event: PointerEvent) => {
        viewport.scrollLeft = start.left - (event.clientX - start.x);
        viewport.scrollTop = start.top - (event.clientY - start.y);
      };
      const up = () => {
        viewport.classList.remove('panning');
        viewport.removeEventListener('pointermove', move);
      };
      viewport.addEventListener('pointermove', move);
      viewport.addEventListener('pointerup', up, { once: true });
      viewport.addEventListener('pointercancel', up, { once: true });
    });
  }
}
