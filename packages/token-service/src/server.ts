/**
 * Runs the token service as an HTTP server on Node (`@hono/node-server`)
 * with the SQLite store.
 *
 * @packageDocumentation
 * @module @pushprov/token-service/server
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { type Clock, InternalError, type RandomSource, systemClock } from '@pushprov/protocol';
import { type TokenServiceConfig, parseConfig } from './config/parse-config.js';
import type { TokenServiceConfigInput } from './config/z-config.js';
import { answerClientError } from './http/answer-client-error.js';
import { createTokenServiceHonoApp } from './http/create-app.js';
import { type LogLevel, type Logger, type TokenServiceLogger, createJsonLogger } from './log/logger.js';
import { createTokenServiceMetrics } from './observability/metrics.js';
import { type MetricsListener, type MetricsSetting, resolveMetricsSetting, startMetricsListener } from './observability/metrics-server.js';
import { type TokenService, createTokenService } from './service/create-token-service.js';
import type { AccountResolver, DecisionHook, VerificationCodeSender } from './service/hooks.js';
import { type GraceKey, describeReloadFailure, planGraceKeys } from './service/reload.js';
import { openStore } from './store/open-store.js';
import { type NotificationDispatcher, createNotificationDispatcher } from './notifications/dispatcher.js';
import { dispatchContextOf } from './notifications/dispatch-context.js';
import type { NotificationFetch } from './notifications/post-notification.js';
import { RecentRequests } from './inspector/recent-requests.js';
import { type SqliteStoreOptions, openSqliteStore } from './store/sqlite/sqlite-store.js';
import type { TokenServiceStore } from './store/types.js';

/** Options of {@link startTokenServer}. */
export interface StartTokenServerOptions {
  /** The configuration (see `parseConfig`); relative paths resolve against the working directory. */
  config: TokenServiceConfigInput | TokenServiceConfig;
  /** The SQLite database file (created if missing). Ignored when `store` or `storeUrl` is given. */
  dbPath?: string;
  /**
   * Where the store is: a `postgres://` URL (the schema must be migrated:
   * `token-service migrate`) or a SQLite file path. Ignored when `store` is given.
   */
  storeUrl?: string;
  /** A store to use instead of opening one. It is closed with the server. */
  store?: TokenServiceStore;
  /** SQLite options (durability). */
  sqlite?: SqliteStoreOptions;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  host?: string;
  logger?: Logger;
  clock?: Clock;
  random?: RandomSource;
  decide?: DecisionHook;
  resolveAccount?: AccountResolver;
  /** Delivers the one-time codes of step-up verification (see `TokenServiceOptions.sendVerificationCode`). */
  sendVerificationCode?: VerificationCodeSender;
  /**
   * Sandbox mode (`token-service start --sandbox`, or `"sandbox": true` in
   * the configuration: either turns on all of it): the sandbox test cards,
   * an in-memory code sender and `GET /sandbox/inbox`, and the request
   * inspector (see `TokenServiceOptions.sandbox`). Never in production.
   */
  sandbox?: boolean;
  /** How often expired replay and idempotency records are purged (and pending tokens past their time deleted), ms. Default 60 000; 0 disables. */
  purgeIntervalMs?: number;
  /** How long a request holds its idempotency key while it runs, ms (default 30 000; see `TokenServiceOptions`). */
  idempotencyLeaseMs?: number;
  /**
   * The lowest level the default logger writes (default: the configuration's
   * `log.level`, `info`), kept across reloads. Ignored with `logger`.
   */
  logLevel?: LogLevel | undefined;
  /**
   * Whether a reload applies the new configuration's `log.level` to the
   * logger. Default: true for the default logger without `logLevel`, false
   * for an injected `logger` (set it for a pino-backed one,
   * `createPinoLogger`/`createJsonLogger`, whose level follows then;
   * `token-service start` does unless `--log-level` is given). A logger that
   * is not pino-backed keeps its own levels.
   */
  followConfigLogLevel?: boolean | undefined;
  /**
   * Prometheus metrics, over the configuration's `metrics` (field by field):
   * with `port`, a separate listener on `host` (default 127.0.0.1) at `path`
   * (default `/metrics`); with only `path`, that path on the main listener.
   * Metrics are off when neither this nor the configuration sets them.
   */
  metrics?: MetricsSetting | undefined;
  /**
   * Run the notification dispatcher (spec section 14) in this server:
   * default true. Every instance on a store should run one; the store's
   * leases share the deliveries out.
   */
  notifications?: boolean | undefined;
  /** The Fetch function notifications are POSTed with. Default: the global `fetch`. */
  notificationFetch?: NotificationFetch | undefined;
}

