// The node-postgres settings the store and the migrations share.
import type pg from 'pg';
import { loadPg } from '../load-driver.js';

/** OID of int8 (bigint): times in milliseconds and counts, read as numbers. */
const INT8_OID = 20;

/** Settings a caller may give besides the connection. */
export interface ConnectionSettings {
  statementTimeoutMs?: number | undefined;
  connectionTimeoutMillis?: number | undefined;
  applicationName?: string | undefined;
}

/** How much longer than statement_timeout the client waits for an answer before it gives up on the connection. */
const QUERY_TIMEOUT_MARGIN_MS = 1000;

const parseInt8 = (value: string): number => Number(value);

/**
 * The type parsers of our clients: bigint as a JavaScript number (times in
 * milliseconds and counts are far below 2^53), the rest as node-postgres (or
 * the caller's `types`) parses it. Never the global `pg.types`: other users of
 * node-postgres in the process keep theirs.
 */
export function storeTypes(types: pg.CustomTypesConfig | undefined): pg.CustomTypesConfig {
  const fallback = types ?? loadPg().types;
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID && format !== 'binary' ? parseInt8 : fallback.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/**
 * A PostgreSQL connection given as an object: the node-postgres `PoolConfig`
 * settings the store reads, declared here so that our public types need no
 * `@types/pg` (a `pg.PoolConfig` is accepted as it is; every setting it
 * holds is passed to node-postgres unchanged).
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ host: 'db.internal', database: 'tokens', user: 'tokens', ssl: true, max: 20 });
 * ```
 */
export interface PostgresConnectionConfig {
  connectionString?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  user?: string | undefined;
  password?: string | (() => string | Promise<string>) | undefined;
  database?: string | undefined;
  /** `true`, or node's TLS connection options. */
  ssl?: boolean | object | undefined;
  /** Connections in the pool (the store's `max` option wins). */
  max?: number | undefined;
  idleTimeoutMillis?: number | undefined;
  connectionTimeoutMillis?: number | undefined;
  statement_timeout?: false | number | undefined;
  query_timeout?: number | undefined;
  application_name?: string | undefined;
  keepAlive?: boolean | undefined;
  keepAliveInitialDelayMillis?: number | undefined;
}

/**
 * A pool or client configuration: a connection string or a `PoolConfig`,
 * with our settings on top (each given setting overrides the config's own).
 * `statement_timeout` is a startup parameter: it costs no round trip.
 */
export function connectionConfig(connection: string | PostgresConnectionConfig, settings: ConnectionSettings, defaults: { statementTimeoutMs: number | undefined; connectionTimeoutMillis: number }): pg.PoolConfig {
  const base: pg.PoolConfig = typeof connection === 'string' ? { connectionString: connection } : { ...(connection as pg.PoolConfig) };
  const statementTimeout = settings.statementTimeoutMs ?? (typeof base.statement_timeout === 'number' ? base.statement_timeout : defaults.statementTimeoutMs);
  const config: pg.PoolConfig = {
    ...base,
    connectionTimeoutMillis: settings.connectionTimeoutMillis ?? base.connectionTimeoutMillis ?? defaults.connectionTimeoutMillis,
    keepAlive: base.keepAlive ?? true,
    types: storeTypes(base.types),
  };
  if (statementTimeout !== undefined && statementTimeout > 0) {
    config.statement_timeout = Math.floor(statementTimeout);
    // The server ends a statement at statement_timeout; a server that cannot
    // answer at all (a network black hole) is given up on a second later,
    // client side: the connection is then dropped, never reused.
    config.query_timeout = base.query_timeout ?? Math.floor(statementTimeout) + QUERY_TIMEOUT_MARGIN_MS;
  } else delete config.statement_timeout;
  // A connection whose peer vanished without a word is found out by TCP keepalive, not hours later.
  config.keepAliveInitialDelayMillis = base.keepAliveInitialDelayMillis ?? 10_000;
  const applicationName = settings.applicationName ?? base.application_name;
  if (applicationName !== undefined) config.application_name = applicationName;
  else config.fallback_application_name = base.fallback_application_name ?? 'pushprov-token-service';
  return config;
}
