import type pg from 'pg';
import { InternalError } from '@pushprov/protocol';
import type {
  CommitInput,
  CommitOutcome,
  IdempotencyBeginOutcome,
  LifecycleTransitionOutcome,
  PurgeResult,
  SealedTable,
  TokenServiceStore,
  VerificationActivateOutcome,
  VerificationAttemptOutcome,
  VerificationIssueOutcome,
} from '../types.js';
import {
  type DeliveryRow,
  type EventRow,
  type HistoryRow,
  type IdempotencyRow,
  type TokenRow,
  type VaultRow,
  type VerificationCodeRow,
  toDelivery,
  toEvent,
  toHistory,
  toIdempotency,
  toToken,
  toVault,
  toVerificationCode,
} from '../rows.js';
import { checkFeed } from '../outbox.js';
import { type LiveTokenRow, checkLiveQuery, monthIndex, toLiveToken } from '../live-tokens.js';
import { POSTGRES_LATEST_VERSION, migratePostgres, readSchemaVersion, schemaVersionMessage, type MigratePostgresOptions } from './migrations.js';
import { checkHit, hitOutcome } from '../rate-limits.js';
import { SEALED_COLUMNS, checkKey, checkListLimit, postgresKeyIdExpression } from '../sealed.js';
import { loadPg } from '../load-driver.js';
import { createPostgresDeliveries } from './postgres-deliveries.js';
import { type PostgresConnectionConfig, connectionConfig } from './pg-connection.js';
import { isConfigurationFailure, isUnavailable, retryAtOnce, storeError } from './pg-errors.js';

export { migratePostgres, type MigratePostgresOptions };

/**
 * The schema version this code needs (the number of migrations). A database
 * at another version is refused by {@link openPostgresStore}: older, run
 * {@link migratePostgres} (`token-service migrate`); newer, run newer code.
 *
 * @example
 * ```ts
 * const { to } = await migratePostgres(url); // to === POSTGRES_SCHEMA_VERSION
 * ```
 */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_LATEST_VERSION;

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** Connections in the pool. Default 10 (or the config's `max`). */
  max?: number;
  /** Bound on each statement (PostgreSQL `statement_timeout`), ms; past it the operation fails with `store_unavailable`. Default 5000. */
  statementTimeoutMs?: number;
  /** Bound on getting a connection (from the pool or a new one), ms; past it `store_unavailable`. Default 5000. */
  connectionTimeoutMillis?: number;
  /** `application_name` of the connections (seen in `pg_stat_activity`). */
  applicationName?: string;
  /**
   * Called once for each query sent to the database, with the store
   * operation it belongs to (`begin`, `commit`, `tokens.find`, …): the
   * round-trip count of the benchmark. Must not throw.
   */
  onRoundTrip?: (operation: string) => void;
}

/** The commit as `pushprov_commit` reads it (only the fields it uses: no caller extras reach the database). */
const commitJson = (input: CommitInput): string => {
  const i = input.idempotency;
  const body: Record<string, unknown> = {
    idempotency: {
      scope: i.scope,
      key: i.key,
      leaseId: i.leaseId,
      requestHash: i.requestHash,
      status: i.status,
      sealedResponse: i.sealedResponse,
      createdAt: i.createdAt,
      expiresAt: i.expiresAt,
    },
    replay: input.replay.map((r) => ({ key: r.key, expiresAt: r.expiresAt })),
  };
  if (input.issuance) {
    const { token: t, vault: v, replaces } = input.issuance;
    body.issuance = {
      token: {
        tokenReferenceId: t.tokenReferenceId,
        tokenNumberHash: t.tokenNumberHash,
        sealedTokenNumber: t.sealedTokenNumber,
        tokenLast4: t.tokenLast4,
        tokenExpiry: { month: t.tokenExpiry.month, year: t.tokenExpiry.year },
        status: t.status,
        issuerId: t.issuerId,
        walletProviderId: t.walletProviderId,
        walletAccountId: t.walletAccountId,
        deviceId: t.deviceId,
        network: t.network,
        deviceKeyThumbprint: t.deviceKeyThumbprint,
        verification: t.verification === undefined ? undefined : { methods: t.verification.methods, expiresAt: t.verification.expiresAt },
        accountId: t.accountId,
        panLast4: t.panLast4,
        createdAt: t.createdAt,
        updatedAt: t.updatedAt,
      },
      vault: {
        tokenReferenceId: v.tokenReferenceId,
        panFingerprint: v.panFingerprint,
        walletProviderId: v.walletProviderId,
        walletAccountId: v.walletAccountId,
        deviceId: v.deviceId,
        sealedCard: v.sealedCard,
        panLast4: v.panLast4,
        createdAt: v.createdAt,
      },
      replaces,
    };
  }
  return JSON.stringify(body);
};

