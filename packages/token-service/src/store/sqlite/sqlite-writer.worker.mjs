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
// Messages in: { type: 'batch', id, ops } | { type: 'purge', id, nowMs } |
// { type: 'ping', id } | { type: 'close', id }, where each op is
// { op: 'commit', input } | { op: 'begin', input } |
// { op: 'release', scope, key, leaseId } | { op: 'refuse', input } |
// { op: 'claim', record } | { op: 'metaClaim', name, value } |
// { op: 'reseal', table, updates } | { op: 'limitHit', hit } |
// { op: 'verIssue', input } | { op: 'verAttempt', input } |
// { op: 'verActivate', input } | { op: 'verExpire', input } |
// { op: 'transition', input } |
// { op: 'dlvClaim' | 'dlvComplete' | 'dlvFail' | 'dlvRedeliver', input }.
// Messages out: { id, results } | { id, purged } | { id, pong: true } |
// { id, closed: true } | { id, failed: { causeName, causeCode } }. Each
// result is { value } (the op's answer: a commit outcome, a begin outcome,
// a claim's boolean, a hit's { count, windowStart }) or
// { internal: message, causeName?, causeCode? }.
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createDeliveryWriter } from './sqlite-deliveries-writer.mjs';

const { path, synchronous, busyTimeoutMs } = workerData;
const durableMode = synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${durableMode}`);
let currentMode = durableMode;
/**
 * Batches of lease writes and rate limit hits only (begin, release,
 * limitHit) skip the sync: a lost lease only ends early, a lost count only
 * loosens a limit until its window ends.
 */
const setMode = (mode) => {
  if (mode === currentMode) return;
  db.pragma(`synchronous = ${mode}`);
  currentMode = mode;
};
db.pragma('foreign_keys = ON');
db.pragma(`busy_timeout = ${busyTimeoutMs}`);

const q = {
  tokenHashExists: db.prepare('SELECT 1 AS one FROM tokens WHERE token_number_hash = ?'),
  tokenInsert: db.prepare(
    `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
       issuer_id, wallet_provider_id, wallet_account_id, device_id, network, device_key_thumbprint, verification_methods, pending_expires_at,
       account_id, pan_last4, created_at, updated_at)
     VALUES (@tokenReferenceId, @tokenNumberHash, @sealedTokenNumber, @tokenLast4, @expiryMonth, @expiryYear, @status,
       @issuerId, @walletProviderId, @walletAccountId, @deviceId, @network, @deviceKeyThumbprint, @verificationMethods, @pendingExpiresAt,
       @accountId, @panLast4, @createdAt, @updatedAt)
     ON CONFLICT DO NOTHING`,
  ),
  // Step-up verification: the token's state, its codes.
  tokenStatus: db.prepare('SELECT status, pending_expires_at FROM tokens WHERE token_reference_id = ?'),
  tokenActivate: db.prepare("UPDATE tokens SET status = 'active', updated_at = ? WHERE token_reference_id = ? AND status = 'pending_activation'"),
  codeFind: db.prepare('SELECT attempts, resend_after, code_hash FROM verification_codes WHERE token_reference_id = ? AND method_id = ?'),
  codeUpsert: db.prepare(
    `INSERT INTO verification_codes (token_reference_id, method_id, code_hash, code_expires_at, resend_after, attempts)
     VALUES (@tokenReferenceId, @methodId, @codeHash, @codeExpiresAt, @resendAfter, 0)
     ON CONFLICT (token_reference_id, method_id) DO UPDATE SET
       code_hash = excluded.code_hash, code_expires_at = excluded.code_expires_at, resend_after = excluded.resend_after`,
  ),
  // One attempt, counted only while attempts < max: the single writer makes it atomic.
  codeAttempt: db.prepare(
    `UPDATE verification_codes SET attempts = attempts + 1
     WHERE token_reference_id = ? AND method_id = ? AND attempts < ?
     RETURNING attempts, code_hash, code_expires_at`,
  ),
  codesDrop: db.prepare('DELETE FROM verification_codes WHERE token_reference_id = ?'),
  pendingExpired: db.prepare(
    "SELECT token_reference_id FROM tokens WHERE status = 'pending_activation' AND pending_expires_at <= ? AND (? IS NULL OR token_reference_id = ?)",
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
  idemFindDone: db.prepare('SELECT request_hash, expires_at FROM idempotency WHERE scope = ? AND key = ?'),
  idemFindFull: db.prepare('SELECT * FROM idempotency WHERE scope = ? AND key = ?'),
  idemDeleteDone: db.prepare('DELETE FROM idempotency WHERE scope = ? AND key = ?'),
  pendingFind: db.prepare('SELECT lease_id, lease_expires_at FROM idempotency_pending WHERE scope = ? AND key = ?'),
  pendingUpsert: db.prepare(
    `INSERT INTO idempotency_pending (scope, key, request_hash, lease_id, lease_expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, lease_id = excluded.lease_id, lease_expires_at = excluded.lease_expires_at`,
  ),
  pendingRelease: db.prepare('DELETE FROM idempotency_pending WHERE scope = ? AND key = ? AND lease_id = ?'),
  pendingDelete: db.prepare('DELETE FROM idempotency_pending WHERE scope = ? AND key = ?'),
  pendingPurge: db.prepare('DELETE FROM idempotency_pending WHERE lease_expires_at <= ?'),
  ping: db.prepare('SELECT 1 AS one'),
  // One fixed-window count (see RateLimitStore.hit): a later window starts again at 1; the
  // same or an earlier one (a clock behind) counts in the stored window, at most limit + 1.
  limitHit: db.prepare(
    `INSERT INTO rate_limits AS l (key, window_start, count, expires_at) VALUES (@key, @windowStart, 1, @windowEnd)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN excluded.window_start > l.window_start THEN 1 ELSE min(l.count + 1, @limit + 1) END,
       window_start = max(l.window_start, excluded.window_start),
       expires_at = max(l.expires_at, excluded.expires_at)
     RETURNING count, window_start`,
  ),
  limitPurge: db.prepare('DELETE FROM rate_limits WHERE expires_at <= ?'),
  metaInsert: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING'),
  // The lifecycle (spec section 12): the token's next event number, its history, the outbox.
  tokenRow: db.prepare('SELECT token_reference_id, status, issuer_id, wallet_provider_id FROM tokens WHERE token_reference_id = ?'),
  tokenSequence: db.prepare('UPDATE tokens SET event_sequence = event_sequence + 1 WHERE token_reference_id = ? RETURNING event_sequence'),
  tokenSetStatus: db.prepare('UPDATE tokens SET status = ?, updated_at = ? WHERE token_reference_id = ? AND status = ?'),
  tokenDropNumber: db.prepare('UPDATE tokens SET sealed_token_number = NULL WHERE token_reference_id = ?'),
  vaultCardUpdate: db.prepare('UPDATE vault SET sealed_card = ? WHERE token_reference_id = ? AND sealed_card = ?'),
  historyInsert: db.prepare('INSERT INTO token_history (token_reference_id, from_status, to_status, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?)'),
  eventInsert: db.prepare(
    `INSERT INTO events (event_id, token_reference_id, issuer_id, wallet_provider_id, type, sequence, body, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  deliveryInsert: db.prepare(
    `INSERT INTO deliveries (event_id, receiver, token_reference_id, sequence, state, attempts, next_attempt_at)
     VALUES (?, ?, ?, ?, 'pending', 0, ?)`,
  ),
  metaGet: db.prepare('SELECT value FROM meta WHERE name = ?'),
};

// Compare-and-set of sealed values (vault key rotation): a row is written only if it still holds the value read.
const reseal = {
  vault: db.prepare('UPDATE vault SET sealed_card = ? WHERE token_reference_id = ? AND sealed_card = ?'),
  tokens: db.prepare('UPDATE tokens SET sealed_token_number = ? WHERE token_reference_id = ? AND sealed_token_number = ?'),
  idempotency: db.prepare('UPDATE idempotency SET sealed_response = ? WHERE scope = ? AND key = ? AND sealed_response = ?'),
};

const toIdempotency = (r) => ({
  scope: r.scope,
  key: r.key,
  requestHash: r.request_hash,
  status: r.status,
  sealedResponse: r.sealed_response,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

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
const commit = db.transaction((input) => {
  const idem = input.idempotency;
  const lease = q.pendingFind.get(idem.scope, idem.key);
  if (lease && lease.lease_id !== idem.leaseId) throw new Conflict({ ok: false, conflict: 'idempotency' });
  const { leaseId, ...record } = idem;
  if (q.idemInsert.run(record).changes === 0) throw new Conflict({ ok: false, conflict: 'idempotency' });
  if (lease) q.pendingDelete.run(idem.scope, idem.key);
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
      deviceKeyThumbprint: token.deviceKeyThumbprint ?? null,
      verificationMethods: token.verification === undefined ? null : JSON.stringify(token.verification.methods),
      pendingExpiresAt: token.verification === undefined ? null : token.verification.expiresAt,
      accountId: token.accountId ?? null,
      panLast4: token.panLast4 ?? null,
    };
    delete row.verification;
    if (q.tokenInsert.run(row).changes === 0) {
      if (q.tokenHashExists.get(token.tokenNumberHash)) throw new Conflict({ ok: false, conflict: 'token_number' });
      throw new Failure('Duplicate token reference id');
    }
    const existing = q.vaultFindProvisioned.get(vault.panFingerprint, vault.walletProviderId, vault.walletAccountId, vault.deviceId);
    if (existing && existing.token_reference_id !== issuance.replaces) {
      throw new Conflict({ ok: false, conflict: 'already_provisioned', tokenReferenceId: existing.token_reference_id });
    }
    if (issuance.replaces !== undefined) {
      const replaced = q.tokenRow.get(issuance.replaces);
      q.tokenDelete.run(token.createdAt, issuance.replaces);
      dropDeleted(issuance.replaces);
      if (replaced && replaced.status !== 'deleted') {
        recordChange(replaced, { from: replaced.status, to: 'deleted', type: 'token.deleted', actor: 'token_service', reason: 'other', nowMs: token.createdAt });
      }
    }
    q.vaultInsert.run(vault);
    recordChange(
      { token_reference_id: token.tokenReferenceId, issuer_id: token.issuerId, wallet_provider_id: token.walletProviderId },
      { from: null, to: token.status, type: 'token.created', actor: 'wallet_provider', reason: 'customer_request', nowMs: token.createdAt },
    );
  }
  return { ok: true };
});

// One change of a token, recorded (spec section 12.5): the history row, the
// event (the same body as src/store/outbox.ts builds: keep them equal) and
// one delivery per receiver, both parties always. Runs inside the change's
// transaction.
const recordChange = (token, change) => {
  const ref = token.token_reference_id;
  const sequence = q.tokenSequence.get(ref).event_sequence;
  const eventId = `evt_${randomUUID().replaceAll('-', '')}`;
  q.historyInsert.run(ref, change.from, change.to, change.actor, change.reason, change.nowMs);
  const body = {
    eventId,
    type: change.type,
    tokenReferenceId: ref,
    issuerId: token.issuer_id,
    walletProviderId: token.wallet_provider_id,
    status: change.to,
    ...(change.from === null ? {} : { previousStatus: change.from }),
    reason: change.reason,
    actor: change.actor,
    occurredAt: Math.floor(change.nowMs / 1000),
    sequence,
  };
  q.eventInsert.run(eventId, ref, token.issuer_id, token.wallet_provider_id, change.type, sequence, JSON.stringify(body), change.nowMs);
  for (const receiver of [`issuer:${token.issuer_id}`, `wallet:${token.wallet_provider_id}`]) {
    q.deliveryInsert.run(eventId, receiver, ref, sequence, change.nowMs);
  }
  return { eventId, sequence };
};

/** What leaves with a deleted token: its number, its vault entry (the sealed card), its codes. */
const dropDeleted = (ref) => {
  q.tokenDropNumber.run(ref);
  q.vaultRemove.run(ref);
  q.codesDrop.run(ref);
};

// One lifecycle change, all or nothing: see LifecycleStore.transition.
const transition = db.transaction((input) => {
  const idem = input.idempotency;
  let lease;
  if (idem) {
    lease = q.pendingFind.get(idem.scope, idem.key);
    if (lease && lease.lease_id !== idem.leaseId) throw new Conflict({ ok: false, conflict: 'idempotency' });
    if (q.idemFindDone.get(idem.scope, idem.key)) throw new Conflict({ ok: false, conflict: 'idempotency' });
  }
  const token = q.tokenRow.get(input.tokenReferenceId);
  if (!token) throw new Conflict({ ok: false, conflict: 'not_found' });
  if (!input.from.includes(token.status)) throw new Conflict({ ok: false, conflict: 'state', status: token.status });
  const from = token.status;
  const to = input.to ?? from;
  if (input.sealedCard && q.vaultCardUpdate.run(input.sealedCard.to, token.token_reference_id, input.sealedCard.from).changes === 0) {
    throw new Conflict({ ok: false, conflict: 'card' });
  }
  if (q.tokenSetStatus.run(to, input.nowMs, token.token_reference_id, from).changes === 0) throw new Failure('The token changed under its own write lock');
  if (to === 'deleted') dropDeleted(token.token_reference_id);
  const { eventId, sequence } = recordChange(token, { from, to, type: input.type, actor: input.actor, reason: input.reason, nowMs: input.nowMs });
  if (idem) {
    const { leaseId, ...record } = idem;
    q.idemInsert.run(record);
    if (lease) q.pendingDelete.run(idem.scope, idem.key);
  }
  return { ok: true, previousStatus: from, status: to, eventId, sequence };
});

/** True when a token row is pending and its pending time is not over. */
const isPending = (row, nowMs) => row !== undefined && row.status === 'pending_activation' && (row.pending_expires_at === null || row.pending_expires_at > nowMs);

// A new code for a method of a pending token: see VerificationStore.issue.
const verIssue = (input) => {
  if (!isPending(q.tokenStatus.get(input.tokenReferenceId), input.nowMs)) return { ok: false, reason: 'not_pending' };
  const current = q.codeFind.get(input.tokenReferenceId, input.methodId);
  if (current && current.attempts >= input.maxAttempts) return { ok: false, reason: 'locked' };
  if (current && current.resend_after > input.nowMs) return { ok: false, reason: 'cooldown', resendAfter: current.resend_after };
  q.codeUpsert.run({
    tokenReferenceId: input.tokenReferenceId,
    methodId: input.methodId,
    codeHash: input.codeHash,
    codeExpiresAt: input.codeExpiresAt,
    resendAfter: input.resendAfter,
  });
  return { ok: true, attempts: current ? current.attempts : 0 };
};

// One attempt: see VerificationStore.attempt.
const verAttempt = (input) => {
  const row = q.codeAttempt.get(input.tokenReferenceId, input.methodId, input.maxAttempts);
  if (row) return { ok: true, attempts: row.attempts, codeHash: row.code_hash, codeExpiresAt: row.code_expires_at };
  return q.codeFind.get(input.tokenReferenceId, input.methodId) ? { ok: false, reason: 'locked' } : { ok: false, reason: 'no_code' };
};

// Activation, all or nothing: see VerificationStore.activate.
const verActivate = db.transaction((input) => {
  const idem = input.idempotency;
  let lease;
  if (idem) {
    lease = q.pendingFind.get(idem.scope, idem.key);
    if (lease && lease.lease_id !== idem.leaseId) throw new Conflict({ ok: false, conflict: 'idempotency' });
    if (q.idemFindDone.get(idem.scope, idem.key)) throw new Conflict({ ok: false, conflict: 'idempotency' });
  }
  if (!isPending(q.tokenStatus.get(input.tokenReferenceId), input.nowMs)) throw new Conflict({ ok: false, conflict: 'not_pending' });
  if (input.code) {
    const code = q.codeFind.get(input.tokenReferenceId, input.code.methodId);
    if (!code || code.code_hash !== input.code.codeHash) throw new Conflict({ ok: false, conflict: 'code' });
  }
  q.tokenActivate.run(input.nowMs, input.tokenReferenceId);
  q.codesDrop.run(input.tokenReferenceId);
  // A code typed in the wallet is the cardholder's doing; without one, the issuer verified them.
  recordChange(q.tokenRow.get(input.tokenReferenceId), {
    from: 'pending_activation',
    to: 'active',
    type: 'token.activated',
    actor: input.code ? 'cardholder' : 'issuer',
    reason: 'identity_verified',
    nowMs: input.nowMs,
  });
  if (idem) {
    const { leaseId, ...record } = idem;
    q.idemInsert.run(record);
    if (lease) q.pendingDelete.run(idem.scope, idem.key);
  }
  return { ok: true };
});

// Deletes pending tokens whose pending time is over: see VerificationStore.expirePending.
const verExpire = (input) => {
  const ref = input.tokenReferenceId ?? null;
  const rows = q.pendingExpired.all(input.nowMs, ref, ref);
  for (const row of rows) {
    const token = q.tokenRow.get(row.token_reference_id);
    q.tokenDelete.run(input.nowMs, row.token_reference_id);
    dropDeleted(row.token_reference_id);
    recordChange(token, { from: 'pending_activation', to: 'deleted', type: 'token.deleted', actor: 'token_service', reason: 'activation_expired', nowMs: input.nowMs });
  }
  return rows.length;
};

// Begins a request for (scope, key, request hash): see IdempotencyStore.begin.
const begin = (input) => {
  const done = q.idemFindDone.get(input.scope, input.key);
  if (done && done.expires_at > input.nowMs) {
    if (done.request_hash !== input.requestHash) return { state: 'mismatch' };
    return { state: 'stored', record: toIdempotency(q.idemFindFull.get(input.scope, input.key)) };
  }
  const lease = q.pendingFind.get(input.scope, input.key);
  if (lease && lease.lease_expires_at > input.nowMs) return { state: 'in_flight' };
  if (done) q.idemDeleteDone.run(input.scope, input.key);
  q.pendingUpsert.run(input.scope, input.key, input.requestHash, input.leaseId, input.nowMs + input.leaseMs);
  return { state: 'started' };
};

// A refusal that sticks: burn the replay keys (existing ones stay), release the entry.
const refuse = (input) => {
  for (const r of input.replay) q.replayInsert.run(r.key, r.expiresAt);
  q.pendingRelease.run(input.idempotency.scope, input.idempotency.key, input.idempotency.leaseId);
};

const apply = (op) => {
  switch (op.op) {
    case 'commit':
      return commit(op.input);
    case 'begin':
      return begin(op.input);
    case 'release':
      q.pendingRelease.run(op.scope, op.key, op.leaseId);
      return undefined;
    case 'refuse':
      refuse(op.input);
      return undefined;
    case 'claim':
      return q.replayInsert.run(op.record.key, op.record.expiresAt).changes === 1;
    case 'verIssue':
      return verIssue(op.input);
    case 'verAttempt':
      return verAttempt(op.input);
    case 'verActivate':
      return verActivate(op.input);
    case 'verExpire':
      return verExpire(op.input);
    case 'transition':
      return transition(op.input);
    case 'metaClaim':
      q.metaInsert.run(op.name, op.value);
      return q.metaGet.get(op.name).value;
    case 'limitHit': {
      const row = q.limitHit.get(op.hit);
      return { count: row.count, windowStart: row.window_start };
    }
    case 'reseal': {
      const statement = Object.hasOwn(reseal, op.table) ? reseal[op.table] : undefined;
      if (!statement) throw new Failure('Unknown sealed table');
      let written = 0;
      for (const u of op.updates) written += statement.run(u.to, ...u.key, u.from).changes;
      return written;
    }
    case 'dlvClaim':
      return deliveries.claim(op.input);
    case 'dlvComplete':
      return deliveries.complete(op.input);
    case 'dlvFail':
      return deliveries.fail(op.input);
    case 'dlvRedeliver':
      return deliveries.redeliver(op.input);
    default:
      throw new Failure('Unknown store operation');
  }
};

// The notification deliveries (claim, complete, fail, redeliver): see sqlite-deliveries-writer.mjs.
const deliveries = createDeliveryWriter(db);

// The other ops, each in a savepoint of the batch's transaction.
const savepoint = db.transaction((op) => apply(op));

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
  batch.map((op) => {
    try {
      // Each op in its own savepoint (commit is already a nested transaction).
      return { value: op.op === 'commit' || op.op === 'verActivate' || op.op === 'transition' ? apply(op) : savepoint(op) };
    } catch (error) {
      if (!db.inTransaction) throw error;
      if (error instanceof Conflict) return { value: error.outcome };
      if (error instanceof Failure) return { internal: error.message };
      return { internal: 'The provisioning could not be stored', ...describe(error) };
    }
  }),
);

const purge = db.transaction((nowMs) => ({
  replay: q.replayPurge.run(nowMs).changes,
  idempotency: q.idemPurge.run(nowMs).changes + q.pendingPurge.run(nowMs).changes,
  limits: q.limitPurge.run(nowMs).changes,
}));

parentPort.on('message', (message) => {
  const { id } = message;
  try {
    if (message.type === 'batch') {
      const durable = message.ops.some((op) => op.op !== 'begin' && op.op !== 'release' && op.op !== 'limitHit');
      setMode(durable ? durableMode : 'OFF');
      parentPort.postMessage({ id, results: writeBatch.immediate(message.ops) });
    } else if (message.type === 'purge') {
      setMode(durableMode);
      parentPort.postMessage({ id, purged: purge.immediate(message.nowMs) });
    } else if (message.type === 'ping') {
      q.ping.get();
      parentPort.postMessage({ id, pong: true });
    } else if (message.type === 'close') {
      db.close();
      parentPort.postMessage({ id, closed: true });
      parentPort.close();
    }
  } catch (error) {
    parentPort.postMessage({ id, failed: describe(error) });
  }
});
