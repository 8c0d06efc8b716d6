/**
 * A small mergeable latency histogram. Values are bucketed on a log scale
 * (about 1% wide), so percentiles from several generator processes can be
 * merged exactly by summing bucket counts sent over IPC.
 */

/** Buckets per e-fold of the value in microseconds: about 1% resolution. */
const SCALE = 100;
/** Enough buckets for values up to e^(2048/100) µs, about 770 s. */
const BUCKETS = 2048;

/** The serialisable form of a {@link LatencyHistogram}, for IPC and JSON. */
export interface HistogramData {
  /** Sparse bucket counts as `[bucketIndex, count]` pairs. */
  readonly buckets: ReadonlyArray<readonly [number, number]>;
  readonly count: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly sumMs: number;
}

function bucketOf(ms: number): number {
  const us = ms * 1000;
  if (!(us > 1)) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log(us) * SCALE));
}

function valueOf(bucket: number): number {
  // Geometric middle of the bucket, back in milliseconds.
  return Math.exp((bucket + 0.5) / SCALE) / 1000;
}

/** Records latencies in milliseconds and answers percentiles. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private min = Infinity;
  private max = 0;
  private sum = 0;

  /** Records one latency in milliseconds. Negative values (clock skew) count as 0. */
  record(ms: number): void {
    const value = ms > 0 ? ms : 0;
    this.counts[bucketOf(value)]++;
    this.total++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.total;
  }

  /** The value at percentile `p` (0..100) in milliseconds, or `undefined` when empty. */
  percentile(p: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, valueOf(i)));
    }
    return this.max;
  }

  /** Mean in milliseconds, or `undefined` when empty. */
  mean(): number | undefined {
    return this.total === 0 ? undefined : this.sum / this.total;
  }

  /** Adds another histogram's counts to this one. */
  merge(data: HistogramData): void {
    for (const [bucket, count] of data.buckets) this.counts[bucket] += count;
    this.total += data.count;
    this.sum += data.sumMs;
    if (data.count > 0) {
      this.min = Math.min(this.min, data.minMs);
      this.max = Math.max(this.max, data.maxMs);
    }
  }

  /** The serialisable form. */
  toData(): HistogramData {
    const buckets: Array<readonly [number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { buckets, count: this.total, minMs: this.total ? this.min : 0, maxMs: this.max, sumMs: this.sum };
  }

  /** Builds a histogram from serialised parts. */
  static from(parts: Iterable<HistogramData>): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const part of parts) histogram.merge(part);
    return histogram;
  }
}

/** The median of some numbers, or `undefined` for none. */
export function median(values: readonly number[]): number | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