/** What {@link RunningTokenServer.reload} applied. */
export interface ReloadResult {
  /** The encryption key ids of the new configuration (published, accepted). */
  encryptionKeyIds: string[];
  /** Key ids of earlier configurations still accepted (never published), each until its time (ms since the epoch). */
  graceKeys: { kid: string; untilMs: number }[];
  issuers: number;
  walletProviders: number;
  /** The level the logger writes at from now on, when the reload applied `log.level` (see `followConfigLogLevel`). */
  logLevel?: LogLevel | undefined;
  /**
   * Settings of the new configuration that differ from those in force but
   * need a restart, so were not applied: `metrics` (its port, host and path:
   * the listener and route are made at start), `store`.
   */
  notApplied: ('metrics' | 'store')[];
}

/** A running token server. */
export interface RunningTokenServer {
  /** The base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Where the metrics are served, when they are (e.g. `http://127.0.0.1:9464/metrics`, or a path of `url`). */
  metricsUrl?: string | undefined;
  /** The service of the configuration in force (its store, its configuration without secrets, its clock). */
  readonly service: TokenService;
  /**
   * Applies a new configuration without a restart: issuers, wallet
   * providers, rate limits, lifetimes and limits, keys. It is checked first
   * (`parseConfig`, then the store's key check: the same fingerprint key,
   * every vault key id the store holds still configured); a refused one
   * leaves the running configuration in place, is logged as one line
   * (`reload refused`, with the code and the reason, no secret) and rejects.
   * Otherwise a new service over the same store takes the next requests;
   * requests in flight finish on the configuration they started with. An
   * encryption key the new configuration drops still decrypts for
   * `lifetimes.keyGraceSeconds` (default 900), unpublished, then is
   * `unknown_key`. The log level follows `log.level` (see
   * `followConfigLogLevel`). The store, host, port and the metrics setting
   * (port, host, path) are not reloaded: a change to `store` or `metrics` is
   * named in `notApplied` and the log line, and needs a restart. Reloads run
   * one at a time.
   */
  reload(config: TokenServiceConfigInput | TokenServiceConfig): Promise<ReloadResult>;
  /** Stops accepting connections, lets in-flight requests finish (at most 5 s), then closes the store. */
  close(): Promise<void>;
}

