/**
 * Prometheus metrics of one room server, in its own prom-client `Registry`
 * (never the global one, so two servers in one process do not clash).
 * Counters move through the {@link ServerObserver} hook; gauges are read
 * from the server's counts at scrape time.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { combineObservers, type DeliveryKind, type RequestKind, type ServerObserver } from '../core/observer.js';

/** Prefix of every roomstate metric name. */
export const METRICS_PREFIX = 'roomstate_';

/** What the gauges are read from at scrape time. */
export interface MetricsSource {
  /** Open websocket connections. */
  connections(): number;
  /** Room, participant and messaging-enabled counts. */
  stats(): { rooms: number; participants: number; enabled: number };
}

/** The metrics of one server: its registry and the observer that feeds it. */
export interface ServerMetrics {
  /** The registry holding every metric of this server (default process metrics included). */
  readonly registry: Registry;
  /** Counts what the core reports; combine it with other observers. */
  readonly observer: ServerObserver;
  /** The exposition text and its content type, for `GET /metrics`. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Creates the metrics of one server, reading gauges from `source`. */
export function createServerMetrics(source: MetricsSource): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name: METRICS_PREFIX + name, help, registers, collect() {
      this.set(read());
    } });
  gauge('connections', 'Open websocket connections.', () => source.connections());
  gauge('rooms', 'Rooms with at least one participant.', () => source.stats().rooms);
  gauge('participants', 'Participants in all rooms.', () => source.stats().participants);
  gauge('messaging_enabled_participants', 'Participants with messaging enabled.', () => source.stats().enabled);
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: METRICS_PREFIX + name, help, labelNames, registers });
  const messagesIn = counter('messages_received_total', 'Requests received, by kind (direct, broadcast, presence, other).', ['kind']);
  const bytesIn = counter('received_bytes_total', 'Request data bytes received, by kind.', ['kind']);
  const messagesOut = counter('messages_delivered_total', 'Messages delivered to connections (one per recipient), by kind (direct, broadcast, presence).', ['kind']);
  const bytesOut = counter('delivered_bytes_total', 'Wire bytes delivered to connections (message size times recipients), by kind.', ['kind']);
  const errors = counter('error_responses_total', 'Error responses sent, by protocol error code.', ['code']);
  const refused = counter('upgrades_refused_total', 'Websocket upgrades (or joins right after one) refused, by HTTP status and reason.', ['status', 'reason']);
  const slow = counter('slow_consumers_total', 'Connections cut because their outgoing buffer went over the limit.');
  const suppressed = counter('log_lines_suppressed_total', 'Log lines caused by clients that were not written: over their source\'s or the server\'s log rate (see the summaries in the log).');
  const limited = counter('rate_limit_pauses_total', 'Times reading from a participant was paused by its rate limits (nothing is refused).');
  // Label values exist from the start, so a dashboard sees 0 rather than nothing.
  for (const kind of ['direct', 'broadcast', 'presence'] satisfies DeliveryKind[]) {
    for (const metric of [messagesIn, bytesIn, messagesOut, bytesOut]) metric.labels(kind).inc(0);
  }
  const observer: Partial<ServerObserver> = {
    requestReceived(kind: RequestKind, bytes: number) {
      messagesIn.labels(kind).inc();
      bytesIn.labels(kind).inc(bytes);
    },
    messageDelivered(kind: DeliveryKind, bytes: number, recipients: number) {
      if (recipients <= 0) return;
      messagesOut.labels(kind).inc(recipients);
      bytesOut.labels(kind).inc(bytes * recipients);
    },
    errorResponse: (code: number) => errors.labels(String(code)).inc(),
    upgradeRefused: (status: number, reason: string) => refused.labels(String(status), reason).inc(),
    slowConsumerCut: () => slow.inc(),
    rateLimited: () => limited.inc(),
    logLineSuppressed: () => suppressed.inc(),
  };
  return {
    registry,
    observer: combineObservers(observer),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
