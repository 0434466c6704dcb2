import { closeSync, existsSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { InternalError } from '@pushprov/protocol';
import type {
  CommitInput,
  CommitOutcome,
  IdempotencyBeginInput,
  IdempotencyBeginOutcome,
  LifecycleTransitionInput,
  LifecycleTransitionOutcome,
  PurgeResult,
  RefusalInput,
  ReplayRecord,
  SealedTable,
  SealedValueUpdate,
  TokenServiceStore,
  VerificationActivateInput,
  VerificationActivateOutcome,
  VerificationAttemptOutcome,
  VerificationIssueInput,
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
import { checkHit, hitOutcome } from '../rate-limits.js';
import { SEALED_COLUMNS, checkKey, checkListLimit, sqliteKeyIdExpression } from '../sealed.js';
import { loadBetterSqlite3 } from '../load-driver.js';
import { SQLITE_LATEST_VERSION, SQLITE_MIGRATIONS, SQLITE_NULLABLE_TOKEN_NUMBER_VERSION, rebuildTokensWithNullableNumber } from './sqlite-schema.js';
import { type SqliteDeliveryOp, createSqliteDeliveries } from './sqlite-deliveries.js';

/**
 * The schema version this code writes (`PRAGMA user_version`). A database
 * with a newer version is refused.
 *
 * @example
 * ```ts
 * db.pragma('user_version', { simple: true }) === SQLITE_SCHEMA_VERSION;
 * ```
 */
export const SQLITE_SCHEMA_VERSION = SQLITE_LATEST_VERSION;

/**
 * The store's writer thread, under a symbol (not part of the API): for
 * operators' diagnostics and for tests that stop it as a crash would.
 *
 * @internal
 */
export const SQLITE_WRITER: unique symbol = Symbol.for('pushprov.sqlite.writer');

/**
 * The schema version of a SQLite database file (`PRAGMA user_version`; 0 for
 * a file that does not exist yet), read without changing it.
 *
 * @example
 * ```ts
 * readSqliteVersion('tokens.db') === SQLITE_SCHEMA_VERSION;
 * ```
 */
export function readSqliteVersion(path: string): number {
  if (!existsSync(path)) return 0;
  const Sqlite = loadBetterSqlite3();
  const db = new Sqlite(path, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `FULL` (default) syncs the WAL on every commit, so an acknowledged token
   * survives a power loss as well as a process kill. `NORMAL` survives a
   * process kill (SIGKILL) but may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's lock, ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** One write, as the writer thread runs it (see sqlite-writer.worker.mjs). */
type WriterOp =
  | { op: 'commit'; input: CommitInput }
  | { op: 'begin'; input: IdempotencyBeginInput }
  | { op: 'release'; scope: string; key: string; leaseId: string }
  | { op: 'refuse'; input: RefusalInput }
  | { op: 'claim'; record: ReplayRecord }
  | { op: 'metaClaim'; name: string; value: string }
  | { op: 'reseal'; table: SealedTable; updates: readonly SealedValueUpdate[] }
  | { op: 'limitHit'; hit: { key: string; windowStart: number; windowEnd: number; limit: number } }
  | { op: 'verIssue'; input: VerificationIssueInput }
  | { op: 'verAttempt'; input: { tokenReferenceId: string; methodId: string; maxAttempts: number } }
  | { op: 'verActivate'; input: VerificationActivateInput }
  | { op: 'verExpire'; input: { nowMs: number; tokenReferenceId?: string | undefined } }
  | { op: 'transition'; input: LifecycleTransitionInput }
  | SqliteDeliveryOp;
/** A write's result as the writer thread sends it: its value, or a failure. */
type WriterResult = { value: unknown } | { internal: string; causeName?: string; causeCode?: string };
/** A writer thread's answer to one message. */
type WriterReply = {
  id: number;
  results?: WriterResult[];
  purged?: PurgeResult;
  pong?: true;
  closed?: true;
  failed?: { causeName?: string; causeCode?: string };
};

/** The cause of a writer-side failure, rebuilt from its name and code (never its values). */
const writerCause = (failure: { causeName?: string; causeCode?: string }): Error => {
  const cause = new Error(failure.causeCode ?? 'writer failure');
  cause.name = failure.causeName ?? 'Error';
  return cause;
};

/**
 * Opens (creating if needed) a SQLite {@link TokenServiceStore} with
 * better-sqlite3: WAL journal, `synchronous = FULL` by default (every
 * acknowledged commit is on disk), foreign keys on, `STRICT` tables. Each
 * {@link TokenServiceStore.commit} is its own all-or-nothing unit. Writes run
 * on a writer thread with its own connection, so the event loop goes on
 * serving requests while a transaction is written and synced; reads use this
 * thread's connection. Commits asked for while the writer is busy (or in the
 * same turn of the event loop) share one `BEGIN IMMEDIATE` transaction (group
 * commit: one WAL sync for all of them), each inside its own savepoint, and
 * none is acknowledged before that transaction is on disk. The path must be a
 * file (`:memory:` would give each connection its own database: use
 * `createMemoryStore`). Unique
 * constraints (token number hash, card per wallet account and device, replay
 * key, idempotency key) are enforced by the database itself.
 *
 * Every cross-request guarantee (idempotency entries with their lease,
 * claimed client assertions, replay keys) is held by the database, so
 * several processes on one host may share the file (a `node:cluster` of
 * servers, for instance); for several hosts, use the PostgreSQL store.
 * Writes that need no durability (beginning or releasing an idempotency
 * entry: a lost one only ends its lease early; a rate limit hit: a lost
 * count only loosens a limit) are batched without a sync when no durable
 * write is in the same batch.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('/var/lib/token-service/tokens.db');
 * const service = createTokenService(config, store);
 * ```
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): TokenServiceStore {
  if (path === '' || path === ':memory:' || path.startsWith('file::memory:')) {
    throw new InternalError('configuration_invalid', 'The SQLite store needs a database file; use createMemoryStore() for a store in memory');
  }
  // Loaded first (an optional peer dependency): when it is missing, no file is created.
  const Sqlite = loadBetterSqlite3();
  const synchronous = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  let db: Database.Database;
  try {
    // Created readable by its owner only: it holds personal data and sealed card numbers.
    // (SQLite gives the -wal and -shm files the database file's permissions.)
    if (!path.startsWith('file:')) closeSync(openSync(path, 'a', 0o600));
    db = new Sqlite(path);
  } catch (cause) {
    throw new InternalError('configuration_invalid', 'The database file could not be opened', { cause });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new InternalError('configuration_invalid', `The database schema version ${version} is newer than this token service (${SQLITE_SCHEMA_VERSION})`);
    }
    // Rebuilding a table (version 7) needs foreign keys off for the migration (they cannot change inside a transaction);
    // they are checked before the migration commits, and on again after it.
    const rebuild = version < SQLITE_NULLABLE_TOKEN_NUMBER_VERSION;
    if (rebuild) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        const current = db.pragma('user_version', { simple: true }) as number;
        for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
          if (v + 1 === SQLITE_NULLABLE_TOKEN_NUMBER_VERSION) rebuildTokensWithNullableNumber(db);
          db.exec(SQLITE_MIGRATIONS[v]!);
        }
        if ((db.pragma('foreign_key_check') as unknown[]).length > 0) throw new Error('foreign key check failed after the migration');
        db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
      }).immediate();
    } finally {
      if (rebuild) db.pragma('foreign_keys = ON');
    }
  } catch (cause) {
    db.close();
    if (cause instanceof InternalError) throw cause;
    throw new InternalError('configuration_invalid', 'The database could not be initialised', { cause });
  }

  const q = {
    tokenFind: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE token_reference_id = ?'),
    tokenCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens'),
    vaultFind: db.prepare<[string], VaultRow>('SELECT * FROM vault WHERE token_reference_id = ?'),
    vaultFindProvisioned: db.prepare<[string, string, string, string], VaultRow>(
      'SELECT * FROM vault WHERE pan_fingerprint = ? AND wallet_provider_id = ? AND wallet_account_id = ? AND device_id = ?',
    ),
    vaultCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM vault'),
    replayHas: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM replay WHERE key = ?'),
    replayCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM replay'),
    idemFind: db.prepare<[string, string], IdempotencyRow>('SELECT * FROM idempotency WHERE scope = ? AND key = ?'),
    ping: db.prepare<[], { one: number }>('SELECT 1 AS one'),
    idemCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM idempotency'),
    metaGet: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?'),
    codeFind: db.prepare<[string, string], VerificationCodeRow>('SELECT * FROM verification_codes WHERE token_reference_id = ? AND method_id = ?'),
    codeCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM verification_codes'),
    tokensByAccount: db.prepare<[string, string], TokenRow>('SELECT * FROM tokens WHERE issuer_id = ? AND account_id = ? ORDER BY created_at DESC, token_reference_id LIMIT 1000'),
    historyOf: db.prepare<[string], HistoryRow>('SELECT * FROM token_history WHERE token_reference_id = ? ORDER BY id'),
    tokensByCard: db.prepare<[string, string], TokenRow>(
      `SELECT t.* FROM vault v JOIN tokens t ON t.token_reference_id = v.token_reference_id
       WHERE v.pan_fingerprint = ? AND t.issuer_id = ? ORDER BY t.created_at DESC, t.token_reference_id LIMIT 1000`,
    ),
    feedIssuer: db.prepare<[string, number, number], EventRow>('SELECT * FROM events WHERE issuer_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    feedWallet: db.prepare<[string, number, number], EventRow>('SELECT * FROM events WHERE wallet_provider_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    eventsOf: db.prepare<[string], EventRow>('SELECT * FROM events WHERE token_reference_id = ? ORDER BY sequence'),
    deliveriesOf: db.prepare<[string], DeliveryRow>('SELECT * FROM deliveries WHERE event_id = ? ORDER BY receiver'),
    eventCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events'),
    // Schema 8's index serves the first four conditions (account_id IS NOT NULL: the index is partial).
    tokensLive: db.prepare<[string, string, string, string, number, number, number], LiveTokenRow>(
      `SELECT t.token_reference_id, t.account_id, t.device_id, t.status, t.expiry_month, t.expiry_year, t.created_at,
         (t.status = 'pending_activation' AND EXISTS (SELECT 1 FROM verification_codes c WHERE c.token_reference_id = t.token_reference_id)) AS activation_started
       FROM tokens t
       WHERE t.wallet_provider_id = ? AND t.wallet_account_id = ? AND t.issuer_id = ?
         AND t.account_id IS NOT NULL AND t.account_id IN (SELECT value FROM json_each(?))
         AND t.status IN ('active', 'pending_activation', 'suspended')
         AND t.expiry_year * 12 + t.expiry_month >= ?
         AND NOT (t.status = 'pending_activation' AND t.pending_expires_at IS NOT NULL AND t.pending_expires_at <= ?)
       ORDER BY t.account_id, t.created_at, t.token_reference_id
       LIMIT ?`,
    ),
  };
  // The sealed values of each table: pages in primary key order (after a
  // cursor: a range of the primary key's index), counts and key ids by the
  // indexed key id expression (the key ids: a skip over that index, one
  // probe per key id in use).
  const sealedQueries = (table: SealedTable) => {
    const { table: name, column, key } = SEALED_COLUMNS[table];
    const keyId = sqliteKeyIdExpression(column);
    const keys = key.join(', ');
    const cursor = key.length === 1 ? `${key[0]} > ?` : `(${keys}) > (${key.map(() => '?').join(', ')})`;
    const select = `SELECT ${keys}, ${column} AS sealed FROM ${name}`;
    // A deleted token's number is gone (NULL, schema 7): nothing sealed to list, count or rotate.
    const present = `${column} IS NOT NULL`;
    return {
      first: db.prepare<[string | null, number], Record<string, string>>(`${select} WHERE ${present} AND ${keyId} IS NOT ? ORDER BY ${keys} LIMIT ?`),
      after: db.prepare<unknown[], Record<string, string>>(`${select} WHERE ${cursor} AND ${present} AND ${keyId} IS NOT ? ORDER BY ${keys} LIMIT ?`),
      counts: db.prepare<[], { key_id: string; n: number }>(`SELECT ${keyId} AS key_id, count(*) AS n FROM ${name} WHERE ${present} GROUP BY ${keyId}`),
      keyIds: db.prepare<[], { key_id: string }>(
        `WITH RECURSIVE k(id) AS (
           SELECT (SELECT ${keyId} FROM ${name} WHERE ${present} ORDER BY ${keyId} LIMIT 1)
           UNION ALL
           SELECT (SELECT ${keyId} FROM ${name} WHERE ${keyId} > k.id AND ${present} ORDER BY ${keyId} LIMIT 1) FROM k WHERE k.id IS NOT NULL
         ) SELECT id AS key_id FROM k WHERE id IS NOT NULL`,
      ),
      key,
    };
  };
  const sq = { vault: sealedQueries('vault'), tokens: sealedQueries('tokens'), idempotency: sealedQueries('idempotency') };

  let closed = false;
  let closing: Promise<void> = Promise.resolve();
  const guard = <T>(fn: () => T): T => {
    if (closed || !db.open) throw new InternalError('internal_error', 'The store is closed');
    return fn();
  };

  // The writer thread (see sqlite-writer.worker.mjs), started once the schema exists.
  // It is referenced (keeps the process alive) only while it has work.
  // No inherited Node flags: the writer needs none, and some (`--input-type`) would stop it from loading.
  const writer = new Worker(new URL('./sqlite-writer.worker.mjs', import.meta.url), { workerData: { path, synchronous, busyTimeoutMs }, execArgv: [] });
  writer.unref();
  let nextId = 0;
  const calls = new Map<number, { resolve: (reply: WriterReply) => void; reject: (error: unknown) => void }>();
  let writerError: InternalError | undefined;
  let writerAlive = true;
  const failAll = (error: InternalError) => {
    writerAlive = false;
    writerError ??= error;
    for (const call of calls.values()) call.reject(writerError);
    calls.clear();
    for (const p of pending) p.reject(writerError);
    pending = [];
  };
  writer.on('message', (reply: WriterReply) => {
    const call = calls.get(reply.id);
    if (!call) return;
    calls.delete(reply.id);
    if (calls.size === 0) writer.unref();
    call.resolve(reply);
  });
  writer.on('error', (cause) => failAll(new InternalError('store_unavailable', 'The database writer failed', { cause })));
  writer.on('exit', () => failAll(new InternalError(closed ? 'internal_error' : 'store_unavailable', closed ? 'The store is closed' : 'The database writer stopped')));
  const ask = (
    message: { type: 'batch'; ops: WriterOp[] } | { type: 'purge'; nowMs: number } | { type: 'ping' } | { type: 'close' },
  ): Promise<WriterReply> =>
    new Promise<WriterReply>((resolve, reject) => {
      if (writerError) {
        reject(writerError);
        return;
      }
      const id = ++nextId;
      calls.set(id, { resolve, reject });
      writer.ref();
      writer.postMessage({ ...message, id });
    });

  // Group commit. Writes asked for while a batch is being written (or in one
  // turn of the event loop) go to the writer together, as one transaction
  // with one WAL sync (with synchronous = FULL, the sync is most of a
  // commit's cost); each runs in its own savepoint there, so a conflict or
  // failure rolls back that write alone, exactly as in a transaction of its
  // own. Every caller is answered only after the shared COMMIT has returned,
  // so an acknowledged commit is on disk; if the transaction is lost, nothing
  // of the batch was written and every write of it fails. One batch at a
  // time: writes are applied in the order they were asked for.
  type Pending = { op: WriterOp; resolve: (value: unknown) => void; reject: (error: unknown) => void };
  let pending: Pending[] = [];
  let writing: Promise<void> | undefined;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (writing || pending.length === 0) return;
    const batch = pending;
    pending = [];
    writing = ask({ type: 'batch', ops: batch.map((p) => p.op) }).then(
      (reply) => {
        if (reply.failed || !reply.results) {
          const failure = new InternalError('store_unavailable', 'The database write failed', { cause: writerCause(reply.failed ?? {}) });
          for (const p of batch) p.reject(failure);
          return;
        }
        batch.forEach((p, i) => {
          const result = reply.results![i]!;
          if ('value' in result) p.resolve(result.value);
          else p.reject(new InternalError('internal_error', result.internal, result.causeName ? { cause: writerCause(result) } : {}));
        });
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
    void writing.then(() => {
      writing = undefined;
      flush();
    });
  };
  const enqueue = async <T>(op: WriterOp): Promise<T> =>
    guard(
      () =>
        new Promise<T>((resolve, reject) => {
          if (writerError) {
            reject(writerError);
            return;
          }
          pending.push({ op, resolve: resolve as (value: unknown) => void, reject });
          if (!writing && !scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        }),
    );

  const store: TokenServiceStore = {
    tokens: {
      async find(tokenReferenceId) {
        return guard(() => {
          const row = q.tokenFind.get(tokenReferenceId);
          return row ? toToken(row) : undefined;
        });
      },
      async count() {
        return guard(() => q.tokenCount.get()!.n);
      },
      async findLive(query) {
        const { walletProviderId, walletAccountId, issuerId, accountIds, nowMs, limit } = checkLiveQuery(query);
        return guard(() => q.tokensLive.all(walletProviderId, walletAccountId, issuerId, JSON.stringify(accountIds), monthIndex(nowMs), nowMs, limit).map(toLiveToken));
      },
    },
    vault: {
      async findProvisioned(query) {
        return guard(() => {
          const row = q.vaultFindProvisioned.get(query.panFingerprint, query.walletProviderId, query.walletAccountId, query.deviceId);
          return row ? toVault(row) : undefined;
        });
      },
      async find(tokenReferenceId) {
        return guard(() => {
          const row = q.vaultFind.get(tokenReferenceId);
          return row ? toVault(row) : undefined;
        });
      },
      async count() {
        return guard(() => q.vaultCount.get()!.n);
      },
    },
    replay: {
      async has(key) {
        return guard(() => q.replayHas.get(key) !== undefined);
      },
      claim: (record) => enqueue<boolean>({ op: 'claim', record }),
      async count() {
        return guard(() => q.replayCount.get()!.n);
      },
    },
    idempotency: {
      begin: (input) => enqueue<IdempotencyBeginOutcome>({ op: 'begin', input }),
      release: (scope, key, leaseId) => enqueue<void>({ op: 'release', scope, key, leaseId }),
      async find(scope, key) {
        return guard(() => {
          const row = q.idemFind.get(scope, key);
          return row ? toIdempotency(row) : undefined;
        });
      },
      async count() {
        return guard(() => q.idemCount.get()!.n);
      },
    },
    meta: {
      async get(name) {
        return guard(() => q.metaGet.get(name)?.value);
      },
      claim: (name, value) => enqueue<string>({ op: 'metaClaim', name, value }),
    },
    sealed: {
      async list(table, options) {
        const limit = checkListLimit(options.limit);
        const after = options.after === undefined ? undefined : checkKey(table, options.after);
        return guard(() => {
          const s = sq[table];
          const exclude = options.excludeKeyId ?? null;
          const rows = after === undefined ? s.first.all(exclude, limit) : s.after.all(...after, exclude, limit);
          return rows.map((r) => ({ key: s.key.map((k) => r[k]!), sealed: r.sealed! }));
        });
      },
      async replace(table, updates) {
        for (const u of updates) checkKey(table, u.key);
        if (updates.length === 0) return guard(() => 0);
        const plain = updates.map((u) => ({ key: [...u.key], from: u.from, to: u.to }));
        return enqueue<number>({ op: 'reseal', table, updates: plain });
      },
      async countByKeyId(table) {
        return guard(() => Object.fromEntries(sq[table].counts.all().map((r) => [r.key_id, r.n])));
      },
      async keyIds(table) {
        return guard(() => sq[table].keyIds.all().map((r) => r.key_id));
      },
    },
    limits: {
      async hit(input) {
        const hit = checkHit(input);
        const row = await enqueue<{ count: number; windowStart: number }>({
          op: 'limitHit',
          hit: { key: hit.key, windowStart: hit.windowStart, windowEnd: hit.windowEnd, limit: hit.limit },
        });
        return hitOutcome(hit, row.count, row.windowStart);
      },
    },
    verification: {
      issue: (input) => enqueue<VerificationIssueOutcome>({ op: 'verIssue', input: { ...input } }),
      attempt: (input) =>
        enqueue<VerificationAttemptOutcome>({ op: 'verAttempt', input: { tokenReferenceId: input.tokenReferenceId, methodId: input.methodId, maxAttempts: input.maxAttempts } }),
      activate: (input) => enqueue<VerificationActivateOutcome>({ op: 'verActivate', input }),
      async find(tokenReferenceId, methodId) {
        return guard(() => {
          const row = q.codeFind.get(tokenReferenceId, methodId);
          return row ? toVerificationCode(row) : undefined;
        });
      },
      expirePending: (input) => enqueue<number>({ op: 'verExpire', input: { nowMs: input.nowMs, tokenReferenceId: input.tokenReferenceId } }),
      async count() {
        return guard(() => q.codeCount.get()!.n);
      },
    },
    deliveries: createSqliteDeliveries({ db, guard, enqueue }),
    lifecycle: {
      transition: (input) => enqueue<LifecycleTransitionOutcome>({ op: 'transition', input: { ...input, from: [...input.from] } }),
      async history(tokenReferenceId) {
        return guard(() => q.historyOf.all(tokenReferenceId).map(toHistory));
      },
      async findByAccount(issuerId, accountId) {
        return guard(() => q.tokensByAccount.all(issuerId, accountId).map(toToken));
      },
      async findByCard(issuerId, panFingerprint) {
        return guard(() => q.tokensByCard.all(panFingerprint, issuerId).map(toToken));
      },
    },
    events: {
      async feed(input) {
        const { party, after, limit } = checkFeed(input);
        const id = party.slice(party.indexOf(':') + 1);
        return guard(() => (party.startsWith('issuer:') ? q.feedIssuer : q.feedWallet).all(id, after, limit).map(toEvent));
      },
      async ofToken(tokenReferenceId) {
        return guard(() => q.eventsOf.all(tokenReferenceId).map(toEvent));
      },
      async deliveriesOf(eventId) {
        return guard(() => q.deliveriesOf.all(eventId).map(toDelivery));
      },
      async count() {
        return guard(() => q.eventCount.get()!.n);
      },
    },
    commit: (input) => enqueue<CommitOutcome>({ op: 'commit', input }),
    refuse: (input) => enqueue<void>({ op: 'refuse', input }),
    async purgeExpired(nowMs) {
      guard(() => undefined);
      const reply = await ask({ type: 'purge', nowMs });
      if (reply.failed || !reply.purged) throw new InternalError('store_unavailable', 'Expired records could not be purged', { cause: writerCause(reply.failed ?? {}) });
      return reply.purged;
    },
    async ping() {
      if (closed || !db.open) throw new InternalError('store_unavailable', 'The store is closed');
      if (!writerAlive || writerError) throw new InternalError('store_unavailable', 'The database writer is not running');
      try {
        q.ping.get();
      } catch (cause) {
        throw new InternalError('store_unavailable', 'The database does not answer', { cause });
      }
      const reply = await ask({ type: 'ping' });
      if (!reply.pong) throw new InternalError('store_unavailable', 'The database writer does not answer', { cause: writerCause(reply.failed ?? {}) });
    },
    async close() {
      if (closed) return closing;
      closed = true;
      closing = (async () => {
        // Writes already asked for are applied, not dropped (each finished batch sends the next).
        flush();
        while (writing) await writing;
        if (!writerError) await ask({ type: 'close' }).catch(() => undefined);
        await writer.terminate();
        if (db.open) db.close();
      })();
      return closing;
    },
  };
  Object.defineProperty(store, SQLITE_WRITER, { value: writer, enumerable: false });
  return store;
}