/**
 * Starts the token service over HTTP: its app on `@hono/node-server`,
 * bound to `127.0.0.1` by default, with the SQLite store at `dbPath` (WAL,
 * synchronous FULL). Before listening it checks the store (`service.ready()`):
 * it must answer and belong to the configuration's vault keys (the same
 * fingerprint key it was built with, no value sealed under a key id the
 * configuration lacks); otherwise it rejects with `configuration_invalid`
 * (or `store_unavailable`) and closes the store. `reload` applies a new
 * configuration without a restart (`token-service start` does on SIGHUP).
 *
 * @example
 * ```ts
 * const server = await startTokenServer({ config: loadConfig('token-service.json'), dbPath: 'tokens.db', port: 8080 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export async function startTokenServer(options: StartTokenServerOptions): Promise<RunningTokenServer> {
  if (!options.store && !options.dbPath && !options.storeUrl) throw new TypeError('startTokenServer needs storeUrl, dbPath or store');
  const store = options.store ?? (options.storeUrl ? await openStore(options.storeUrl, { sqlite: options.sqlite }) : openSqliteStore(options.dbPath!, options.sqlite));
  const serviceOptions = {
    clock: options.clock,
    random: options.random,
    decide: options.decide,
    resolveAccount: options.resolveAccount,
    sendVerificationCode: options.sendVerificationCode,
    sandbox: options.sandbox,
    idempotencyLeaseMs: options.idempotencyLeaseMs,
    // One registry per server, kept across reloads.
    metrics: (options.metrics ?? options.config.metrics) === undefined ? undefined : createTokenServiceMetrics(),
  };
  let metricsAt: ReturnType<typeof resolveMetricsSetting>;
  let service: TokenService;
  let config: TokenServiceConfig;
  try {
    config = parseConfig(options.config);
    metricsAt = resolveMetricsSetting(options.metrics, config.metrics);
    service = createTokenService(config, store, serviceOptions);
    // Refuses to start on a store that does not answer, or that belongs to other vault keys (see TokenService.ready).
    await service.ready();
  } catch (error) {
    await store.close();
    throw error;
  }
  const logger = options.logger ?? createJsonLogger({ clock: service.clock, level: options.logLevel ?? service.config.log.level });
  // A reload applies `log.level` to a pino-backed logger that follows the configuration.
  const follows = options.followConfigLogLevel ?? (options.logger === undefined && options.logLevel === undefined);
  const levelled = follows && 'pino' in logger ? (logger as TokenServiceLogger) : undefined;
  if (levelled && options.logger !== undefined) levelled.pino.level = config.log.level;
  const { metrics } = serviceOptions;
  // The configuration in force: its service and app. A reload swaps it whole; each request is
  // handed to the app of its arrival, so it runs to its end on that configuration.
  // Sandbox mode: the request inspector's recent requests, kept across reloads (forgotten when a reload leaves sandbox mode).
  const recentRequests = new RecentRequests();
  const appOptions = { logger, metrics, metricsPath: metricsAt?.port === undefined ? metricsAt?.path : undefined, recentRequests };
  let current = { config, service, app: createTokenServiceHonoApp(service, appOptions), graceKeys: [] as GraceKey[] };
  const host = options.host ?? '127.0.0.1';
  const server = createAdaptorServer({ fetch: (request: Request, env: unknown) => current.app.fetch(request, env as never), hostname: host });
  // Requests Node's HTTP parser refuses get problem details too, not Node's bare 400/431.
  server.on('clientError', answerClientError(service, logger));
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options.port ?? 0, host);
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  // The separate metrics listener, when a port is set.
  let metricsListener: MetricsListener | undefined;
  if (metrics && metricsAt?.port !== undefined) {
    try {
      metricsListener = await startMetricsListener(metrics, { port: metricsAt.port, host: metricsAt.host, path: metricsAt.path });
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      throw error;
    }
  }
  const metricsUrl = metricsListener?.url ?? (appOptions.metricsPath === undefined || !metrics ? undefined : `${url}${appOptions.metricsPath}`);

  const purgeEvery = options.purgeIntervalMs ?? 60_000;
  const purgeTimer =
    purgeEvery > 0
      ? setInterval(() => {
          current.service.purgeExpired().catch(() => logger.error({ msg: 'purge failed', code: 'internal_error' }));
        }, purgeEvery)
      : undefined;
  purgeTimer?.unref();

  // The notification dispatcher: the configuration in force at each poll (a reload changes endpoints and settings).
  let dispatcher: NotificationDispatcher | undefined;
  if (options.notifications !== false) {
    dispatcher = createNotificationDispatcher({
      // Through the service's store: timed and traced like every store call.
      deliveries: service.store.deliveries,
      context: () => dispatchContextOf(current.service),
      clock: service.clock,
      random: service.random,
      fetch: options.notificationFetch,
      logger,
      onAttempt: metrics ? (outcome, seconds) => metrics.observeDelivery(outcome, seconds) : undefined,
    });
    dispatcher.start();
    logger.info({ msg: 'notification dispatcher started', owner: dispatcher.owner });
  }
  metrics?.watchOutbox(async () => {
    const nowMs = current.service.clock.now();
    return { ...(await current.service.store.deliveries.stats(nowMs)), nowMs };
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (purgeTimer) clearInterval(purgeTimer);
      await metricsListener?.close();
      // No new attempt; those in flight are aborted and recorded before the store closes.
      const stopping = dispatcher?.stop();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, 5_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      await stopping;
      await current.service.close();
    })());

  const clock = options.clock ?? systemClock;
  const applyReload = async (input: TokenServiceConfigInput | TokenServiceConfig): Promise<ReloadResult> => {
    try {
      if (closing) throw new InternalError('internal_error', 'The server is closing');
      const next = parseConfig(input);
      const nextKids = new Set(next.keys.encryptionKeys.keys.map((k) => k.kid));
      const graceKeys = planGraceKeys(current.graceKeys, current.config.keys.encryptionKeys.keys, nextKids, clock.now(), next.lifetimes.keyGraceSeconds * 1000);
      const nextService = createTokenService(next, store, { ...serviceOptions, graceDecryptionKeys: graceKeys });
      // The store answers and belongs to these vault keys (checkStoreKeys), before any request sees them.
      await nextService.ready();
      if (closing) throw new InternalError('internal_error', 'The server is closing');
      const notApplied: ReloadResult['notApplied'] = [];
      if (JSON.stringify(next.metrics ?? null) !== JSON.stringify(current.config.metrics ?? null)) notApplied.push('metrics');
      if (next.store !== current.config.store) notApplied.push('store');
      current = { config: next, service: nextService, app: createTokenServiceHonoApp(nextService, appOptions), graceKeys };
      if (nextService.config.sandbox !== true) recentRequests.clear();
      // The reload's own line is written at the more verbose of the two levels, then the new one applies.
      if (levelled) {
        const { values } = levelled.pino.levels;
        if ((values[next.log.level] ?? Infinity) < (values[levelled.pino.level] ?? Infinity)) levelled.pino.level = next.log.level;
      }
      const result: ReloadResult = {
        encryptionKeyIds: [...nextKids],
        graceKeys: graceKeys.map((g) => ({ kid: g.key.kid, untilMs: g.untilMs })),
        issuers: next.issuers.length,
        walletProviders: next.walletProviders.length,
        ...(levelled ? { logLevel: next.log.level } : {}),
        notApplied,
      };
      logger.info({
        msg: 'configuration reloaded',
        serviceId: next.serviceId,
        issuers: result.issuers,
        walletProviders: result.walletProviders,
        encryptionKeyIds: result.encryptionKeyIds.join(','),
        graceKeyIds: result.graceKeys.map((g) => g.kid).join(','),
        logLevel: result.logLevel,
        notApplied: notApplied.length === 0 ? undefined : `${notApplied.join(',')} (needs a restart)`,
      });
      if (levelled) levelled.pino.level = next.log.level;
      return result;
    } catch (error) {
      logger.error({ msg: 'reload refused', ...describeReloadFailure(error) });
      throw error;
    }
  };
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (input: TokenServiceConfigInput | TokenServiceConfig): Promise<ReloadResult> => {
    const run = reloading.then(() => applyReload(input));
    reloading = run.catch(() => undefined);
    return run;
  };

  return {
    url,
    metricsUrl,
    get service() {
      return current.service;
    },
    reload,
    close,
  };
}

export type { SqliteStoreOptions } from './store/sqlite/sqlite-store.js';
