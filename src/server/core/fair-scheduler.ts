/**
 * Work-conserving fairness over identities (token names), per server: the
 * replacement of a per-connection handler-time budget, which paused a lone
 * sender even on an idle server.
 *
 * While the event loop keeps up, every frame is handled the moment it
 * arrives, as if there were no scheduler (it only reads the clock around
 * the handler). Once one turn of the loop has spent `sliceMs` handling
 * frames, the loop is congested: frames that arrive from then on are held
 * by their session, whose connection stops reading (so TCP slows the
 * sender), and a drain that runs after the loop's I/O serves the held work
 * in virtual-time order (self-clocked fair queuing): the identity that has
 * used the least server time goes first, so a light participant waits for
 * at most one slice and one request of a heavy one, however many
 * connections the heavy identity holds. A frame of an identity that would
 * be served before everything held (it used less than every identity in
 * the queue) is handled the moment it arrives even then, up to one slice
 * of such frames a turn: the order among identities is the same, and the
 * light one saves a turn of the loop.
 * The drain hands the loop back to
 * I/O after each slice; when nothing is held any more, frames are handled
 * inline again. Nothing is refused and nothing is dropped.
 *
 * A drain also hands the loop back before it turns from one identity to one
 * whose recent requests were long ({@link Flow.peakMs}) and would overrun
 * the slice: what the light identity's request wrote then leaves at once,
 * instead of after the heavy one's next request. A heavy identity's own
 * consecutive requests (its packets) still run back to back.
 */
import type { Clock } from './token-bucket.js';

/** How fast a flow's {@link Flow.peakMs} is forgotten once its requests get short again. */
const PEAK_HALF_LIFE_MS = 1000;

/** A session with held frames, as the scheduler serves it. */
export interface Schedulable {
  /** The identity it belongs to (from {@link FairScheduler.flow}). */
  readonly flow: Flow;
  /** Handles its oldest held frame; returns whether more are held. */
  step(): boolean;
}

/** One identity's share: its sessions with held frames and the server time it used. */
export class Flow {
  /** Virtual time: milliseconds of handling charged, offset to the server's virtual clock. */
  vtime = 0;
  /** Sessions with held frames, served round-robin. */
  readonly waiting: Schedulable[] = [];
  /** Index in the scheduler's heap, or -1 when nothing of it is held. */
  slot = -1;
  /** Sessions using this flow. */
  users = 0;
  /** The longest recent handling of one of its frames, in ms, halving every {@link PEAK_HALF_LIFE_MS}. */
  peakMs = 0;
  /** Clock time of the last {@link Flow.charge}. */
  private chargedAt = 0;

  /** Charges `cost` ms of handling that ended at clock time `now`. */
  charge(cost: number, now: number): void {
    this.vtime += cost;
    if (cost >= this.peakMs) {
      this.peakMs = cost;
      this.chargedAt = now;
      return;
    }
    // A shorter request only lets the peak decay. Decay is multiplicative, so it
    // may be applied late in one step: within a millisecond of the last it would
    // move the peak by under 0.07 %, and the power is left for later (most frames).
    const elapsed = now - this.chargedAt;
    if (elapsed < 1) return;
    this.peakMs = Math.max(cost, this.peakMs * 0.5 ** (elapsed / PEAK_HALF_LIFE_MS));
    this.chargedAt = now;
  }

  constructor(readonly identity: string) {}
}

/** Settings of a {@link FairScheduler}. */
export interface FairSchedulerOptions {
  /** Handling time in one turn before the loop counts as congested; `Infinity` turns the scheduler off. */
  readonly sliceMs: number;
  readonly clock: Clock;
  /** Runs a callback after the loop's pending I/O (setImmediate). */
  readonly defer?: (callback: () => void) => void;
  /** Runs before each drain: sends what the turn's I/O produced, so it does not wait behind the slice. */
  readonly beforeDrain?: () => void;
}

/** The server's scheduler of handling time (see the file comment). */
export class FairScheduler {
  private readonly flows = new Map<string, Flow>();
  /** Identities with held frames, a binary min-heap on `vtime`. */
  private readonly heap: Flow[] = [];
  /** The virtual clock: the start time of the flow served last. */
  private now = 0;
  /** Handling time spent inline in this turn. */
  private turnMs = 0;
  /** Of it, time spent on frames admitted while work was held: at most one slice a turn, so a congested turn stays bounded. */
  private admittedMs = 0;
  private turnArmed = false;
  /** Clock time the last timed inline handling ended: where a frame handled right after it starts. */
  private lastEnded = -Infinity;
  private draining = false;
  private readonly sliceMs: number;
  private readonly clock: Clock;
  private readonly defer: (callback: () => void) => void;
  private readonly beforeDrain: () => void;

  constructor(options: FairSchedulerOptions) {
    this.sliceMs = options.sliceMs;
    this.clock = options.clock;
    this.defer = options.defer ?? ((callback) => void setImmediate(callback));
    this.beforeDrain = options.beforeDrain ?? (() => undefined);
  }

  /** The flow of `identity`; call {@link FairScheduler.release} when the session ends. */
  flow(identity: string): Flow {
    let flow = this.flows.get(identity);
    if (flow === undefined) this.flows.set(identity, (flow = new Flow(identity)));
    flow.users++;
    return flow;
  }

  /** Forgets a session's use of its flow (the flow goes once nobody uses it and nothing is held). */
  release(flow: Flow): void {
    if (--flow.users <= 0 && flow.slot === -1) this.flows.delete(flow.identity);
  }

