// Prometheus metrics of the token service (prom-client), one registry per
// server. Every label value comes from a closed set: route patterns the app
// registered (else `unmatched`), catalog error codes, step numbers of
// PROVISIONING_STEPS, the configured issuer and wallet provider ids, the
// store's operation names. None carries a request's content.
import { isErrorCode } from '@pushprov/protocol';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PROVISIONING_STEPS } from '../provisioning/steps.js';

/** The prefix of every metric name. */
export const METRICS_PREFIX = 'pushprov_token_service_';

/** What one provisioning request came to (`provisioning_outcomes_total{outcome}`). */
export type ProvisioningOutcomeKind = 'issued' | 'existing' | 'replayed' | 'refused';

/** Options of {@link createTokenServiceMetrics}. */
export interface TokenServiceMetricsOptions {
  /** The registry to register into. Default: a new one (never prom-client's global registry). */
  registry?: Registry | undefined;
  /** Also collect Node's process metrics (CPU, memory, event loop lag, …) into the registry. Default true. */
  processMetrics?: boolean | undefined;
}

/**
 * The token service's metrics: a prom-client {@link Registry} and the calls
 * the HTTP app, the pipeline and the store proxy make. Create one per server
 * ({@link createTokenServiceMetrics}) and give it to `createTokenService`
 * (`metrics`) and `createTokenServiceApp` (`metrics`), or let
 * `startTokenServer` do it from the configuration's `metrics`.
 */
export interface TokenServiceMetrics {
  readonly registry: Registry;
  /** The `Content-Type` of {@link TokenServiceMetrics.scrape}'s text. */
  readonly contentType: string;
  /** The Prometheus text exposition of the registry. */
  scrape(): Promise<string>;
  /** One HTTP request: `route` is the matched route pattern, or `unmatched`. */
  observeRequest(request: { method: string; route: string; status: number; code?: string | undefined; seconds: number }): void;
  /** One validation step (`step` is a step number of `PROVISIONING_STEPS`). */
  observeStep(step: number, seconds: number, ok: boolean): void;
  /** The outcome of one provisioning request; ids must already be configured ids or `unknown`. */
  observeOutcome(outcome: { issuerId: string; walletProviderId: string; outcome: ProvisioningOutcomeKind; code?: string | undefined }): void;
  /** One store call. */
  observeStore(operation: string, seconds: number, ok: boolean): void;
  /** One notification delivery attempt and what it came to. */
  observeDelivery(outcome: 'delivered' | 'retry' | 'dead', seconds: number): void;
  /**
   * Where the outbox gauges are read at each scrape: pending and dead
   * deliveries, and when the oldest due delivery became due (its lag).
   * The last source given wins.
   */
  watchOutbox(source: () => Promise<{ pending: number; dead: number; oldestDueAt: number | null; nowMs: number }>): void;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The most distinct values a label whose set is not fixed here (routes, ids, operations) may take; past it: `other`. */
const MAX_VALUES = 64;

/** The label of the entry of PROVISIONING_STEPS holding step `n`: `"12"`, or `"4-11"` for a range. */
export function stepLabel(n: number): string {
  const entry = PROVISIONING_STEPS.find((s) => s.steps.includes(n));
  if (!entry) return 'other';
  const first = entry.steps[0]!;
  const last = entry.steps[entry.steps.length - 1]!;
  return first === last ? String(first) : `${first}-${last}`;
}

/** A guard for a label with an open set of values: the first {@link MAX_VALUES} are kept, the rest become `other`. */
function bounded(): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= MAX_VALUES) return 'other';
    seen.add(value);
    return value;
  };
}

const codeLabel = (code: string | undefined): string => (code === undefined ? 'none' : isErrorCode(code) ? code : 'other');

/**
 * Creates the metrics of one token server, in their own registry:
 *
 * - `pushprov_token_service_http_requests_total{method,route,status,code}`
 * - `pushprov_token_service_http_request_duration_seconds{method,route}`
 * - `pushprov_token_service_validation_step_duration_seconds{step,outcome}` (`outcome`: `ok`, `refused`)
 * - `pushprov_token_service_provisioning_outcomes_total{issuer,wallet_provider,outcome,code}`
 * - `pushprov_token_service_store_operation_duration_seconds{operation,outcome}` (`outcome`: `ok`, `error`)
 * - `pushprov_token_service_notification_attempts_total{outcome}` (`delivered`, `retry`, `dead`) and
 *   `pushprov_token_service_notification_attempt_duration_seconds`
 * - `pushprov_token_service_notification_deliveries{state}` (`pending`, `dead`) and
 *   `pushprov_token_service_notification_outbox_lag_seconds` (how long the oldest due delivery has waited), read from the store at each scrape
 *
 * plus Node's process metrics under the same prefix (unless `processMetrics: false`).
 *
 * @example
 * ```ts
 * const metrics = createTokenServiceMetrics();
 * const service = createTokenService(config, store, { metrics });
 * const app = createTokenServiceApp(service, { metrics, metricsPath: '/metrics' });
 * ```
 */