/** How many times a statement is sent again after a serialisation failure or deadlock (nothing of it was written). */
const RETRIES_AT_ONCE = 2;

// Statements by name: each connection prepares a statement once (Parse), then
// only binds and executes it (the same single round trip, no planning).
const Q = {
  tokenFind: { name: 'pushprov_token_find', text: 'SELECT * FROM tokens WHERE token_reference_id = $1' },
  tokenCount: { name: 'pushprov_token_count', text: 'SELECT count(*) AS n FROM tokens' },
  vaultFind: { name: 'pushprov_vault_find', text: 'SELECT * FROM vault WHERE token_reference_id = $1' },
  vaultFindProvisioned: {
    name: 'pushprov_vault_find_provisioned',
    text: 'SELECT * FROM vault WHERE pan_fingerprint = $1 AND wallet_provider_id = $2 AND wallet_account_id = $3 AND device_id = $4',
  },
  vaultCount: { name: 'pushprov_vault_count', text: 'SELECT count(*) AS n FROM vault' },
  replayHas: { name: 'pushprov_replay_has', text: 'SELECT 1 AS one FROM replay WHERE key = $1' },
  replayClaim: { name: 'pushprov_replay_claim', text: 'INSERT INTO replay (key, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING' },
  replayCount: { name: 'pushprov_replay_count', text: 'SELECT count(*) AS n FROM replay' },
  begin: { name: 'pushprov_begin', text: 'SELECT pushprov_begin($1, $2, $3, $4, $5, $6) AS outcome' },
  release: { name: 'pushprov_release', text: 'DELETE FROM idempotency_pending WHERE scope = $1 AND key = $2 AND lease_id = $3' },
  idemFind: { name: 'pushprov_idem_find', text: 'SELECT * FROM idempotency WHERE scope = $1 AND key = $2' },
  idemCount: { name: 'pushprov_idem_count', text: 'SELECT count(*) AS n FROM idempotency' },
  commit: { name: 'pushprov_commit_recorded', text: 'SELECT pushprov_commit_recorded($1::jsonb) AS outcome' },
  refuse: { name: 'pushprov_refuse', text: 'SELECT pushprov_refuse($1::jsonb)' },
  purge: {
    name: 'pushprov_purge',
    text: `WITH r AS (DELETE FROM replay WHERE expires_at <= $1 RETURNING 1),
      i AS (DELETE FROM idempotency WHERE expires_at <= $1 RETURNING 1),
      p AS (DELETE FROM idempotency_pending WHERE lease_expires_at <= $1 RETURNING 1),
      l AS (DELETE FROM rate_limits WHERE expires_at <= $1 RETURNING 1)
      SELECT (SELECT count(*) FROM r) AS replay, (SELECT count(*) FROM i) + (SELECT count(*) FROM p) AS idempotency, (SELECT count(*) FROM l) AS limits`,
  },
  ping: { name: 'pushprov_ping', text: 'SELECT 1 AS one' },
  // One fixed-window count (see RateLimitStore.hit), one statement: a later window starts
  // again at 1; the same or an earlier one (a clock behind) counts in the stored window, at
  // most limit + 1. Concurrent hits on a key wait for each other's row lock.
  limitHit: {
    name: 'pushprov_limit_hit',
    text: `INSERT INTO rate_limits AS l (key, window_start, count, expires_at) VALUES ($1, $2, 1, $3)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN EXCLUDED.window_start > l.window_start THEN 1 ELSE least(l.count + 1, $4::integer + 1) END,
        window_start = greatest(l.window_start, EXCLUDED.window_start),
        expires_at = greatest(l.expires_at, EXCLUDED.expires_at)
      RETURNING count, window_start`,
  },
  metaGet: { name: 'pushprov_meta_get', text: 'SELECT value FROM meta WHERE name = $1' },
  verIssue: { name: 'pushprov_ver_issue', text: 'SELECT pushprov_verification_issue($1::jsonb) AS outcome' },
  verAttempt: { name: 'pushprov_ver_attempt', text: 'SELECT pushprov_verification_attempt($1, $2, $3) AS outcome' },
  verActivate: { name: 'pushprov_ver_activate_recorded', text: 'SELECT pushprov_verification_activate_recorded($1::jsonb) AS outcome' },
  transition: { name: 'pushprov_transition', text: 'SELECT pushprov_transition($1::jsonb) AS outcome' },
  historyOf: { name: 'pushprov_history_of', text: 'SELECT * FROM token_history WHERE token_reference_id = $1 ORDER BY id' },
  // Migration 8's index serves the first four conditions (account_id IS NOT NULL: the index is partial).
  // The order is by code unit ("C"), whatever the database's collation.
  tokensLive: {
    name: 'pushprov_tokens_live',
    text: `SELECT t.token_reference_id, t.account_id, t.device_id, t.status, t.expiry_month, t.expiry_year, t.created_at,
        (t.status = 'pending_activation' AND EXISTS (SELECT 1 FROM verification_codes c WHERE c.token_reference_id = t.token_reference_id)) AS activation_started
      FROM tokens t
      WHERE t.wallet_provider_id = $1 AND t.wallet_account_id = $2 AND t.issuer_id = $3
        AND t.account_id IS NOT NULL AND t.account_id = ANY($4::text[])
        AND t.status IN ('active', 'pending_activation', 'suspended')
        AND t.expiry_year * 12 + t.expiry_month >= $5
        AND NOT (t.status = 'pending_activation' AND t.pending_expires_at IS NOT NULL AND t.pending_expires_at <= $6)
      ORDER BY t.account_id COLLATE "C", t.created_at, t.token_reference_id COLLATE "C"
      LIMIT $7`,
  },
  tokensByAccount: {
    name: 'pushprov_tokens_by_account',
    text: 'SELECT * FROM tokens WHERE issuer_id = $1 AND account_id = $2 ORDER BY created_at DESC, token_reference_id LIMIT 1000',
  },
  tokensByCard: {
    name: 'pushprov_tokens_by_card',
    text: `SELECT t.* FROM vault v JOIN tokens t ON t.token_reference_id = v.token_reference_id
      WHERE v.pan_fingerprint = $1 AND t.issuer_id = $2 ORDER BY t.created_at DESC, t.token_reference_id LIMIT 1000`,
  },
  feedIssuer: { name: 'pushprov_feed_issuer', text: 'SELECT * FROM events WHERE issuer_id = $1 AND seq > $2 ORDER BY seq LIMIT $3' },
  feedWallet: { name: 'pushprov_feed_wallet', text: 'SELECT * FROM events WHERE wallet_provider_id = $1 AND seq > $2 ORDER BY seq LIMIT $3' },
  eventsOf: { name: 'pushprov_events_of', text: 'SELECT * FROM events WHERE token_reference_id = $1 ORDER BY sequence' },
  deliveriesOf: { name: 'pushprov_deliveries_of', text: 'SELECT * FROM deliveries WHERE event_id = $1 ORDER BY receiver' },
  eventCount: { name: 'pushprov_event_count', text: 'SELECT count(*) AS n FROM events' },
  verExpire: { name: 'pushprov_ver_expire', text: 'SELECT pushprov_verification_expire($1, $2) AS n' },
  verFind: { name: 'pushprov_ver_find', text: 'SELECT * FROM verification_codes WHERE token_reference_id = $1 AND method_id = $2' },
  verCount: { name: 'pushprov_ver_count', text: 'SELECT count(*) AS n FROM verification_codes' },
  // Under READ COMMITTED the SELECT half cannot see a row a concurrent
  // transaction inserted (the INSERT waited for it, then did nothing): no row
  // then, and the client reads again with metaGet (a new snapshot).
  metaClaim: {
    name: 'pushprov_meta_claim',
    text: `WITH ins AS (INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value)
      SELECT value FROM ins UNION ALL SELECT value FROM meta WHERE name = $1 LIMIT 1`,
  },
} as const;

