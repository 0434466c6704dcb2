// The separate metrics listener: GET <path> answers the registry's text,
// anything else 404 (405 for another method on the path). Bound to
// 127.0.0.1 unless told otherwise: metrics are for the operator's scraper,
// not for the API's callers.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config/parse-config.js';
import { zMetricsInput } from '../config/z-config.js';
import type { TokenServiceMetrics } from './metrics.js';

/** A running metrics listener. */
export interface MetricsListener {
  /** Where the metrics are, e.g. `http://127.0.0.1:9464/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `metrics` over HTTP at `path` on `host:port` (port 0 picks a free
 * one). Rejects when the port cannot be bound.
 *
 * @example
 * ```ts
 * const listener = await startMetricsListener(metrics, { port: 9464 });
 * ```
 */
export async function startMetricsListener(
  metrics: TokenServiceMetrics,
  options: { port: number; host?: string | undefined; path?: string | undefined },
): Promise<MetricsListener> {
  const path = options.path ?? '/metrics';
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    metrics.scrape().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The metrics could not be collected\n'),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${path}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** Where metrics are served: a separate listener (`port`, `host`), or `path` on the main listener. */
export interface MetricsSetting {
  port?: number | undefined;
  host?: string | undefined;
  path?: string | undefined;
}

/**
 * The metrics setting in force: the configuration's `metrics`, with what
 * `option` (e.g. `--metrics-port`) sets over it, checked like the
 * configuration (`ConfigError` otherwise). `undefined`: metrics are off.
 */
export function resolveMetricsSetting(
  option: MetricsSetting | undefined,
  configured: MetricsSetting | undefined,
): { port?: number | undefined; host?: string | undefined; path: string } | undefined {
  if (option === undefined && configured === undefined) return undefined;
  const merged: Record<string, unknown> = { ...configured };
  for (const [k, v] of Object.entries(option ?? {})) if (v !== undefined) merged[k] = v;
  const result = zMetricsInput.safeParse(merged, { reportInput: false });
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `metrics${i.path.length > 0 ? `.${i.path.join('.')}` : ''}: ${i.message}`));
  return { ...result.data, path: result.data.path ?? '/metrics' };
}
