/**
 * The closed-loop engine behind the throughput workloads. Each sender keeps a
 * window of messages in flight; a message leaves the window once it has been
 * acknowledged (where the protocol acknowledges) and delivered to every
 * receiver it was meant for. Waiting for delivery as well as the
 * acknowledgement bounds the backlog in the server's socket buffers, so
 * latency measures the system, not an ever-growing queue.
 */
import { LatencyHistogram } from '../histogram.js';
import { cpuFigures, type CpuFigures, type Phases, type ThroughputResult } from '../ipc.js';
import { now, type BenchBody } from '../drivers/types.js';
import { delay } from './common.js';

/** Counts deliveries and latency, only during the measured phase. */
export class ThroughputMeter {
  running = true;
  measuring = false;
  measureStart = Infinity;
  measureEnd = Infinity;
  deliveries = 0;
  bytes = 0;
  sent = 0;
  errors = 0;
  firstError: string | undefined;
  readonly latency = new LatencyHistogram();

  /** Records one delivery of `body` carrying `bytes` of payload. */
  delivered(body: BenchBody, bytes: number): void {
    const t = now();
    if (this.measuring) {
      this.deliveries++;
      this.bytes += bytes;
    }
    if (body.t >= this.measureStart && body.t < this.measureEnd) this.latency.record(t - body.t);
  }

  /** Records a failure without stopping the run. */
  fail(error: unknown): void {
    this.errors++;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }
}

/** One sender's window of in-flight messages. */
export class WindowedSender {
  private readonly inflight = new Map<number, number>();
  private seq = 0;
  private idle: (() => void) | undefined;

  constructor(
    private readonly meter: ThroughputMeter,
    private readonly window: number,
    /** Deliveries each message must reach before it leaves the window. */
    private readonly fanout: number,
    private readonly acknowledged: boolean,
    private readonly padding: string,
    private readonly issue: (body: BenchBody) => Promise<void> | undefined,
  ) {}

  /** Fills the window. */
  start(): void {
    for (let i = 0; i < this.window; i++) this.next();
  }

  /** A receiver got message `seq`. */
  delivered(seq: number): void {
    this.settle(seq, 1);
  }

  /** Resolves once nothing is in flight. */
  drained(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  private next(): void {
    if (!this.meter.running) {
      if (this.inflight.size === 0) this.idle?.();
      return;
    }
    const seq = this.seq++;
    this.inflight.set(seq, this.fanout + (this.acknowledged ? 1 : 0));
    this.meter.sent++;
    let ack: Promise<void> | undefined;
    try {
      ack = this.issue({ s: seq, t: now(), p: this.padding });
    } catch (error) {
      this.meter.fail(error);
      this.settle(seq, Infinity);
      return;
    }
    ack?.then(
      () => this.settle(seq, 1),
      (error: unknown) => {
        this.meter.fail(error);
        this.settle(seq, Infinity);
      },
    );
  }

  private settle(seq: number, count: number): void {
    const left = this.inflight.get(seq);
    if (left === undefined) return;
    if (left - count > 0) {
      this.inflight.set(seq, left - count);
      return;
    }
    this.inflight.delete(seq);
    // A failed send is not replaced straight away in the same tick, to avoid a hot loop of failures.
    if (count === Infinity) setImmediate(() => this.next());
    else this.next();
  }
}

/**
 * Waits out the warm-up, then measures `meter` for `measureMs`, telling the
 * orchestrator (`mark`) when measuring starts and stops; returns the
 * generator's CPU time over the measured phase.
 */
export async function measure(
  meter: ThroughputMeter,
  phases: { readonly warmupMs: number; readonly measureMs: number },
  mark: (name: 'measure-start' | 'measure-end') => void,
): Promise<CpuFigures> {
  await delay(phases.warmupMs);
  mark('measure-start');
  const cpuStart = cpuFigures();
  meter.measureStart = now();
  meter.measuring = true;
  await delay(phases.measureMs);
  meter.measuring = false;
  meter.measureEnd = now();
  const cpuEnd = cpuFigures();
  mark('measure-end');
  return { userMs: cpuEnd.userMs - cpuStart.userMs, systemMs: cpuEnd.systemMs - cpuStart.systemMs };
}

/**
 * Runs warm-up, measurement and drain over started senders, and reports.
 * `mark` tells the orchestrator when measuring starts and stops, so it can
 * sample the server's CPU time over the same interval.
 */
export async function runPhases(
  meter: ThroughputMeter,
  senders: readonly WindowedSender[],
  phases: Phases,
  mark: (name: 'measure-start' | 'measure-end') => void,
): Promise<ThroughputResult> {
  for (const sender of senders) sender.start();
  const generatorCpu = await measure(meter, phases, mark);
  meter.running = false;
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    Promise.all(senders.map((s) => s.drained())).then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), phases.drainMs))),
  ]);
  clearTimeout(timer);
  if (meter.deliveries === 0) {
    throw new Error(`no message was delivered during the measured phase${meter.firstError ? `; first error: ${meter.firstError}` : ''}`);
  }
  return {
    kind: 'throughput',
    deliveries: meter.deliveries,
    bytes: meter.bytes,
    durationMs: meter.measureEnd - meter.measureStart,
    latency: meter.latency.toData(),
    sent: meter.sent,
    errors: meter.errors,
    ...(meter.firstError === undefined ? {} : { firstError: meter.firstError }),
    drained,
    generatorCpu,
  };
}
