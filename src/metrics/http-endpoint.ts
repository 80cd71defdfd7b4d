/**
 * The optional Prometheus endpoint (`metrics:` in knockgate.yaml): `GET /metrics` answers the
 * registry's snapshot in the text format; every other path is 404 and every other method 405.
 * It binds to the configured address only (127.0.0.1 unless the operator says otherwise) and
 * is opened before the firewall changes, so a port already taken stops the start (exit 69).
 *
 * Bounded: at most MAX_METRICS_CONNECTIONS connections, METRICS_REQUEST_TIMEOUT_MS for a request's
 * headers, no request body read. Each scrape renders a fresh snapshot; nothing is cached.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KnockgateError } from '../core/errors.js';
import { MAX_METRICS_CONNECTIONS, METRICS_REQUEST_TIMEOUT_MS } from '../core/limits.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import { type BuildInfo, PROMETHEUS_CONTENT_TYPE, prometheusText } from './prometheus-text.js';

export interface MetricsEndpoint {
  /** Where it listens (the port the kernel chose when 0 was asked). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function openMetricsEndpoint(
  listen: { readonly address: string; readonly port: number },
  metrics: Metrics,
  build: BuildInfo,
  log: Logger,
): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = prometheusText(metrics.snapshot(), build);
    } catch (err) {
      log.error({ event: 'metrics-failed', error: (err as Error).message }, 'could not render the metrics');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      return;
    }
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.maxConnections = MAX_METRICS_CONNECTIONS;
  server.headersTimeout = METRICS_REQUEST_TIMEOUT_MS;
  server.requestTimeout = METRICS_REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new KnockgateError(
          'KG_METRICS_FAILED',
          `metrics endpoint: cannot listen on ${listen.address} port ${listen.port}: ${err.code ?? err.message}`,
        ),
      ),
    );
    server.listen({ host: listen.address, port: listen.port, exclusive: true }, resolve);
  });
  const bound = server.address() as AddressInfo;
  log.info({ event: 'metrics-listening', address: bound.address, port: bound.port }, 'metrics endpoint listening');
  return {
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