/**
 * The statements of a sealed table: pages in primary key order (after a
 * cursor: a range of the primary key's index), compare-and-set updates in one
 * statement (one transaction), counts and key ids by the indexed key id
 * expression (the key ids: a skip over that index, one probe per key id).
 */
const sealedStatements = (table: SealedTable) => {
  const { table: name, column, key } = SEALED_COLUMNS[table];
  const keyId = postgresKeyIdExpression(column);
  const keys = key.join(', ');
  const n = key.length;
  const cursor = n === 1 ? `${key[0]} > $1` : `(${keys}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})`;
  const select = `SELECT ${keys}, ${column} AS sealed FROM ${name}`;
  // A deleted token's number is gone (NULL, schema 7): nothing sealed to list, count or rotate.
  const present = `${column} IS NOT NULL`;
  const unnestArgs = [...key.map((_, i) => `$${i + 1}::text[]`), `$${n + 1}::text[]`, `$${n + 2}::text[]`].join(', ');
  return {
    key,
    first: { name: `pushprov_sealed_first_${table}`, text: `${select} WHERE ${present} AND ${keyId} IS DISTINCT FROM $1 ORDER BY ${keys} LIMIT $2` },
    after: { name: `pushprov_sealed_after_${table}`, text: `${select} WHERE ${cursor} AND ${present} AND ${keyId} IS DISTINCT FROM $${n + 1} ORDER BY ${keys} LIMIT $${n + 2}` },
    replace: {
      name: `pushprov_sealed_replace_${table}`,
      text: `UPDATE ${name} AS t SET ${column} = u.new_value
        FROM unnest(${unnestArgs}) AS u(${key.map((k) => `k_${k}`).join(', ')}, old_value, new_value)
        WHERE ${key.map((k) => `t.${k} = u.k_${k}`).join(' AND ')} AND t.${column} = u.old_value`,
    },
    counts: { name: `pushprov_sealed_counts_${table}`, text: `SELECT ${keyId} AS key_id, count(*) AS n FROM ${name} WHERE ${present} GROUP BY 1` },
    keyIds: {
      name: `pushprov_sealed_key_ids_${table}`,
      text: `WITH RECURSIVE k(id) AS (
          SELECT (SELECT ${keyId} FROM ${name} WHERE ${present} ORDER BY ${keyId} LIMIT 1)
          UNION ALL
          SELECT (SELECT ${keyId} FROM ${name} WHERE ${keyId} > k.id AND ${present} ORDER BY ${keyId} LIMIT 1) FROM k WHERE k.id IS NOT NULL
        ) SELECT id AS key_id FROM k WHERE id IS NOT NULL`,
    },
  };
};
const SQ = { vault: sealedStatements('vault'), tokens: sealedStatements('tokens'), idempotency: sealedStatements('idempotency') };

