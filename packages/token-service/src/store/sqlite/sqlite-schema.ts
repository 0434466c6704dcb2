// The SQLite store's schema, as forward-only migrations: migration N brings
// a database from `PRAGMA user_version` N - 1 to N.
//
// Version 1: tokens, vault, replay, completed idempotency records.
// Version 2: pending idempotency entries with a lease (so several processes
// on one file share in-progress requests), and the device key thumbprint a
// token is bound to.
// Version 3: the `meta` table (named values about the store: the fingerprint
// key's check value), and an index on each sealed column's key id (see
// ../sealed.ts), so the key ids in use are found without reading every row.
// The indexed expressions must stay identical to sqliteKeyIdExpression.
// Version 4: rate limit counters (one fixed window per key), purged once
// their window ended.
// Version 5: step-up verification (the yellow path): a token's verification
// methods and the end of its pending time, and the one-time codes of
// pending tokens (only their keyed hash), with their attempt counters.
// Version 6: the issuer's id of the card account a token is for and the
// card's last four digits, on the token (so the issuer API answers them
// without opening the vault), indexed by (issuer_id, account_id).
// Version 7: the token lifecycle (spec section 12): the history of each
// token, the outbox (`events`, and `deliveries`, one per event and
// receiver), each token's event count, and `tokens.sealed_token_number`
// made nullable (a deleted token's number leaves the vault). SQLite cannot
// drop a NOT NULL: the tokens table is rebuilt first by
// {@link rebuildTokensWithNullableNumber} (before this version's SQL, with
// foreign keys off for the migration, as SQLite's documented procedure).
// Version 8: the wallet provider's token query (spec section 7.14): an index
// on (wallet_provider_id, wallet_account_id, issuer_id, account_id) of the
// tokens that have an account id.

// Version 7's SQL (after the tokens table's rebuild).
const LIFECYCLE = `
ALTER TABLE tokens ADD COLUMN event_sequence INTEGER NOT NULL DEFAULT 0;
CREATE TABLE token_history (
  id INTEGER PRIMARY KEY,
  token_reference_id TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX token_history_token ON token_history (token_reference_id, id);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  token_reference_id TEXT NOT NULL,
  issuer_id TEXT NOT NULL,
  wallet_provider_id TEXT NOT NULL,
  type TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (token_reference_id, sequence)
) STRICT;
CREATE INDEX events_issuer ON events (issuer_id, seq);
CREATE INDEX events_wallet_provider ON events (wallet_provider_id, seq);
CREATE TABLE deliveries (
  event_id TEXT NOT NULL,
  receiver TEXT NOT NULL,
  token_reference_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  last_error TEXT,
  first_attempt_at INTEGER,
  delivered_at INTEGER,
  PRIMARY KEY (event_id, receiver)
) STRICT;
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_order ON deliveries (receiver, token_reference_id, sequence);
`;

export const SQLITE_MIGRATIONS: readonly string[] = [
  `
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
`,
  `
CREATE TABLE idempotency_pending (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  lease_id TEXT NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT;
CREATE INDEX idempotency_pending_lease ON idempotency_pending (lease_expires_at);
ALTER TABLE tokens ADD COLUMN device_key_thumbprint TEXT;
`,
  `
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE INDEX vault_sealed_key_id ON vault ((CASE WHEN substr(sealed_card, 1, 3) = 'v1.' THEN substr(sealed_card, 4, instr(substr(sealed_card, 4) || '.', '.') - 1) ELSE '' END));
CREATE INDEX tokens_sealed_key_id ON tokens ((CASE WHEN substr(sealed_token_number, 1, 3) = 'v1.' THEN substr(sealed_token_number, 4, instr(substr(sealed_token_number, 4) || '.', '.') - 1) ELSE '' END));
CREATE INDEX idempotency_sealed_key_id ON idempotency ((CASE WHEN substr(sealed_response, 1, 3) = 'v1.' THEN substr(sealed_response, 4, instr(substr(sealed_response, 4) || '.', '.') - 1) ELSE '' END));
`,
  `
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
`,
  `
ALTER TABLE tokens ADD COLUMN verification_methods TEXT;
ALTER TABLE tokens ADD COLUMN pending_expires_at INTEGER;
CREATE INDEX tokens_pending_expires_at ON tokens (pending_expires_at) WHERE status = 'pending_activation';
CREATE TABLE verification_codes (
  token_reference_id TEXT NOT NULL REFERENCES tokens (token_reference_id),
  method_id TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  code_expires_at INTEGER NOT NULL,
  resend_after INTEGER NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  PRIMARY KEY (token_reference_id, method_id)
) STRICT;
`,
  `
ALTER TABLE tokens ADD COLUMN account_id TEXT;
ALTER TABLE tokens ADD COLUMN pan_last4 TEXT CHECK (pan_last4 IS NULL OR length(pan_last4) = 4);
CREATE INDEX tokens_issuer_account ON tokens (issuer_id, account_id) WHERE account_id IS NOT NULL;
`,
  LIFECYCLE,
  `
CREATE INDEX tokens_wallet_account ON tokens (wallet_provider_id, wallet_account_id, issuer_id, account_id) WHERE account_id IS NOT NULL;
`,
];

/** The version whose migration first rebuilds the tokens table (see {@link rebuildTokensWithNullableNumber}). */
export const SQLITE_NULLABLE_TOKEN_NUMBER_VERSION = SQLITE_MIGRATIONS.indexOf(LIFECYCLE) + 1;

/** What {@link rebuildTokensWithNullableNumber} needs of a connection. */
interface SchemaConnection {
  prepare(sql: string): { get(): unknown; all(): unknown[] };
  exec(sql: string): unknown;
}

/**
 * Rebuilds `tokens` with `sealed_token_number` nullable (SQLite's procedure
 * for a change ALTER TABLE cannot make): the same definition as it stands,
 * whatever columns earlier versions added, without that NOT NULL; every row
 * copied; the indexes made again. Runs inside the migration's transaction,
 * with foreign keys off (the store checks them before committing).
 */
export function rebuildTokensWithNullableNumber(db: SchemaConnection): void {
  const table = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'tokens'").get() as { sql: string } | undefined;
  if (!table) throw new Error('migration 7: no tokens table');
  const relaxed = table.sql.replace('sealed_token_number TEXT NOT NULL', 'sealed_token_number TEXT');
  if (relaxed === table.sql) throw new Error('migration 7: the tokens table has no NOT NULL sealed_token_number');
  const indexes = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tokens' AND sql IS NOT NULL").all() as { sql: string }[];
  db.exec(relaxed.replace(/^CREATE TABLE (IF NOT EXISTS )?tokens\b/, 'CREATE TABLE tokens_rebuilt'));
  db.exec('INSERT INTO tokens_rebuilt SELECT * FROM tokens; DROP TABLE tokens; ALTER TABLE tokens_rebuilt RENAME TO tokens;');
  for (const index of indexes) db.exec(index.sql);
}

/** The schema version this code writes. */
export const SQLITE_LATEST_VERSION = SQLITE_MIGRATIONS.length;
