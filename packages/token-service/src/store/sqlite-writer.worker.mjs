// The SQLite store's writer: a worker thread with its own connection that
// runs every write (group commits, purges), so the event loop keeps serving
// requests while a transaction is written and synced (with synchronous =
// FULL, the sync is most of a commit's time). The store (sqlite-store.ts)
// creates the schema before starting it, reads through its own connection,
// and acknowledges a commit only when this thread has answered that the
// COMMIT returned.
//
// Plain JavaScript on purpose: a worker loads this file as it is, from the
// sources in the repository and from dist in the package (tsup copies it).
//
// Messages in: { type: 'commit', id, batch: CommitInput[] } |
// { type: 'purge', id, nowMs } | { type: 'close', id }.
// Messages out: { id, results } | { id, purged } | { id, closed: true } |
// { id, failed: { causeName, causeCode } }. Each result is
// { outcome } (ok, or a conflict) or { internal: message, causeName?, causeCode? }.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, synchronous, busyTimeoutMs } = workerData;
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
db.pragma('foreign_keys = ON');
db.pragma(`busy_timeout = ${busyTimeoutMs}`);

const q = {
  tokenHashExists: db.prepare('SELECT 1 AS one FROM tokens WHERE token_number_hash = ?'),
  tokenInsert: db.prepare(
    `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
       issuer_id, wallet_provider_id, wallet_account_id, device_id, network, created_at, updated_at)
     VALUES (@tokenReferenceId, @tokenNumberHash, @sealedTokenNumber, @tokenLast4, @expiryMonth, @expiryYear, @status,
       @issuerId, @walletProviderId, @walletAccountId, @deviceId, @network, @createdAt, @updatedAt)
     ON CONFLICT DO NOTHING`,
  ),
  vaultFindProvisioned: db.prepare(
    'SELECT token_reference_id FROM vault WHERE pan_fingerprint = ? AND wallet_provider_id = ? AND wallet_account_id = ? AND device_id = ?',
  ),
  // Replacing a card's expired token: the old one is deleted, its sealed card removed.
  tokenDelete: db.prepare("UPDATE tokens SET status = 'deleted', updated_at = ? WHERE token_reference_id = ?"),
  vaultRemove: db.prepare('DELETE FROM vault WHERE token_reference_id = ?'),
  vaultInsert: db.prepare(
    `INSERT INTO vault (token_reference_id, pan_fingerprint, wallet_provider_id, wallet_account_id, device_id, sealed_card, pan_last4, created_at)
     VALUES (@tokenReferenceId, @panFingerprint, @walletProviderId, @walletAccountId, @deviceId, @sealedCard, @panLast4, @createdAt)`,
  ),
  replayInsert: db.prepare('INSERT INTO replay (key, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
  replayPurge: db.prepare('DELETE FROM replay WHERE expires_at <= ?'),
  idemInsert: db.prepare(
    `INSERT INTO idempotency (scope, key, request_hash, status, sealed_response, created_at, expires_at)
     VALUES (@scope, @key, @requestHash, @status, @sealedResponse, @createdAt, @expiresAt)
     ON CONFLICT DO NOTHING`,
  ),
  idemPurge: db.prepare('DELETE FROM idempotency WHERE expires_at <= ?'),
};

/** Thrown inside a commit's savepoint to roll it back with an outcome. */
class Conflict {
  constructor(outcome) {
    this.outcome = outcome;
  }
}

/** Thrown inside a commit's savepoint for a failure the store reports as internal_error with this message. */
class Failure {
  constructor(message) {
    this.message = message;
  }
}

// One commit: all of it, or (a conflict or failure) none of it.
const write = db.transaction((input) => {
  if (q.idemInsert.run(input.idempotency).changes === 0) throw new Conflict({ ok: false, conflict: 'idempotency' });
  for (const r of input.replay) {
    if (q.replayInsert.run(r.key, r.expiresAt).changes === 0) throw new Conflict({ ok: false, conflict: 'replay' });
  }
  const issuance = input.issuance;
  if (issuance) {
    const { token, vault } = issuance;
    const row = { ...token, expiryMonth: token.tokenExpiry.month, expiryYear: token.tokenExpiry.year, network: token.network ?? null };
    if (q.tokenInsert.run(row).changes === 0) {
      if (q.tokenHashExists.get(token.tokenNumberHash)) throw new Conflict({ ok: false, conflict: 'token_number' });
      throw new Failure('Duplicate token reference id');
    }
    const existing = q.vaultFindProvisioned.get(vault.panFingerprint, vault.walletProviderId, vault.walletAccountId, vault.deviceId);
    if (existing && existing.token_reference_id !== issuance.replaces) {
      throw new Conflict({ ok: false, conflict: 'already_provisioned', tokenReferenceId: existing.token_reference_id });
    }
    if (issuance.replaces !== undefined) {
      q.tokenDelete.run(token.createdAt, issuance.replaces);
      q.vaultRemove.run(issuance.replaces);
    }
    q.vaultInsert.run(vault);
  }
  return { ok: true };
});

/** A failure as data (errors do not cross threads with their class): the name and code of its cause, never values. */
const describe = (error) => ({
  causeName: error instanceof Error ? error.name : typeof error,
  causeCode: error && typeof error === 'object' && typeof error.code === 'string' ? error.code : undefined,
});

// Group commit: the batch is one BEGIN IMMEDIATE transaction, one sync; each
// commit runs in its own savepoint (better-sqlite3 nests transactions that
// way), so a conflict or failure rolls back that commit alone. If the
// transaction itself is lost, the whole batch fails.
const writeBatch = db.transaction((batch) =>
  batch.map((input) => {
    try {
      return { outcome: write(input) };
    } catch (error) {
      if (!db.inTransaction) throw error;
      if (error instanceof Conflict) return { outcome: error.outcome };
      if (error instanceof Failure) return { internal: error.message };
      return { internal: 'The provisioning could not be stored', ...describe(error) };
    }
  }),
);

const purge = db.transaction((nowMs) => ({ replay: q.replayPurge.run(nowMs).changes, idempotency: q.idemPurge.run(nowMs).changes }));

parentPort.on('message', (message) => {
  const { id } = message;
  try {
    if (message.type === 'commit') {
      parentPort.postMessage({ id, results: writeBatch.immediate(message.batch) });
    } else if (message.type === 'purge') {
      parentPort.postMessage({ id, purged: purge.immediate(message.nowMs) });
    } else if (message.type === 'close') {
      db.close();
      parentPort.postMessage({ id, closed: true });
      parentPort.close();
    }
  } catch (error) {
    parentPort.postMessage({ id, failed: describe(error) });
  }
});
