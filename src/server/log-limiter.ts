/**
 * Log lines that a client can cause, kept to a small rate: every line about
 * a connection or an upgrade is charged to its source (the client's address)
 * and to the server as a whole; what goes over either budget is not written
 * but counted (`roomstate_log_lines_suppressed_total`) and summarised in one
 * line per {@link LOG_SUMMARY_INTERVAL_MS}. Client-chosen strings (names,
 * room names, close reasons) go into log fields through {@link logText}, so
 * one line stays short whatever a client sent.
 */
import type { LevelWithSilent, LogFn, Logger } from 'pino';
import { monotonicClock, realTimers, type Clock, type Timers } from './core/token-bucket.js';

/** Longest client-chosen string written into a log field, in characters. */
export const MAX_LOGGED_TEXT = 64;
/** Lines one source may write at once before its rate applies. */
export const LOG_BURST_PER_SOURCE = 20;
/** Lines per second one source may write, sustained. */
export const LOG_LINES_PER_SOURCE_PER_SECOND = 2;
/** Lines the server writes for all sources together at once before its rate applies. */
export const LOG_BURST_PER_SERVER = 400;
/** Lines per second the server writes for all sources together, sustained. */
export const LOG_LINES_PER_SERVER_PER_SECOND = 50;
/** How often suppressed lines are summarised, in ms. */
export const LOG_SUMMARY_INTERVAL_MS = 10_000;
/** Sources tracked at once; beyond them new sources share the server budget only. */
const MAX_SOURCES = 10_000;

/** A client-chosen string as it may appear in a log field: at most {@link MAX_LOGGED_TEXT} characters, with how many were cut. */
export function logText(value: string): string {
  if (value.length <= MAX_LOGGED_TEXT) return value;
  return `${value.slice(0, MAX_LOGGED_TEXT)}…(${value.length} chars)`;
}

/** A token bucket that refuses instead of going into debt. */
class LineBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {
    this.tokens = capacity;
    this.last = clock();
  }

  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** True when the budget is whole again (the source can be forgotten). */
  full(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.clock();
    if (now > this.last) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
  }
}

/** Options of a {@link LogLimiter}. */
export interface LogLimiterOptions {
  /** Where the summaries go (ungated). */
  readonly logger: Logger;
  /** Called once per suppressed line (the metric). */
  readonly suppressed?: () => void;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const satisfies readonly Exclude<LevelWithSilent, 'silent'>[];

/** The log budgets of one server. */
export class LogLimiter {
  private readonly sources = new Map<string, LineBudget>();
  private readonly server: LineBudget;
  private readonly clock: Clock;
  private readonly timers: Timers;
  /** Lines suppressed since the last summary, by source. */
  private readonly counts = new Map<string, number>();
  private summary: unknown;
  private sweptAt = -Infinity;

  constructor(private readonly options: LogLimiterOptions) {
    this.clock = options.clock ?? monotonicClock;
    this.timers = options.timers ?? realTimers;
    this.server = new LineBudget(LOG_LINES_PER_SERVER_PER_SECOND, LOG_BURST_PER_SERVER, this.clock);
  }

  /** Whether `source` may write one more line now; a refusal is counted and summarised later. */
  allow(source: string): boolean {
    let budget = this.sources.get(source);
    if (budget === undefined && this.sources.size >= MAX_SOURCES) this.forgetIdle();
    if (budget === undefined && this.sources.size < MAX_SOURCES) {
      budget = new LineBudget(LOG_LINES_PER_SOURCE_PER_SECOND, LOG_BURST_PER_SOURCE, this.clock);
      this.sources.set(source, budget);
    }
    if ((budget === undefined || budget.take()) && this.server.take()) return true;
    this.counts.set(source, (this.counts.get(source) ?? 0) + 1);
    this.options.suppressed?.();
    this.summary ??= this.timers.setTimeout(() => this.summarise(), LOG_SUMMARY_INTERVAL_MS);
    return false;
  }

  /**
   * `logger` with every level charged to `source`: a line over budget is not
   * written. Children of the result are not gated; gate each logger you hand out.
   */
  gate(logger: Logger, source: string): Logger {
    const gated = Object.create(logger) as Logger;
    for (const level of LEVELS) {
      const write = logger[level].bind(logger) as (...args: unknown[]) => void;
      // Only lines the level lets through spend the budget.
      gated[level] = ((...args: unknown[]) => {
        if (logger.isLevelEnabled(level) && this.allow(source)) write(...args);
      }) as LogFn;
    }
    return gated;
  }

  /**
   * The log of one connection: every line carries the room and the
   * participant's name and is charged to `source`. Unlike a pino child
   * (several objects, closures and hidden classes a connection), it holds four
   * references; a thousand idle connections cost a thousand small objects.
   */
  connectionLog(logger: Logger, source: string, room: string, participantName: string): ConnectionLog {
    return new ConnectionLog(this, logger, source, logText(room), logText(participantName));
  }

  /** Stops the summary timer (writing what is pending). */
  close(): void {
    if (this.summary !== undefined) this.summarise();
  }

  /** Forgets the sources whose budget is whole again (at most once a second). */
  private forgetIdle(): void {
    const now = this.clock();
    if (now - this.sweptAt < 1000) return;
    this.sweptAt = now;
    for (const [source, budget] of this.sources) if (budget.full()) this.sources.delete(source);
  }

  private summarise(): void {
    this.timers.clearTimeout(this.summary);
    this.summary = undefined;
    let total = 0;
    let top: [string, number] = ['', 0];
    for (const entry of this.counts) {
      total += entry[1];
      if (entry[1] > top[1]) top = entry;
    }
    const sources = this.counts.size;
    this.counts.clear();
    this.forgetIdle();
    if (total === 0) return;
    this.options.logger.warn(
      { suppressed: total, sources, topSource: logText(top[0]), topSuppressed: top[1], windowMs: LOG_SUMMARY_INTERVAL_MS },
      'log lines suppressed by the log rate limit',
    );
  }
}

/** The levels a {@link ConnectionLog} writes. */
type ConnectionLogLevel = 'info' | 'warn' | 'error';

/**
 * A connection's gated log (made by {@link LogLimiter.connectionLog}): its
 * fields are merged into each line as it is written, and only lines the
 * level lets through spend the source's budget.
 */
export class ConnectionLog {
  constructor(
    private readonly limiter: LogLimiter,
    private readonly logger: Logger,
    private readonly source: string,
    private readonly room: string,
    private readonly participantName: string,
  ) {}

  info(fields: object, message: string): void {
    this.write('info', fields, message);
  }

  warn(fields: object, message: string): void {
    this.write('warn', fields, message);
  }

  error(fields: object, message: string): void {
    this.write('error', fields, message);
  }

  private write(level: ConnectionLogLevel, fields: object, message: string): void {
    const logger = this.logger;
    // Not `name`: pino loggers may bind their own (the CLI's is "roomstate").
    if (logger.isLevelEnabled(level) && this.limiter.allow(this.source)) logger[level]({ room: this.room, participantName: this.participantName, ...fields }, message);
  }
}