  /** True when a frame may be handled at once: the loop is not congested and nothing is held. */
  get open(): boolean {
    return this.heap.length === 0 && this.turnMs < this.sliceMs;
  }

  /**
   * Whether a frame of `flow`, which holds nothing, may be handled at once:
   * when the loop is {@link FairScheduler.open}, or when held work is
   * waiting but `flow` would be served before all of it anyway (it used
   * less server time than every identity in the queue). Handling it now
   * rather than at the head of the next drain changes no order among
   * identities; it only saves a light identity a turn of the loop.
   */
  admits(flow: Flow): boolean {
    if (this.open) return true;
    if (this.heap.length === 0 || flow.slot !== -1 || this.admittedMs >= this.sliceMs) return false;
    return this.startTime(flow) < this.heap[0].vtime;
  }

  /** The virtual time `flow` starts at when it joins the queue. */
  private startTime(flow: Flow): number {
    // A flow that worked inline while others were idle starts at most one slice behind the others.
    return Math.min(Math.max(flow.vtime, this.now), this.now + this.sliceMs);
  }

  /** Number of identities with held frames. */
  get backlogged(): number {
    return this.heap.length;
  }

  /**
   * Runs `handle(frame)` for `flow` now and charges the time it took (to the
   * flow and to this turn). Handling starts at `arrivedAt`, when the caller
   * knows when the frame's bytes arrived, or where the previous inline
   * handling ended, whichever is later: the frames of one socket read are
   * handled back to back, so each is charged from the end of the one before
   * with one clock read apiece. Without `arrivedAt` the clock is read first.
   * A handler that returns false did nothing worth a clock read (a frame
   * that only began a message): its time goes to the next frame timed.
   */
  runInline<T>(flow: Flow, handle: (frame: T) => boolean, frame: T, arrivedAt?: number): void {
    if (!Number.isFinite(this.sliceMs)) {
      handle(frame);
      return;
    }
    const admitted = this.heap.length > 0;
    if (admitted) flow.vtime = this.startTime(flow);
    const start = arrivedAt === undefined ? this.clock() : Math.max(arrivedAt, this.lastEnded);
    let timed = true;
    try {
      timed = handle(frame);
    } finally {
      if (timed) {
        const ended = this.clock();
        this.lastEnded = ended;
        const cost = ended - start;
        flow.charge(cost, ended);
        this.turnMs += cost;
        if (admitted) this.admittedMs += cost;
      }
      if (!this.turnArmed) {
        this.turnArmed = true;
        this.defer(this.turnEnded);
      }
    }
  }

  /** `session` now holds frames: serve it when its identity's turn comes. */
  enqueue(session: Schedulable): void {
    const flow = session.flow;
    flow.waiting.push(session);
    if (flow.slot !== -1) return;
    flow.vtime = this.startTime(flow);
    this.push(flow);
    this.scheduleDrain();
  }

  private readonly turnEnded = (): void => {
    this.turnArmed = false;
    this.turnMs = 0;
    this.admittedMs = 0;
  };

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    this.defer(this.drain);
  }

  /** Serves held work, least virtual time first, for one slice; then yields to I/O. */
  private readonly drain = (): void => {
    this.draining = false;
    this.beforeDrain();
    const started = this.clock();
    let elapsed = 0;
    let previous: Flow | undefined;
    while (this.heap.length > 0 && elapsed < this.sliceMs) {
      const flow = this.heap[0];
      // Turning to a heavy identity: let the light one's writes go first (see the file comment).
      if (previous !== undefined && flow !== previous && elapsed + flow.peakMs > this.sliceMs) break;
      previous = flow;
      this.now = flow.vtime;
      const session = flow.waiting.shift()!;
      const before = this.clock();
      let more = false;
      try {
        more = session.step();
      } finally {
        const after = this.clock();
        flow.charge(after - before, after);
        elapsed = after - started;
        if (more) flow.waiting.push(session);
        if (flow.waiting.length === 0) {
          this.pop();
          if (flow.users <= 0) this.flows.delete(flow.identity);
        } else this.siftDown(0);
      }
    }
    // The drain's own time counts against the turn, so frames arriving now queue behind the held ones.
    this.turnMs = Math.max(this.turnMs, elapsed);
    if (!this.turnArmed) {
      this.turnArmed = true;
      this.defer(this.turnEnded);
    }
    if (this.heap.length > 0) this.scheduleDrain();
  };

  private push(flow: Flow): void {
    flow.slot = this.heap.length;
    this.heap.push(flow);
    this.siftUp(flow.slot);
  }

  private pop(): void {
    const top = this.heap[0];
    const last = this.heap.pop()!;
    top.slot = -1;
    if (last !== top) {
      this.heap[0] = last;
      last.slot = 0;
      this.siftDown(0);
    }
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const flow = heap[index];
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent].vtime <= flow.vtime) break;
      heap[index] = heap[parent];
      heap[index].slot = index;
      index = parent;
    }
    heap[index] = flow;
    flow.slot = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const flow = heap[index];
    const length = heap.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && heap[child + 1].vtime < heap[child].vtime) child++;
      if (heap[child].vtime >= flow.vtime) break;
      heap[index] = heap[child];
      heap[index].slot = index;
      index = child;
    }
    heap[index] = flow;
    flow.slot = index;
  }
}
