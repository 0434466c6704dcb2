import Database from 'better-sqlite3';
import { InternalError } from '@pushprov/protocol';
import type {
  CommitInput,
  CommitOutcome,
  IdempotencyRecord,
  TokenRecord,
  TokenServiceStore,
  VaultRecord,
} from './types.js';

/**
 * The schema version this code writes (`PRAGMA user_version`). A database
 * with a newer version is refused.
 *
 * @example
 * ```ts
 * db.pragma('user_version', { simple: true }) === SQLITE_SCHEMA_VERSION;
 * ```
 */
export const SQLITE_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tokens (
  token_reference_id TEXT PRIMARY KEY,
  token_number_hash TEXT NOT NULL UNIQUE,
  sealed_token_number TEXT NOT NULL,
  token_last4 TEXT NOT NULL CHECK (length(token_last4) = 4),
  expiry_month INTEGER NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
  expiry_year INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'pending_activation', 'suspended', 'deleted')),
  issuer_id TEXT NOT NULL,
  wallet_provider_id TEXT NOT NULL,
  wallet_account_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  network TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS vault (
  token_reference_id TEXT PRIMARY KEY REFERENCES tokens (token_reference_id),
  pan_fingerprint TEXT NOT NULL,
  wallet_provider_id TEXT NOT NULL,
  wallet_account_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  sealed_card TEXT NOT NULL,
  pan_last4 TEXT NOT NULL CHECK (length(pan_last4) = 4),
  created_at INTEGER NOT NULL,
  UNIQUE (pan_fingerprint, wallet_provider_id, wallet_account_id, device_id)
) STRICT;
CREATE TABLE IF NOT EXISTS replay (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS replay_expires_at ON replay (expires_at);
CREATE TABLE IF NOT EXISTS idempotency (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  sealed_response TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT;
CREATE INDEX IF NOT EXISTS idempotency_expires_at ON idempotency (expires_at);
`;

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

interface TokenRow {
  token_reference_id: string;
  token_number_hash: string;
  sealed_token_number: string;
  token_last4: string;
  expiry_month: number;
  expiry_year: number;
  status: TokenRecord['status'];
  issuer_id: string;
  wallet_provider_id: string;
  wallet_account_id: string;
  device_id: string;
  network: string | null;
  created_at: number;
  updated_at: number;
}

interface VaultRow {
  token_reference_id: string;
  pan_fingerprint: string;
  wallet_provider_id: string;
  wallet_account_id: string;
  device_id: string;
  sealed_card: string;
  pan_last4: string;
  created_at: number;
}

interface IdempotencyRow {
  scope: string;
  key: string;
  request_hash: string;
  status: number;
  sealed_response: string;
  created_at: number;
  expires_at: number;
}

const toToken = (r: TokenRow): TokenRecord => {
  const token: TokenRecord = {
    tokenReferenceId: r.token_reference_id,
    tokenNumberHash: r.token_number_hash,
    sealedTokenNumber: r.sealed_token_number,
    tokenLast4: r.token_last4,
    tokenExpiry: { month: r.expiry_month, year: r.expiry_year },
    status: r.status,
    issuerId: r.issuer_id,
    walletProviderId: r.wallet_provider_id,
    walletAccountId: r.wallet_account_id,
    deviceId: r.device_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.network !== null) token.network = r.network;
  return token;
};

const toVault = (r: VaultRow): VaultRecord => ({
  tokenReferenceId: r.token_reference_id,
  panFingerprint: r.pan_fingerprint,
  walletProviderId: r.wallet_provider_id,
  walletAccountId: r.wallet_account_id,
  deviceId: r.device_id,
  sealedCard: r.sealed_card,
  panLast4: r.pan_last4,
  createdAt: r.created_at,
});

const toIdempotency = (r: IdempotencyRow): IdempotencyRecord => ({
  scope: r.scope,
  key: r.key,
  requestHash: r.request_hash,
  status: r.status,
  sealedResponse: r.sealed_response,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** Thrown inside a transaction to roll it back with an outcome. */
class Conflict {
  constructor(readonly outcome: CommitOutcome) {}
}

/**
 * Opens (creating if needed) a SQLite {@link TokenServiceStore} with
 * better-sqlite3: WAL journal, `synchronous = FULL` by default (every
 * acknowledged commit is on disk), foreign keys on, `STRICT` tables. Each
 * {@link TokenServiceStore.commit} is its own all-or-nothing unit; commits
 * asked for in the same turn of the event loop share one `BEGIN IMMEDIATE`
 * transaction (group commit: one WAL sync for all of them), each inside its
 * own savepoint, and none is acknowledged before that transaction is on
 * disk. Unique
 * constraints (token number hash, card per wallet account and device, replay
 * key, idempotency key) are enforced by the database itself.
 *
 * Run one server process per database file: the in-flight idempotency guard
 * (409) lives in the process. Conflicting commits from several processes are
 * still refused by the constraints.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('/var/lib/token-service/tokens.db');
 * const service = createTokenService(config, store);
 * ```
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): TokenServiceStore {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (cause) {
    throw new InternalError('configuration_invalid', 'The database file could not be opened', { cause });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new InternalError('configuration_invalid', `The database schema version ${version} is newer than this token service (${SQLITE_SCHEMA_VERSION})`);
    }
    db.transaction(() => {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
    }).immediate();
  } catch (cause) {
    db.close();
    if (cause instanceof InternalError) throw cause;
    throw new InternalError('configuration_invalid', 'The database could not be initialised', { cause });
  }

  const q = {
    tokenFind: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE token_reference_id = ?'),
    tokenCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens'),
    tokenHashExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM tokens WHERE token_number_hash = ?'),
    tokenInsert: db.prepare(
      `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
         issuer_id, wallet_provider_id, wallet_account_id, device_id, network, created_at, updated_at)
       VALUES (@tokenReferenceId, @tokenNumberHash, @sealedTokenNumber, @tokenLast4, @expiryMonth, @expiryYear, @status,
         @issuerId, @walletProviderId, @walletAccountId, @deviceId, @network, @createdAt, @updatedAt)
       ON CONFLICT DO NOTHING`,
    ),
    vaultFind: db.prepare<[string], VaultRow>('SELECT * FROM vault WHERE token_reference_id = ?'),
    vaultFindProvisioned: db.prepare<[string, string, string, string], VaultRow>(
      'SELECT * FROM vault WHERE pan_fingerprint = ? AND wallet_provider_id = ? AND wallet_account_id = ? AND device_id = ?',
    ),
    vaultCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM vault'),
    vaultInsert: db.prepare(
      `INSERT INTO vault (token_reference_id, pan_fingerprint, wallet_provider_id, wallet_account_id, device_id, sealed_card, pan_last4, created_at)
       VALUES (@tokenReferenceId, @panFingerprint, @walletProviderId, @walletAccountId, @deviceId, @sealedCard, @panLast4, @createdAt)`,
    ),
    replayHas: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM replay WHERE key = ?'),
    replayCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM replay'),
    replayInsert: db.prepare('INSERT INTO replay (key, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    replayPurge: db.prepare('DELETE FROM replay WHERE expires_at <= ?'),
    idemFind: db.prepare<[string, string], IdempotencyRow>('SELECT * FROM idempotency WHERE scope = ? AND key = ?'),
    idemCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM idempotency'),
    idemInsert: db.prepare(
      `INSERT INTO idempotency (scope, key, request_hash, status, sealed_response, created_at, expires_at)
       VALUES (@scope, @key, @requestHash, @status, @sealedResponse, @createdAt, @expiresAt)
       ON CONFLICT DO NOTHING`,
    ),
    idemPurge: db.prepare('DELETE FROM idempotency WHERE expires_at <= ?'),
  };

  const write = db.transaction((input: CommitInput): CommitOutcome => {
    if (q.idemInsert.run(input.idempotency).changes === 0) throw new Conflict({ ok: false, conflict: 'idempotency' });
    for (const r of input.replay) {
      if (q.replayInsert.run(r.key, r.expiresAt).changes === 0) throw new Conflict({ ok: false, conflict: 'replay' });
    }
    const issuance = input.issuance;
    if (issuance) {
      const { token, vault } = issuance;
      const row = {
        ...token,
        expiryMonth: token.tokenExpiry.month,
        expiryYear: token.tokenExpiry.year,
        network: token.network ?? null,
      };
      if (q.tokenInsert.run(row).changes === 0) {
        if (q.tokenHashExists.get(token.tokenNumberHash)) throw new Conflict({ ok: false, conflict: 'token_number' });
        throw new InternalError('internal_error', 'Duplicate token reference id');
      }
      const existing = q.vaultFindProvisioned.get(vault.panFingerprint, vault.walletProviderId, vault.walletAccountId, vault.deviceId);
      if (existing) throw new Conflict({ ok: false, conflict: 'already_provisioned', tokenReferenceId: existing.token_reference_id });
      q.vaultInsert.run(vault);
    }
    return { ok: true };
  });

  const guard = <T>(fn: () => T): T => {
    if (!db.open) throw new InternalError('internal_error', 'The store is closed');
    return fn();
  };

  /** The outcome of one commit, or the error it fails with. */
  const settle = (error: unknown): CommitOutcome => {
    if (error instanceof Conflict) return error.outcome;
    if (error instanceof InternalError) throw error;
    throw new InternalError('internal_error', 'The provisioning could not be stored', { cause: error });
  };

  // Group commit. Commits asked for in one turn of the event loop are written
  // in one transaction, so they share one WAL sync (with synchronous = FULL,
  // the sync is most of a commit's cost). Each runs in its own savepoint
  // (better-sqlite3 nests transactions that way), so a conflict or failure
  // rolls back that commit alone, exactly as in a transaction of its own.
  // Every caller is answered only after the shared COMMIT has returned, so
  // an acknowledged commit is as durable as before; if the transaction is
  // lost (the COMMIT fails, or SQLite rolled it back), nothing of the batch
  // was written and every commit of it fails.
  type Pending = { input: CommitInput; resolve: (outcome: CommitOutcome) => void; reject: (error: unknown) => void };
  let pending: Pending[] = [];
  const writeBatch = db.transaction((batch: readonly Pending[]): { outcome?: CommitOutcome; error?: unknown }[] =>
    batch.map(({ input }) => {
      try {
        return { outcome: write(input) };
      } catch (error) {
        if (!db.inTransaction) throw error;
        return { error };
      }
    }),
  );
  const flush = (): void => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    if (batch.length === 1) {
      const { input, resolve, reject } = batch[0]!;
      try {
        resolve(guard(() => write.immediate(input)));
      } catch (error) {
        try {
          resolve(settle(error));
        } catch (failure) {
          reject(failure);
        }
      }
      return;
    }
    let results: { outcome?: CommitOutcome; error?: unknown }[];
    try {
      results = guard(() => writeBatch.immediate(batch));
    } catch (error) {
      const failure = error instanceof InternalError ? error : new InternalError('internal_error', 'The provisioning could not be stored', { cause: error });
      for (const p of batch) p.reject(failure);
      return;
    }
    batch.forEach((p, i) => {
      const { outcome, error } = results[i]!;
      try {
        p.resolve(outcome ?? settle(error));
      } catch (failure) {
        p.reject(failure);
      }
    });
  };

  return {
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
      async count() {
        return guard(() => q.replayCount.get()!.n);
      },
    },
    idempotency: {
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
    async commit(input) {
      return guard(
        () =>
          new Promise<CommitOutcome>((resolve, reject) => {
            if (pending.length === 0) setImmediate(flush);
            pending.push({ input, resolve, reject });
          }),
      );
    },
    async purgeExpired(nowMs) {
      return guard(() =>
        db.transaction(() => ({
          replay: q.replayPurge.run(nowMs).changes,
          idempotency: q.idemPurge.run(nowMs).changes,
        })).immediate(),
      );
    },
    async close() {
      // Commits already asked for are written, not dropped.
      flush();
      if (db.open) db.close();
    },
  };
}
