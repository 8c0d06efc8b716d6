/**
 * Serving metrics over HTTP: the `GET /metrics` route, and a plain HTTP
 * listener of its own for `metrics.port` (metrics on an internal port, off
 * the public one).
 */
import { createServer, type Server } from 'node:http';
import { handleHttpRequest, sendText, type HttpRoute } from '../http-routes.js';
import type { ServerMetrics } from './server-metrics.js';

/** The path metrics are served at. */
export const METRICS_PATH = '/metrics';

/** `GET /metrics`: the Prometheus text exposition of `metrics`. */
export function metricsRoute(metrics: ServerMetrics): HttpRoute {
  return {
    matches: (path) => path === METRICS_PATH,
    async handle(_request, response, head) {
      const { contentType, body } = await metrics.render();
      sendText(response, 200, contentType, body, head);
    },
  };
}

/** A listening metrics-only HTTP server. */
export interface MetricsListener {
  /** `http://HOST:PORT/metrics`. */
  readonly url: string;
  /** Stops listening and drops its connections. */
  close(): Promise<void>;
}

/** Starts a plain HTTP server that answers only `GET /metrics` on `host`:`port`. */
export function listenMetrics(metrics: ServerMetrics, host: string, port: number): Promise<MetricsListener> {
  const routes = [metricsRoute(metrics)];
  const server: Server = createServer((request, response) => void handleHttpRequest(request, response, routes));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const info = server.address();
      const bound = typeof info === 'object' && info ? info.port : port;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}${METRICS_PATH}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