/**
 * Opens a PostgreSQL {@link TokenServiceStore} over a node-postgres pool, for
 * several token service instances sharing one database: every cross-request
 * guarantee (idempotency entries with their lease, claimed client
 * assertions, replay keys, the unique token number, one token per card on a
 * wallet account and device) is held by the database.
 *
 * Each write is one round trip: `begin`, `commit` and `refuse` call the
 * PL/pgSQL functions of the schema (`pushprov_begin`, `pushprov_commit`,
 * `pushprov_refuse`), `release`, `replay.claim` and `limits.hit` are one statement; a
 * single statement is its own transaction (committed with PostgreSQL's
 * `synchronous_commit`, on by default: an acknowledged commit is durable).
 * Conflicts are reported as outcomes, never thrown.
 *
 * The schema is not created here: the database must be at
 * {@link POSTGRES_SCHEMA_VERSION} (run {@link migratePostgres}, or
 * `token-service migrate`); any other version is refused with
 * `configuration_invalid`. A database that cannot be reached, at open or
 * later (refused or lost connection, shutdown, statement or connection
 * timeout), gives `store_unavailable`, with the driver's error as `cause`
 * only: a commit whose connection was lost may or may not have been
 * written, as a whole, and is retried with the same idempotency key. The
 * pool replaces connections that die (PostgreSQL restarted): the store
 * recovers by itself. It never logs.
 *
 * @example
 * ```ts
 * await migratePostgres(process.env.DATABASE_URL!);
 * const store = await openPostgresStore(process.env.DATABASE_URL!, { max: 20 });
 * const service = createTokenService(config, store);
 * ```
 */