export function createTokenServiceMetrics(options: TokenServiceMetricsOptions = {}): TokenServiceMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  const registers = [registry];
  const requests = new Counter({
    name: `${METRICS_PREFIX}http_requests_total`,
    help: 'HTTP requests, by method, route pattern (unmatched for any path no route serves), status and protocol error code (none on success).',
    labelNames: ['method', 'route', 'status', 'code'] as const,
    registers,
  });
  const requestSeconds = new Histogram({
    name: `${METRICS_PREFIX}http_request_duration_seconds`,
    help: 'Time to answer an HTTP request, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const stepSeconds = new Histogram({
    name: `${METRICS_PREFIX}validation_step_duration_seconds`,
    help: 'Time of each validation step of POST /v1/provisioning-requests, by step number (PROVISIONING_STEPS; "4-11" is one step) and outcome (ok, refused).',
    labelNames: ['step', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const outcomes = new Counter({
    name: `${METRICS_PREFIX}provisioning_outcomes_total`,
    help: 'Provisioning requests by issuer and wallet provider (configured ids; unknown before the issuer is known) and outcome (issued, existing, replayed, refused), with the refusal code.',
    labelNames: ['issuer', 'wallet_provider', 'outcome', 'code'] as const,
    registers,
  });
  const storeSeconds = new Histogram({
    name: `${METRICS_PREFIX}store_operation_duration_seconds`,
    help: 'Time of each store call, by operation (e.g. idempotency.begin, commit) and outcome (ok, error).',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const attempts = new Counter({
    name: `${METRICS_PREFIX}notification_attempts_total`,
    help: 'Notification delivery attempts of this instance, by outcome (delivered, retry, dead).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const attemptSeconds = new Histogram({
    name: `${METRICS_PREFIX}notification_attempt_duration_seconds`,
    help: 'Time of one notification delivery attempt (signing, POST and recording the outcome).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  let outbox: Parameters<TokenServiceMetrics['watchOutbox']>[0] | undefined;
  let outboxRead: Promise<Awaited<ReturnType<NonNullable<typeof outbox>>> | undefined> | undefined;
  // One store read per scrape, shared by both gauges.
  const readOutbox = () =>
    (outboxRead ??= (outbox ? outbox().catch(() => undefined) : Promise.resolve(undefined)).finally(() => {
      setImmediate(() => (outboxRead = undefined));
    }));
  new Gauge({
    name: `${METRICS_PREFIX}notification_deliveries`,
    help: 'Notification deliveries in the outbox (every instance), by state: pending (to send or retry) and dead (given up).',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const read = await readOutbox();
      if (!read) return;
      this.set({ state: 'pending' }, read.pending);
      this.set({ state: 'dead' }, read.dead);
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}notification_outbox_lag_seconds`,
    help: 'How long the oldest due notification delivery has waited to be sent (0 when none is due): the outbox lag.',
    registers,
    async collect() {
      const read = await readOutbox();
      if (!read) return;
      this.set(read.oldestDueAt === null ? 0 : Math.max(0, (read.nowMs - read.oldestDueAt) / 1000));
    },
  });
  const route = bounded();
  const issuer = bounded();
  const walletProvider = bounded();
  const operation = bounded();
  const status = (s: number) => (Number.isInteger(s) && s >= 100 && s <= 599 ? String(s) : 'other');
  const method = (m: string) => (METHODS.has(m) ? m : 'other');
  const seconds = (s: number) => (Number.isFinite(s) && s > 0 ? s : 0);

  return {
    registry,
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    observeRequest(r) {
      const labels = { method: method(r.method), route: route(r.route) };
      requests.inc({ ...labels, status: status(r.status), code: codeLabel(r.code) });
      requestSeconds.observe(labels, seconds(r.seconds));
    },
    observeStep(step, s, ok) {
      stepSeconds.observe({ step: stepLabel(step), outcome: ok ? 'ok' : 'refused' }, seconds(s));
    },
    observeOutcome(o) {
      outcomes.inc({
        issuer: issuer(o.issuerId),
        wallet_provider: walletProvider(o.walletProviderId),
        outcome: o.outcome,
        code: o.outcome === 'refused' ? codeLabel(o.code) : 'none',
      });
    },
    observeStore(op, s, ok) {
      storeSeconds.observe({ operation: operation(op), outcome: ok ? 'ok' : 'error' }, seconds(s));
    },
    observeDelivery(outcome, s) {
      attempts.inc({ outcome });
      attemptSeconds.observe(seconds(s));
    },
    watchOutbox(source) {
      outbox = source;
    },
  };
}