export async function openPostgresStore(connection: string | PostgresConnectionConfig, options: PostgresStoreOptions = {}): Promise<TokenServiceStore> {
  // Loaded first (an optional peer dependency): StoreDriverMissingError when it is not installed.
  const { Pool } = loadPg();
  const config = connectionConfig(connection, options, { statementTimeoutMs: 5000, connectionTimeoutMillis: 5000 });
  const max = options.max ?? (typeof connection === 'string' ? undefined : connection.max) ?? 10;
  if (!Number.isInteger(max) || max < 1) throw new InternalError('configuration_invalid', 'The PostgreSQL pool size (max) must be a positive integer');
  config.max = max;
  const hook = options.onRoundTrip;
  // The caller's counter never breaks an operation.
  const onRoundTrip = hook
    ? (operation: string): void => {
        try {
          hook(operation);
        } catch {
          // ignored
        }
      }
    : undefined;
  let pool: pg.Pool;
  try {
    pool = new Pool(config);
  } catch (cause) {
    throw new InternalError('configuration_invalid', 'The PostgreSQL connection settings are not valid', { cause });
  }
  // An idle connection that dies (PostgreSQL restarted, a network cut) is
  // removed by the pool, which then emits `error`: without a listener that
  // would crash the process. The next query gets a new connection.
  pool.on('error', () => undefined);

  // The schema must be at our version; this store never migrates it.
  let version: number;
  try {
    version = await readSchemaVersion(pool, () => onRoundTrip?.('open'));
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (isConfigurationFailure(error)) {
      throw new InternalError('configuration_invalid', 'The PostgreSQL database refused the connection: check the URL, role and database', { cause: error });
    }
    if (isUnavailable(error)) throw new InternalError('store_unavailable', 'The PostgreSQL database did not answer', { cause: error });
    throw new InternalError('internal_error', 'The PostgreSQL schema version could not be read', { cause: error });
  }
  if (version !== POSTGRES_SCHEMA_VERSION) {
    await pool.end().catch(() => undefined);
    throw new InternalError('configuration_invalid', schemaVersionMessage(version));
  }

  let closed = false;
  let closing: Promise<void> | undefined;

  /** One query, one round trip (again, at once, after a serialisation failure or deadlock). */
  const query = async <R extends pg.QueryResultRow>(operation: string, statement: { name: string; text: string }, values: unknown[] = []): Promise<pg.QueryResult<R>> => {
    if (closed) throw new InternalError('internal_error', 'The store is closed');
    for (let attempt = 0; ; attempt++) {
      onRoundTrip?.(operation);
      try {
        return await pool.query<R>({ name: statement.name, text: statement.text, values });
      } catch (error) {
        if (attempt < RETRIES_AT_ONCE && retryAtOnce(error) && !closed) continue;
        throw storeError(error, operation);
      }
    }
  };
  const count = async (operation: string, statement: { name: string; text: string }): Promise<number> =>
    (await query<{ n: number }>(operation, statement)).rows[0]!.n;
  /** A function's jsonb answer; a missing one is our failure, never the caller's outcome. */
  const outcomeOf = <T>(result: pg.QueryResult<{ outcome: T | null }>, operation: string): T => {
    const outcome = result.rows[0]?.outcome;
    if (outcome === null || outcome === undefined || typeof outcome !== 'object') {
      throw new InternalError('internal_error', `The PostgreSQL store gave no outcome (${operation})`);
    }
    return outcome;
  };

  return {
    tokens: {
      async find(tokenReferenceId) {
        const row = (await query<TokenRow>('tokens.find', Q.tokenFind, [tokenReferenceId])).rows[0];
        return row ? toToken(row) : undefined;
      },
      count: () => count('tokens.count', Q.tokenCount),
      async findLive(live) {
        const { walletProviderId, walletAccountId, issuerId, accountIds, nowMs, limit } = checkLiveQuery(live);
        const values = [walletProviderId, walletAccountId, issuerId, [...accountIds], monthIndex(nowMs), nowMs, limit];
        return (await query<LiveTokenRow>('tokens.findLive', Q.tokensLive, values)).rows.map(toLiveToken);
      },
    },
    vault: {
      async findProvisioned(q) {
        const row = (await query<VaultRow>('vault.findProvisioned', Q.vaultFindProvisioned, [q.panFingerprint, q.walletProviderId, q.walletAccountId, q.deviceId])).rows[0];
        return row ? toVault(row) : undefined;
      },
      async find(tokenReferenceId) {
        const row = (await query<VaultRow>('vault.find', Q.vaultFind, [tokenReferenceId])).rows[0];
        return row ? toVault(row) : undefined;
      },
      count: () => count('vault.count', Q.vaultCount),
    },
    replay: {
      async has(key) {
        return (await query('replay.has', Q.replayHas, [key])).rows.length > 0;
      },
      async claim(record) {
        return (await query('replay.claim', Q.replayClaim, [record.key, record.expiresAt])).rowCount === 1;
      },
      count: () => count('replay.count', Q.replayCount),
    },
    idempotency: {
      async begin(input) {
        const result = await query<{ outcome: IdempotencyBeginOutcome | null }>('begin', Q.begin, [
          input.scope,
          input.key,
          input.requestHash,
          input.leaseId,
          input.nowMs,
          input.leaseMs,
        ]);
        const outcome = outcomeOf(result, 'begin');
        return outcome.state === 'stored' ? { state: 'stored', record: outcome.record } : outcome;
      },
      async release(scope, key, leaseId) {
        await query('release', Q.release, [scope, key, leaseId]);
      },
      async find(scope, key) {
        const row = (await query<IdempotencyRow>('idempotency.find', Q.idemFind, [scope, key])).rows[0];
        return row ? toIdempotency(row) : undefined;
      },
      count: () => count('idempotency.count', Q.idemCount),
    },
    meta: {
      async get(name) {
        return (await query<{ value: string }>('meta.get', Q.metaGet, [name])).rows[0]?.value;
      },
      async claim(name, value) {
        for (let attempt = 0; attempt < 3; attempt++) {
          const found = (await query<{ value: string }>('meta.claim', Q.metaClaim, [name, value])).rows[0]?.value;
          if (found !== undefined) return found;
          const committed = (await query<{ value: string }>('meta.get', Q.metaGet, [name])).rows[0]?.value;
          if (committed !== undefined) return committed;
        }
        throw new InternalError('internal_error', 'The PostgreSQL store could not claim a metadata value');
      },
    },
    sealed: {
      async list(table, options) {
        const limit = checkListLimit(options.limit);
        const after = options.after === undefined ? undefined : checkKey(table, options.after);
        const s = SQ[table];
        const exclude = options.excludeKeyId ?? null;
        const result =
          after === undefined
            ? await query<Record<string, string>>('sealed.list', s.first, [exclude, limit])
            : await query<Record<string, string>>('sealed.list', s.after, [...after, exclude, limit]);
        return result.rows.map((r) => ({ key: s.key.map((k) => r[k]!), sealed: r.sealed! }));
      },
      async replace(table, updates) {
        for (const u of updates) checkKey(table, u.key);
        if (updates.length === 0) {
          if (closed) throw new InternalError('internal_error', 'The store is closed');
          return 0;
        }
        const s = SQ[table];
        const columns = s.key.map((_, i) => updates.map((u) => u.key[i]!));
        const result = await query('sealed.replace', s.replace, [...columns, updates.map((u) => u.from), updates.map((u) => u.to)]);
        return result.rowCount ?? 0;
      },
      async countByKeyId(table) {
        const rows = (await query<{ key_id: string; n: number }>('sealed.countByKeyId', SQ[table].counts)).rows;
        return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
      },
      async keyIds(table) {
        return (await query<{ key_id: string }>('sealed.keyIds', SQ[table].keyIds)).rows.map((r) => r.key_id);
      },
    },
    limits: {
      async hit(input) {
        const hit = checkHit(input);
        const row = (await query<{ count: number; window_start: number }>('limits.hit', Q.limitHit, [hit.key, hit.windowStart, hit.windowEnd, hit.limit])).rows[0];
        if (!row) throw new InternalError('internal_error', 'The PostgreSQL store gave no rate limit count');
        return hitOutcome(hit, Number(row.count), Number(row.window_start));
      },
    },
    verification: {
      async issue(input) {
        const body = {
          tokenReferenceId: input.tokenReferenceId,
          methodId: input.methodId,
          codeHash: input.codeHash,
          codeExpiresAt: input.codeExpiresAt,
          resendAfter: input.resendAfter,
          nowMs: input.nowMs,
          maxAttempts: input.maxAttempts,
        };
        const outcome = outcomeOf(await query<{ outcome: VerificationIssueOutcome | null }>('verification.issue', Q.verIssue, [JSON.stringify(body)]), 'verification.issue');
        return outcome.ok ? { ok: true, attempts: Number(outcome.attempts) } : outcome.reason === 'cooldown' ? { ...outcome, resendAfter: Number(outcome.resendAfter) } : outcome;
      },
      async attempt(input) {
        const outcome = outcomeOf(
          await query<{ outcome: VerificationAttemptOutcome | null }>('verification.attempt', Q.verAttempt, [input.tokenReferenceId, input.methodId, input.maxAttempts]),
          'verification.attempt',
        );
        return outcome.ok ? { ok: true, attempts: Number(outcome.attempts), codeHash: outcome.codeHash, codeExpiresAt: Number(outcome.codeExpiresAt) } : outcome;
      },
      async activate(input) {
        const i = input.idempotency;
        const body = {
          tokenReferenceId: input.tokenReferenceId,
          nowMs: input.nowMs,
          code: input.code === undefined ? undefined : { methodId: input.code.methodId, codeHash: input.code.codeHash },
          idempotency:
            i === undefined
              ? undefined
              : { scope: i.scope, key: i.key, leaseId: i.leaseId, requestHash: i.requestHash, status: i.status, sealedResponse: i.sealedResponse, createdAt: i.createdAt, expiresAt: i.expiresAt },
        };
        return outcomeOf(await query<{ outcome: VerificationActivateOutcome | null }>('verification.activate', Q.verActivate, [JSON.stringify(body)]), 'verification.activate');
      },
      async find(tokenReferenceId, methodId) {
        const row = (await query<VerificationCodeRow>('verification.find', Q.verFind, [tokenReferenceId, methodId])).rows[0];
        return row ? toVerificationCode(row) : undefined;
      },
      async expirePending(input) {
        return Number((await query<{ n: number }>('verification.expirePending', Q.verExpire, [input.nowMs, input.tokenReferenceId ?? null])).rows[0]!.n);
      },
      count: () => count('verification.count', Q.verCount),
    },
    deliveries: createPostgresDeliveries(query),
    lifecycle: {
      async transition(input) {
        const i = input.idempotency;
        const body = {
          tokenReferenceId: input.tokenReferenceId,
          from: [...input.from],
          to: input.to,
          type: input.type,
          actor: input.actor,
          reason: input.reason,
          nowMs: input.nowMs,
          sealedCard: input.sealedCard === undefined ? undefined : { from: input.sealedCard.from, to: input.sealedCard.to },
          idempotency:
            i === undefined
              ? undefined
              : { scope: i.scope, key: i.key, leaseId: i.leaseId, requestHash: i.requestHash, status: i.status, sealedResponse: i.sealedResponse, createdAt: i.createdAt, expiresAt: i.expiresAt },
        };
        const outcome = outcomeOf(await query<{ outcome: LifecycleTransitionOutcome | null }>('lifecycle.transition', Q.transition, [JSON.stringify(body)]), 'lifecycle.transition');
        return outcome.ok ? { ...outcome, sequence: Number(outcome.sequence) } : outcome;
      },
      async history(tokenReferenceId) {
        return (await query<HistoryRow>('lifecycle.history', Q.historyOf, [tokenReferenceId])).rows.map(toHistory);
      },
      async findByAccount(issuerId, accountId) {
        return (await query<TokenRow>('lifecycle.findByAccount', Q.tokensByAccount, [issuerId, accountId])).rows.map(toToken);
      },
      async findByCard(issuerId, panFingerprint) {
        return (await query<TokenRow>('lifecycle.findByCard', Q.tokensByCard, [panFingerprint, issuerId])).rows.map(toToken);
      },
    },
    events: {
      async feed(input) {
        const { party, after, limit } = checkFeed(input);
        const id = party.slice(party.indexOf(':') + 1);
        return (await query<EventRow>('events.feed', party.startsWith('issuer:') ? Q.feedIssuer : Q.feedWallet, [id, after, limit])).rows.map(toEvent);
      },
      async ofToken(tokenReferenceId) {
        return (await query<EventRow>('events.ofToken', Q.eventsOf, [tokenReferenceId])).rows.map(toEvent);
      },
      async deliveriesOf(eventId) {
        return (await query<DeliveryRow>('events.deliveriesOf', Q.deliveriesOf, [eventId])).rows.map(toDelivery);
      },
      count: () => count('events.count', Q.eventCount),
    },
    async commit(input) {
      if (closed) throw new InternalError('internal_error', 'The store is closed');
      if (input.issuance && input.issuance.vault.tokenReferenceId !== input.issuance.token.tokenReferenceId) {
        throw new InternalError('internal_error', 'Vault entry and token differ');
      }
      return outcomeOf(await query<{ outcome: CommitOutcome | null }>('commit', Q.commit, [commitJson(input)]), 'commit');
    },
    async refuse(input) {
      const body = {
        idempotency: { scope: input.idempotency.scope, key: input.idempotency.key, leaseId: input.idempotency.leaseId },
        replay: input.replay.map((r) => ({ key: r.key, expiresAt: r.expiresAt })),
      };
      await query('refuse', Q.refuse, [JSON.stringify(body)]);
    },
    async purgeExpired(nowMs): Promise<PurgeResult> {
      const row = (await query<{ replay: number; idempotency: number; limits: number }>('purgeExpired', Q.purge, [nowMs])).rows[0]!;
      return { replay: row.replay, idempotency: row.idempotency, limits: row.limits };
    },
    async ping() {
      if (closed) throw new InternalError('store_unavailable', 'The store is closed');
      await query('ping', Q.ping);
    },
    close() {
      closed = true;
      // Queries already sent finish; then every connection is closed.
      closing ??= pool.end().catch(() => undefined);
      return closing;
    },
  };
}
