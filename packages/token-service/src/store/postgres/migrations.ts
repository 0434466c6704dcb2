// The PostgreSQL store's schema, as forward-only migrations: migration N
// brings a database from version N - 1 to N. `migratePostgres` applies them
// in one transaction under an advisory lock, and records each version in
// `pushprov_schema_migrations`. Never edit a released migration: add one.
//
// Version 1: the tables (tokens, vault, replay, completed idempotency
// records, pending idempotency entries with their lease), mirroring the
// SQLite schema: times are bigint milliseconds since the epoch, and the
// unique constraints carry the guarantees (token number hash, card per
// wallet account and device, replay key, idempotency key per scope).
//
// Version 2: the write functions. Each write of the store is one
// parameterised `SELECT pushprov_…(…)`: one round trip, and one statement is
// its own transaction. They report conflicts as a jsonb outcome, never by
// raising, and use no EXCEPTION block (a subtransaction each):
//
// - every operation on one idempotency slot (scope, key) that decides on
//   the completed record or the pending entry (`pushprov_begin`,
//   `pushprov_commit`) first takes a transaction advisory lock on the slot,
//   so they are serialised per slot; the reads that follow the lock see
//   every transaction that held it before (READ COMMITTED: a fresh snapshot
//   per statement);
// - a commit checks everything it can before writing, then writes the rows
//   that may conflict with other transactions first (replay keys in key
//   order, the token, the vault entry), each with ON CONFLICT DO NOTHING;
//   on a conflict it deletes the rows it inserted itself (nothing else was
//   written yet) and returns the outcome, so a conflict writes nothing;
// - the writes that cannot conflict (the replaced token, the idempotency
//   record) come last.
//
// Programming errors (a vault entry for another token, a duplicate token
// reference id) raise SQLSTATE PP001 / PP002, which roll everything back.
//
// Version 3: the `meta` table (named values about the store: the
// fingerprint key's check value), and an index on each sealed column's key
// id (see ../sealed.ts: the expressions must stay identical to
// postgresKeyIdExpression), so the key ids in use are found without reading
// every row. Building them reads each table once and blocks writes to it
// meanwhile (minutes for tens of millions of rows): migrate before a quiet
// hour on a large database.
//
// Version 4: rate limit counters (one fixed window per key). A hit is one
// `INSERT … ON CONFLICT DO UPDATE … RETURNING`: one round trip, atomic
// under concurrent hits on a key (the conflicting row is locked).
//
// Version 5: step-up verification (the yellow path). A token's verification
// methods and the end of its pending time (two columns of tokens), the
// one-time codes of pending tokens (only their keyed hash) with their
// attempt counters, and four functions, one round trip each:
// `pushprov_verification_issue` and `pushprov_verification_activate` lock
// the token's row first (every write of one token's verification is then
// serialised), `pushprov_verification_attempt` is one conditional UPDATE
// (`attempts < max`, re-checked on the latest row version under READ
// COMMITTED, so concurrent attempts on any number of instances never count
// more than the maximum), `pushprov_verification_expire` one statement.
// `pushprov_commit` is replaced (derived from version 2's text, see
// COMMIT_V5) to write the new token columns and drop the codes of a token
// it replaces.
//
// Version 6: the issuer's id of the card account a token is for and the
// card's last four digits, on the token (`tokens.account_id`,
// `tokens.pan_last4`), indexed by (issuer_id, account_id); `pushprov_commit`
// replaced again (COMMIT_V6, derived from COMMIT_V5) to write them.
//
// Version 7: the token lifecycle (spec section 12). `token_history`, the
// outbox (`events`, `deliveries`), each token's event count
// (`tokens.event_sequence`), `tokens.sealed_token_number` nullable (a
// deleted token's number leaves the vault). `pushprov_record_change`
// writes one change's history row, event and two deliveries; it takes a
// transaction advisory lock (OUTBOX_LOCK) just before the event's insert,
// so events commit in the order of their `seq` (the feed's cursor never
// skips an event that commits late); every caller locks the token rows it
// changes before that, so the lock is the last one taken (no deadlock).
// `pushprov_transition` is one lifecycle change (the token row locked, its
// status checked, the change, the record, the idempotency answer). The
// writes of earlier versions record their changes too, by functions that
// wrap them in the same transaction (`pushprov_commit_recorded`,
// `pushprov_verification_activate_recorded`), and
// `pushprov_verification_expire` is replaced.
//
// Version 8: the wallet provider's token query (spec section 7.14): an index
// on (wallet_provider_id, wallet_account_id, issuer_id, account_id) of the
// tokens that have an account id. Building it reads the tokens table once
// and blocks writes to it meanwhile: migrate before a quiet hour on a large
// database.
import type pg from 'pg';
import { loadPg } from '../load-driver.js';
import { InternalError } from '@pushprov/protocol';
import { connectionConfig, type ConnectionSettings, type PostgresConnectionConfig } from './pg-connection.js';
import { isConfigurationFailure, isUnavailable } from './pg-errors.js';

/** One migration: the SQL that brings version N - 1 to N. */
export interface PostgresMigration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** The advisory lock key (two int4) of the idempotency slots: 'pprv'. */
export const SLOT_LOCK_CLASS = 0x70707276;
/** The advisory lock key (two int4) that orders the outbox's events: 'ppro', 1. */
export const OUTBOX_LOCK: readonly [number, number] = [0x7070726f, 1];
/** The advisory lock key (two int4) taken by migrations: 'pprm', 1. */
export const MIGRATION_LOCK: readonly [number, number] = [0x7070726d, 1];

const TABLES = `
CREATE TABLE tokens (
  token_reference_id text PRIMARY KEY,
  token_number_hash text NOT NULL UNIQUE,
  sealed_token_number text NOT NULL,
  token_last4 text NOT NULL CHECK (char_length(token_last4) = 4),
  expiry_month integer NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
  expiry_year integer NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'pending_activation', 'suspended', 'deleted')),
  issuer_id text NOT NULL,
  wallet_provider_id text NOT NULL,
  wallet_account_id text NOT NULL,
  device_id text NOT NULL,
  network text,
  device_key_thumbprint text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE vault (
  token_reference_id text PRIMARY KEY REFERENCES tokens (token_reference_id),
  pan_fingerprint text NOT NULL,
  wallet_provider_id text NOT NULL,
  wallet_account_id text NOT NULL,
  device_id text NOT NULL,
  sealed_card text NOT NULL,
  pan_last4 text NOT NULL CHECK (char_length(pan_last4) = 4),
  created_at bigint NOT NULL,
  CONSTRAINT vault_card_per_device UNIQUE (pan_fingerprint, wallet_provider_id, wallet_account_id, device_id)
);
CREATE TABLE replay (
  key text PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX replay_expires_at ON replay (expires_at);
CREATE TABLE idempotency (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer NOT NULL CHECK (status BETWEEN 100 AND 599),
  sealed_response text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_expires_at ON idempotency (expires_at);
CREATE TABLE idempotency_pending (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  lease_id text NOT NULL,
  lease_expires_at bigint NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_pending_lease ON idempotency_pending (lease_expires_at);
`;

const FUNCTIONS = `
-- Begins a request for (scope, key, request hash): see IdempotencyStore.begin.
CREATE FUNCTION pushprov_begin(p_scope text, p_key text, p_request_hash text, p_lease_id text, p_now_ms bigint, p_lease_ms bigint)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  done idempotency%ROWTYPE;
  has_done boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(${SLOT_LOCK_CLASS}, hashtext(p_scope || E'\\n' || p_key));
  SELECT * INTO done FROM idempotency WHERE scope = p_scope AND key = p_key;
  has_done := FOUND;
  IF has_done AND done.expires_at > p_now_ms THEN
    IF done.request_hash <> p_request_hash THEN
      RETURN '{"state":"mismatch"}'::jsonb;
    END IF;
    RETURN jsonb_build_object('state', 'stored', 'record', jsonb_build_object(
      'scope', done.scope, 'key', done.key, 'requestHash', done.request_hash, 'status', done.status,
      'sealedResponse', done.sealed_response, 'createdAt', done.created_at, 'expiresAt', done.expires_at));
  END IF;
  IF EXISTS (SELECT 1 FROM idempotency_pending WHERE scope = p_scope AND key = p_key AND lease_expires_at > p_now_ms) THEN
    RETURN '{"state":"in_flight"}'::jsonb;
  END IF;
  -- A completed record past its expiry and a pending entry past its lease count as absent.
  IF has_done THEN
    DELETE FROM idempotency WHERE scope = p_scope AND key = p_key;
  END IF;
  INSERT INTO idempotency_pending (scope, key, request_hash, lease_id, lease_expires_at)
  VALUES (p_scope, p_key, p_request_hash, p_lease_id, p_now_ms + p_lease_ms)
  ON CONFLICT (scope, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, lease_id = EXCLUDED.lease_id, lease_expires_at = EXCLUDED.lease_expires_at;
  RETURN '{"state":"started"}'::jsonb;
END
$fn$;

-- Everything of one provisioning, all or nothing: see TokenServiceStore.commit.
-- Input: { idempotency: IdempotencyRecord & { leaseId }, replay: ReplayRecord[],
-- issuance?: { token: TokenRecord, vault: VaultRecord, replaces?: string } }.
CREATE FUNCTION pushprov_commit(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  idem jsonb := p->'idempotency';
  v_scope text := idem->>'scope';
  v_key text := idem->>'key';
  v_lease text := idem->>'leaseId';
  iss jsonb := p->'issuance';
  tok jsonb;
  vlt jsonb;
  v_token_ref text;
  v_replaces text;
  v_holder text;
  v_replay_count integer;
  v_distinct_count integer;
  v_inserted text[];
  v_rows integer;
BEGIN
  IF v_scope IS NULL OR v_key IS NULL OR v_lease IS NULL THEN
    RAISE EXCEPTION 'pushprov_commit: no idempotency scope, key or lease' USING ERRCODE = 'PP003';
  END IF;
  PERFORM pg_advisory_xact_lock(${SLOT_LOCK_CLASS}, hashtext(v_scope || E'\\n' || v_key));

  -- The slot: no completed record (even past its expiry, until purged) and no other attempt's lease.
  IF EXISTS (SELECT 1 FROM idempotency WHERE scope = v_scope AND key = v_key)
     OR EXISTS (SELECT 1 FROM idempotency_pending WHERE scope = v_scope AND key = v_key AND lease_id <> v_lease) THEN
    RETURN '{"ok":false,"conflict":"idempotency"}'::jsonb;
  END IF;

  -- Replay keys: none twice, none recorded. Inserted in key order (the same
  -- lock order in every commit), then counted.
  SELECT count(*), count(DISTINCT r->>'key') INTO v_replay_count, v_distinct_count
  FROM jsonb_array_elements(coalesce(p->'replay', '[]'::jsonb)) AS r;
  IF v_replay_count <> v_distinct_count THEN
    RETURN '{"ok":false,"conflict":"replay"}'::jsonb;
  END IF;
  WITH inserted AS (
    INSERT INTO replay (key, expires_at)
    SELECT r->>'key', (r->>'expiresAt')::bigint
    FROM jsonb_array_elements(coalesce(p->'replay', '[]'::jsonb)) AS r
    ORDER BY r->>'key'
    ON CONFLICT DO NOTHING
    RETURNING key
  )
  SELECT coalesce(array_agg(key), '{}') INTO v_inserted FROM inserted;
  IF cardinality(v_inserted) <> v_replay_count THEN
    DELETE FROM replay WHERE key = ANY (v_inserted);
    RETURN '{"ok":false,"conflict":"replay"}'::jsonb;
  END IF;

  IF iss IS NOT NULL AND jsonb_typeof(iss) = 'object' THEN
    tok := iss->'token';
    vlt := iss->'vault';
    v_token_ref := tok->>'tokenReferenceId';
    v_replaces := iss->>'replaces';
    IF vlt->>'tokenReferenceId' IS DISTINCT FROM v_token_ref THEN
      RAISE EXCEPTION 'pushprov_commit: the vault entry and the token differ' USING ERRCODE = 'PP001';
    END IF;

    INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year,
      status, issuer_id, wallet_provider_id, wallet_account_id, device_id, network, device_key_thumbprint, created_at, updated_at)
    VALUES (v_token_ref, tok->>'tokenNumberHash', tok->>'sealedTokenNumber', tok->>'tokenLast4',
      (tok->'tokenExpiry'->>'month')::integer, (tok->'tokenExpiry'->>'year')::integer, tok->>'status', tok->>'issuerId',
      tok->>'walletProviderId', tok->>'walletAccountId', tok->>'deviceId', tok->>'network', tok->>'deviceKeyThumbprint',
      (tok->>'createdAt')::bigint, (tok->>'updatedAt')::bigint)
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows = 0 THEN
      DELETE FROM replay WHERE key = ANY (v_inserted);
      IF EXISTS (SELECT 1 FROM tokens WHERE token_number_hash = tok->>'tokenNumberHash') THEN
        RETURN '{"ok":false,"conflict":"token_number"}'::jsonb;
      END IF;
      RAISE EXCEPTION 'pushprov_commit: duplicate token reference id' USING ERRCODE = 'PP002';
    END IF;

    -- The card on this wallet account and device: free, or held by the token this one replaces.
    SELECT token_reference_id INTO v_holder FROM vault
    WHERE pan_fingerprint = vlt->>'panFingerprint' AND wallet_provider_id = vlt->>'walletProviderId'
      AND wallet_account_id = vlt->>'walletAccountId' AND device_id = vlt->>'deviceId'
    FOR UPDATE;
    IF v_holder IS NOT NULL AND v_holder IS DISTINCT FROM v_replaces THEN
      DELETE FROM tokens WHERE token_reference_id = v_token_ref;
      DELETE FROM replay WHERE key = ANY (v_inserted);
      RETURN jsonb_build_object('ok', false, 'conflict', 'already_provisioned', 'tokenReferenceId', v_holder);
    END IF;

    IF v_holder IS NULL THEN
      -- Free when we looked: another commit may take it first.
      INSERT INTO vault (token_reference_id, pan_fingerprint, wallet_provider_id, wallet_account_id, device_id, sealed_card, pan_last4, created_at)
      VALUES (v_token_ref, vlt->>'panFingerprint', vlt->>'walletProviderId', vlt->>'walletAccountId', vlt->>'deviceId',
        vlt->>'sealedCard', vlt->>'panLast4', (vlt->>'createdAt')::bigint)
      ON CONFLICT DO NOTHING;
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      IF v_rows = 0 THEN
        SELECT token_reference_id INTO v_holder FROM vault
        WHERE pan_fingerprint = vlt->>'panFingerprint' AND wallet_provider_id = vlt->>'walletProviderId'
          AND wallet_account_id = vlt->>'walletAccountId' AND device_id = vlt->>'deviceId';
        IF v_holder IS NULL THEN
          -- Taken and freed again meanwhile: the client runs the whole commit again.
          RAISE EXCEPTION 'pushprov_commit: the card changed hands meanwhile' USING ERRCODE = '40001';
        END IF;
        DELETE FROM tokens WHERE token_reference_id = v_token_ref;
        DELETE FROM replay WHERE key = ANY (v_inserted);
        RETURN jsonb_build_object('ok', false, 'conflict', 'already_provisioned', 'tokenReferenceId', v_holder);
      END IF;
      IF v_replaces IS NOT NULL THEN
        DELETE FROM vault WHERE token_reference_id = v_replaces;
        UPDATE tokens SET status = 'deleted', updated_at = (tok->>'createdAt')::bigint WHERE token_reference_id = v_replaces;
      END IF;
    ELSE
      -- Held by the replaced token (its row is locked): it leaves, the new entry takes its place.
      DELETE FROM vault WHERE token_reference_id = v_replaces;
      UPDATE tokens SET status = 'deleted', updated_at = (tok->>'createdAt')::bigint WHERE token_reference_id = v_replaces;
      INSERT INTO vault (token_reference_id, pan_fingerprint, wallet_provider_id, wallet_account_id, device_id, sealed_card, pan_last4, created_at)
      VALUES (v_token_ref, vlt->>'panFingerprint', vlt->>'walletProviderId', vlt->>'walletAccountId', vlt->>'deviceId',
        vlt->>'sealedCard', vlt->>'panLast4', (vlt->>'createdAt')::bigint);
    END IF;
  END IF;

  -- The slot is ours (locked and checked above): the pending entry becomes the completed record.
  DELETE FROM idempotency_pending WHERE scope = v_scope AND key = v_key;
  INSERT INTO idempotency (scope, key, request_hash, status, sealed_response, created_at, expires_at)
  VALUES (v_scope, v_key, idem->>'requestHash', (idem->>'status')::integer, idem->>'sealedResponse',
    (idem->>'createdAt')::bigint, (idem->>'expiresAt')::bigint);
  RETURN '{"ok":true}'::jsonb;
END
$fn$;

-- A refusal that sticks: the replay keys (existing ones kept) and the release
-- of the pending entry if the lease still holds it. Input: { idempotency:
-- { scope, key, leaseId }, replay: ReplayRecord[] }.
CREATE FUNCTION pushprov_refuse(p jsonb)
RETURNS void LANGUAGE plpgsql STRICT AS $fn$
BEGIN
  INSERT INTO replay (key, expires_at)
  SELECT r->>'key', (r->>'expiresAt')::bigint
  FROM jsonb_array_elements(coalesce(p->'replay', '[]'::jsonb)) AS r
  ORDER BY r->>'key'
  ON CONFLICT DO NOTHING;
  DELETE FROM idempotency_pending
  WHERE scope = p->'idempotency'->>'scope' AND key = p->'idempotency'->>'key' AND lease_id = p->'idempotency'->>'leaseId';
END
$fn$;
`;

const META_AND_KEY_ID_INDEXES = `
CREATE TABLE meta (
  name text PRIMARY KEY,
  value text NOT NULL
);
CREATE INDEX vault_sealed_key_id ON vault ((CASE WHEN left(sealed_card, 3) = 'v1.' THEN split_part(sealed_card, '.', 2) ELSE '' END));
CREATE INDEX tokens_sealed_key_id ON tokens ((CASE WHEN left(sealed_token_number, 3) = 'v1.' THEN split_part(sealed_token_number, '.', 2) ELSE '' END));
CREATE INDEX idempotency_sealed_key_id ON idempotency ((CASE WHEN left(sealed_response, 3) = 'v1.' THEN split_part(sealed_response, '.', 2) ELSE '' END));
`;

const RATE_LIMITS = `
CREATE TABLE rate_limits (
  key text PRIMARY KEY,
  window_start bigint NOT NULL,
  count integer NOT NULL CHECK (count >= 1),
  expires_at bigint NOT NULL
);
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
`;

/** Applies `replacements` to `text`, each exactly once: a migration derived from another fails loudly when that one changes. */
function derive(text: string, replacements: readonly [string, string][], migration = 5): string {
  let out = text;
  for (const [from, to] of replacements) {
    const parts = out.split(from);
    if (parts.length < 2) throw new Error(`migration ${migration}: the text to replace was not found: ${from.slice(0, 60)}`);
    out = parts.join(to);
  }
  return out;
}

// Version 2's pushprov_commit, writing the verification columns, dropping the codes of a replaced token.
const COMMIT_V2 = FUNCTIONS.slice(FUNCTIONS.indexOf('CREATE FUNCTION pushprov_commit'), FUNCTIONS.indexOf('-- A refusal that sticks'));
const COMMIT_V5 = derive(COMMIT_V2, [
  ['CREATE FUNCTION pushprov_commit', 'CREATE OR REPLACE FUNCTION pushprov_commit'],
  ['network, device_key_thumbprint, created_at, updated_at)', 'network, device_key_thumbprint, verification_methods, pending_expires_at, created_at, updated_at)'],
  [
    "tok->>'deviceKeyThumbprint',\n      (tok->>'createdAt')::bigint",
    "tok->>'deviceKeyThumbprint',\n      (tok->'verification'->'methods')::text, (tok->'verification'->>'expiresAt')::bigint, (tok->>'createdAt')::bigint",
  ],
  [
    "UPDATE tokens SET status = 'deleted', updated_at = (tok->>'createdAt')::bigint WHERE token_reference_id = v_replaces;",
    "UPDATE tokens SET status = 'deleted', updated_at = (tok->>'createdAt')::bigint WHERE token_reference_id = v_replaces;\n        DELETE FROM verification_codes WHERE token_reference_id = v_replaces;",
  ],
]);

// Version 5's pushprov_commit, also writing the account id and the card's last four digits.
const COMMIT_V6 = derive(
  COMMIT_V5,
  [
    [
      'verification_methods, pending_expires_at, created_at, updated_at)',
      'verification_methods, pending_expires_at, account_id, pan_last4, created_at, updated_at)',
    ],
    [
      "(tok->'verification'->>'expiresAt')::bigint, (tok->>'createdAt')::bigint",
      "(tok->'verification'->>'expiresAt')::bigint, tok->>'accountId', tok->>'panLast4', (tok->>'createdAt')::bigint",
    ],
  ],
  6,
);

const ACCOUNT_ID = `
ALTER TABLE tokens ADD COLUMN account_id text, ADD COLUMN pan_last4 text CHECK (pan_last4 IS NULL OR char_length(pan_last4) = 4);
CREATE INDEX tokens_issuer_account ON tokens (issuer_id, account_id) WHERE account_id IS NOT NULL;
${COMMIT_V6}`;

const VERIFICATION = `
ALTER TABLE tokens ADD COLUMN verification_methods text, ADD COLUMN pending_expires_at bigint;
CREATE INDEX tokens_pending_expires_at ON tokens (pending_expires_at) WHERE status = 'pending_activation';
CREATE TABLE verification_codes (
  token_reference_id text NOT NULL REFERENCES tokens (token_reference_id),
  method_id text NOT NULL,
  code_hash text NOT NULL,
  code_expires_at bigint NOT NULL,
  resend_after bigint NOT NULL,
  attempts integer NOT NULL CHECK (attempts >= 0),
  PRIMARY KEY (token_reference_id, method_id)
);

-- A new code for a method of a pending token: see VerificationStore.issue.
-- Input: { tokenReferenceId, methodId, codeHash, codeExpiresAt, resendAfter, nowMs, maxAttempts }.
CREATE FUNCTION pushprov_verification_issue(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  v_ref text := p->>'tokenReferenceId';
  v_method text := p->>'methodId';
  v_now bigint := (p->>'nowMs')::bigint;
  v_status text;
  v_pending_until bigint;
  v_attempts integer;
  v_resend_after bigint;
BEGIN
  SELECT status, pending_expires_at INTO v_status, v_pending_until FROM tokens WHERE token_reference_id = v_ref FOR UPDATE;
  IF NOT FOUND OR v_status <> 'pending_activation' OR (v_pending_until IS NOT NULL AND v_pending_until <= v_now) THEN
    RETURN '{"ok":false,"reason":"not_pending"}'::jsonb;
  END IF;
  SELECT attempts, resend_after INTO v_attempts, v_resend_after FROM verification_codes
  WHERE token_reference_id = v_ref AND method_id = v_method FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO verification_codes (token_reference_id, method_id, code_hash, code_expires_at, resend_after, attempts)
    VALUES (v_ref, v_method, p->>'codeHash', (p->>'codeExpiresAt')::bigint, (p->>'resendAfter')::bigint, 0);
    RETURN '{"ok":true,"attempts":0}'::jsonb;
  END IF;
  IF v_attempts >= (p->>'maxAttempts')::integer THEN
    RETURN '{"ok":false,"reason":"locked"}'::jsonb;
  END IF;
  IF v_resend_after > v_now THEN
    RETURN jsonb_build_object('ok', false, 'reason', 'cooldown', 'resendAfter', v_resend_after);
  END IF;
  UPDATE verification_codes SET code_hash = p->>'codeHash', code_expires_at = (p->>'codeExpiresAt')::bigint, resend_after = (p->>'resendAfter')::bigint
  WHERE token_reference_id = v_ref AND method_id = v_method;
  RETURN jsonb_build_object('ok', true, 'attempts', v_attempts);
END
$fn$;

-- One attempt, counted only while fewer than p_max were: see VerificationStore.attempt.
CREATE FUNCTION pushprov_verification_attempt(p_ref text, p_method text, p_max integer)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  v_attempts integer;
  v_hash text;
  v_expires bigint;
BEGIN
  UPDATE verification_codes SET attempts = attempts + 1
  WHERE token_reference_id = p_ref AND method_id = p_method AND attempts < p_max
  RETURNING attempts, code_hash, code_expires_at INTO v_attempts, v_hash, v_expires;
  IF FOUND THEN
    RETURN jsonb_build_object('ok', true, 'attempts', v_attempts, 'codeHash', v_hash, 'codeExpiresAt', v_expires);
  END IF;
  IF EXISTS (SELECT 1 FROM verification_codes WHERE token_reference_id = p_ref AND method_id = p_method) THEN
    RETURN '{"ok":false,"reason":"locked"}'::jsonb;
  END IF;
  RETURN '{"ok":false,"reason":"no_code"}'::jsonb;
END
$fn$;

-- Activation, all or nothing: see VerificationStore.activate.
-- Input: { tokenReferenceId, nowMs, code?: { methodId, codeHash }, idempotency?: IdempotencyRecord & { leaseId } }.
CREATE FUNCTION pushprov_verification_activate(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  idem jsonb := p->'idempotency';
  code jsonb := p->'code';
  v_ref text := p->>'tokenReferenceId';
  v_now bigint := (p->>'nowMs')::bigint;
  v_status text;
  v_pending_until bigint;
BEGIN
  IF idem IS NOT NULL AND jsonb_typeof(idem) = 'object' THEN
    PERFORM pg_advisory_xact_lock(${SLOT_LOCK_CLASS}, hashtext((idem->>'scope') || E'\\n' || (idem->>'key')));
    IF EXISTS (SELECT 1 FROM idempotency WHERE scope = idem->>'scope' AND key = idem->>'key')
       OR EXISTS (SELECT 1 FROM idempotency_pending WHERE scope = idem->>'scope' AND key = idem->>'key' AND lease_id <> idem->>'leaseId') THEN
      RETURN '{"ok":false,"conflict":"idempotency"}'::jsonb;
    END IF;
  END IF;
  SELECT status, pending_expires_at INTO v_status, v_pending_until FROM tokens WHERE token_reference_id = v_ref FOR UPDATE;
  IF NOT FOUND OR v_status <> 'pending_activation' OR (v_pending_until IS NOT NULL AND v_pending_until <= v_now) THEN
    RETURN '{"ok":false,"conflict":"not_pending"}'::jsonb;
  END IF;
  IF code IS NOT NULL AND jsonb_typeof(code) = 'object' THEN
    IF NOT EXISTS (SELECT 1 FROM verification_codes
                   WHERE token_reference_id = v_ref AND method_id = code->>'methodId' AND code_hash = code->>'codeHash' FOR UPDATE) THEN
      RETURN '{"ok":false,"conflict":"code"}'::jsonb;
    END IF;
  END IF;
  UPDATE tokens SET status = 'active', updated_at = v_now WHERE token_reference_id = v_ref;
  DELETE FROM verification_codes WHERE token_reference_id = v_ref;
  IF idem IS NOT NULL AND jsonb_typeof(idem) = 'object' THEN
    DELETE FROM idempotency_pending WHERE scope = idem->>'scope' AND key = idem->>'key';
    INSERT INTO idempotency (scope, key, request_hash, status, sealed_response, created_at, expires_at)
    VALUES (idem->>'scope', idem->>'key', idem->>'requestHash', (idem->>'status')::integer, idem->>'sealedResponse',
      (idem->>'createdAt')::bigint, (idem->>'expiresAt')::bigint);
  END IF;
  RETURN '{"ok":true}'::jsonb;
END
$fn$;

-- Deletes pending tokens whose pending time is over (one, or all when p_ref is null): see VerificationStore.expirePending.
CREATE FUNCTION pushprov_verification_expire(p_now bigint, p_ref text)
RETURNS integer LANGUAGE sql AS $fn$
  WITH e AS (
    UPDATE tokens SET status = 'deleted', updated_at = p_now
    WHERE status = 'pending_activation' AND pending_expires_at <= p_now AND (p_ref IS NULL OR token_reference_id = p_ref)
    RETURNING token_reference_id
  ), v AS (
    DELETE FROM vault WHERE token_reference_id IN (SELECT token_reference_id FROM e) RETURNING 1
  ), c AS (
    DELETE FROM verification_codes WHERE token_reference_id IN (SELECT token_reference_id FROM e) RETURNING 1
  )
  SELECT (SELECT count(*) FROM e)::integer + 0 * ((SELECT count(*) FROM v) + (SELECT count(*) FROM c))::integer
$fn$;
${COMMIT_V5}`;

const LIFECYCLE = `
ALTER TABLE tokens ALTER COLUMN sealed_token_number DROP NOT NULL;
ALTER TABLE tokens ADD COLUMN event_sequence integer NOT NULL DEFAULT 0;
CREATE TABLE token_history (
  id bigserial PRIMARY KEY,
  token_reference_id text NOT NULL,
  from_status text,
  to_status text NOT NULL,
  actor text NOT NULL,
  reason text NOT NULL,
  at bigint NOT NULL
);
CREATE INDEX token_history_token ON token_history (token_reference_id, id);
CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  token_reference_id text NOT NULL,
  issuer_id text NOT NULL,
  wallet_provider_id text NOT NULL,
  type text NOT NULL,
  sequence integer NOT NULL,
  body jsonb NOT NULL,
  created_at bigint NOT NULL,
  CONSTRAINT events_token_sequence UNIQUE (token_reference_id, sequence)
);
CREATE INDEX events_issuer ON events (issuer_id, seq);
CREATE INDEX events_wallet_provider ON events (wallet_provider_id, seq);
CREATE TABLE deliveries (
  event_id text NOT NULL,
  receiver text NOT NULL,
  token_reference_id text NOT NULL,
  sequence integer NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  lease_owner text,
  lease_until bigint,
  last_error text,
  first_attempt_at bigint,
  delivered_at bigint,
  PRIMARY KEY (event_id, receiver)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_order ON deliveries (receiver, token_reference_id, sequence);

-- One change of a token, recorded: its history row, its event (the body
-- src/store/outbox.ts builds: keep them equal) and one delivery per receiver.
-- The caller holds the token row's lock. Returns { eventId, sequence }.
CREATE FUNCTION pushprov_record_change(p_ref text, p_from text, p_to text, p_type text, p_actor text, p_reason text, p_now bigint)
RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  v_issuer text;
  v_wallet text;
  v_sequence integer;
  v_event text;
  v_body jsonb;
BEGIN
  UPDATE tokens SET event_sequence = event_sequence + 1 WHERE token_reference_id = p_ref
  RETURNING event_sequence, issuer_id, wallet_provider_id INTO v_sequence, v_issuer, v_wallet;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'pushprov_record_change: no such token' USING ERRCODE = 'PP004';
  END IF;
  v_event := 'evt_' || replace(gen_random_uuid()::text, '-', '');
  INSERT INTO token_history (token_reference_id, from_status, to_status, actor, reason, at)
  VALUES (p_ref, p_from, p_to, p_actor, p_reason, p_now);
  v_body := jsonb_build_object('eventId', v_event, 'type', p_type, 'tokenReferenceId', p_ref, 'issuerId', v_issuer,
    'walletProviderId', v_wallet, 'status', p_to, 'reason', p_reason, 'actor', p_actor, 'occurredAt', p_now / 1000, 'sequence', v_sequence);
  IF p_from IS NOT NULL THEN
    v_body := v_body || jsonb_build_object('previousStatus', p_from);
  END IF;
  PERFORM pg_advisory_xact_lock(${OUTBOX_LOCK[0]}, ${OUTBOX_LOCK[1]});
  INSERT INTO events (event_id, token_reference_id, issuer_id, wallet_provider_id, type, sequence, body, created_at)
  VALUES (v_event, p_ref, v_issuer, v_wallet, p_type, v_sequence, v_body, p_now);
  INSERT INTO deliveries (event_id, receiver, token_reference_id, sequence, state, attempts, next_attempt_at)
  VALUES (v_event, 'issuer:' || v_issuer, p_ref, v_sequence, 'pending', 0, p_now),
         (v_event, 'wallet:' || v_wallet, p_ref, v_sequence, 'pending', 0, p_now);
  RETURN jsonb_build_object('eventId', v_event, 'sequence', v_sequence);
END
$fn$;

-- One lifecycle change, all or nothing: see LifecycleStore.transition.
-- Input: { tokenReferenceId, from: status[], to?, type, actor, reason, nowMs,
-- sealedCard?: { from, to }, idempotency?: IdempotencyRecord & { leaseId } }.
CREATE FUNCTION pushprov_transition(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  idem jsonb := p->'idempotency';
  card jsonb := p->'sealedCard';
  v_ref text := p->>'tokenReferenceId';
  v_now bigint := (p->>'nowMs')::bigint;
  v_from text;
  v_to text;
  v_rows integer;
  v_recorded jsonb;
BEGIN
  IF idem IS NOT NULL AND jsonb_typeof(idem) = 'object' THEN
    PERFORM pg_advisory_xact_lock(${SLOT_LOCK_CLASS}, hashtext((idem->>'scope') || E'\\n' || (idem->>'key')));
    IF EXISTS (SELECT 1 FROM idempotency WHERE scope = idem->>'scope' AND key = idem->>'key')
       OR EXISTS (SELECT 1 FROM idempotency_pending WHERE scope = idem->>'scope' AND key = idem->>'key' AND lease_id <> idem->>'leaseId') THEN
      RETURN '{"ok":false,"conflict":"idempotency"}'::jsonb;
    END IF;
  END IF;
  -- The token's row lock serialises every change of it: a racing change waits, then sees this one's status.
  SELECT status INTO v_from FROM tokens WHERE token_reference_id = v_ref FOR UPDATE;
  IF NOT FOUND THEN
    RETURN '{"ok":false,"conflict":"not_found"}'::jsonb;
  END IF;
  IF NOT ((p->'from') ? v_from) THEN
    RETURN jsonb_build_object('ok', false, 'conflict', 'state', 'status', v_from);
  END IF;
  v_to := coalesce(p->>'to', v_from);
  IF card IS NOT NULL AND jsonb_typeof(card) = 'object' THEN
    UPDATE vault SET sealed_card = card->>'to' WHERE token_reference_id = v_ref AND sealed_card = card->>'from';
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows = 0 THEN
      RETURN '{"ok":false,"conflict":"card"}'::jsonb;
    END IF;
  END IF;
  UPDATE tokens SET status = v_to, updated_at = v_now WHERE token_reference_id = v_ref;
  IF v_to = 'deleted' THEN
    UPDATE tokens SET sealed_token_number = NULL WHERE token_reference_id = v_ref;
    DELETE FROM vault WHERE token_reference_id = v_ref;
    DELETE FROM verification_codes WHERE token_reference_id = v_ref;
  END IF;
  v_recorded := pushprov_record_change(v_ref, v_from, v_to, p->>'type', p->>'actor', p->>'reason', v_now);
  IF idem IS NOT NULL AND jsonb_typeof(idem) = 'object' THEN
    DELETE FROM idempotency_pending WHERE scope = idem->>'scope' AND key = idem->>'key';
    INSERT INTO idempotency (scope, key, request_hash, status, sealed_response, created_at, expires_at)
    VALUES (idem->>'scope', idem->>'key', idem->>'requestHash', (idem->>'status')::integer, idem->>'sealedResponse',
      (idem->>'createdAt')::bigint, (idem->>'expiresAt')::bigint);
  END IF;
  RETURN jsonb_build_object('ok', true, 'previousStatus', v_from, 'status', v_to) || v_recorded;
END
$fn$;

-- pushprov_commit, with its changes recorded: the replaced token's deletion
-- (token_service, other) and the new token's creation (wallet_provider,
-- customer_request), in the same transaction.
CREATE FUNCTION pushprov_commit_recorded(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  iss jsonb := p->'issuance';
  v_replaces text;
  v_replaced_status text;
  v_outcome jsonb;
  v_now bigint;
BEGIN
  IF iss IS NOT NULL AND jsonb_typeof(iss) = 'object' THEN
    v_replaces := iss->>'replaces';
    IF v_replaces IS NOT NULL THEN
      SELECT status INTO v_replaced_status FROM tokens WHERE token_reference_id = v_replaces FOR UPDATE;
    END IF;
  END IF;
  v_outcome := pushprov_commit(p);
  IF (v_outcome->>'ok')::boolean AND iss IS NOT NULL AND jsonb_typeof(iss) = 'object' THEN
    v_now := (iss->'token'->>'createdAt')::bigint;
    IF v_replaces IS NOT NULL AND v_replaced_status IS NOT NULL AND v_replaced_status <> 'deleted' THEN
      UPDATE tokens SET sealed_token_number = NULL WHERE token_reference_id = v_replaces;
      PERFORM pushprov_record_change(v_replaces, v_replaced_status, 'deleted', 'token.deleted', 'token_service', 'other', v_now);
    END IF;
    PERFORM pushprov_record_change(iss->'token'->>'tokenReferenceId', NULL, iss->'token'->>'status', 'token.created', 'wallet_provider', 'customer_request', v_now);
  END IF;
  RETURN v_outcome;
END
$fn$;

-- pushprov_verification_activate, with the activation recorded (by the
-- cardholder with a code, else by the issuer; identity_verified).
CREATE FUNCTION pushprov_verification_activate_recorded(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STRICT AS $fn$
DECLARE
  v_outcome jsonb;
BEGIN
  v_outcome := pushprov_verification_activate(p);
  IF (v_outcome->>'ok')::boolean THEN
    PERFORM pushprov_record_change(p->>'tokenReferenceId', 'pending_activation', 'active', 'token.activated',
      CASE WHEN jsonb_typeof(p->'code') = 'object' THEN 'cardholder' ELSE 'issuer' END, 'identity_verified', (p->>'nowMs')::bigint);
  END IF;
  RETURN v_outcome;
END
$fn$;

-- Deletes pending tokens whose pending time is over (one, or all when p_ref
-- is null), recording each (token_service, activation_expired). Every row is
-- locked before the first record (which takes the outbox lock).
CREATE OR REPLACE FUNCTION pushprov_verification_expire(p_now bigint, p_ref text)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  v_refs text[];
  v_ref text;
BEGIN
  SELECT coalesce(array_agg(token_reference_id ORDER BY token_reference_id), '{}') INTO v_refs FROM (
    SELECT token_reference_id FROM tokens
    WHERE status = 'pending_activation' AND pending_expires_at <= p_now AND (p_ref IS NULL OR token_reference_id = p_ref)
    ORDER BY token_reference_id
    FOR UPDATE
  ) AS locked;
  FOREACH v_ref IN ARRAY v_refs LOOP
    UPDATE tokens SET status = 'deleted', updated_at = p_now, sealed_token_number = NULL WHERE token_reference_id = v_ref;
    DELETE FROM vault WHERE token_reference_id = v_ref;
    DELETE FROM verification_codes WHERE token_reference_id = v_ref;
    PERFORM pushprov_record_change(v_ref, 'pending_activation', 'deleted', 'token.deleted', 'token_service', 'activation_expired', p_now);
  END LOOP;
  RETURN cardinality(v_refs);
END
$fn$;
`;

/** The migrations, in order: `POSTGRES_MIGRATIONS[N - 1]` brings version N - 1 to N. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  { version: 1, description: 'tokens, vault, replay, idempotency and idempotency_pending tables', sql: TABLES },
  { version: 2, description: 'write functions: pushprov_begin, pushprov_commit, pushprov_refuse', sql: FUNCTIONS },
  { version: 3, description: 'meta table; indexes on the key id of each sealed column', sql: META_AND_KEY_ID_INDEXES },
  { version: 4, description: 'rate_limits table (fixed-window counters)', sql: RATE_LIMITS },
  {
    version: 5,
    description: 'step-up verification: tokens.verification_methods and pending_expires_at, verification_codes, pushprov_verification_* functions, pushprov_commit writing them',
    sql: VERIFICATION,
  },
  { version: 6, description: 'tokens.account_id and pan_last4, index on (issuer_id, account_id), pushprov_commit writing them', sql: ACCOUNT_ID },
  {
    version: 7,
    description:
      'token lifecycle: token_history, events and deliveries (the outbox), tokens.event_sequence, tokens.sealed_token_number nullable; pushprov_record_change, pushprov_transition, pushprov_commit_recorded, pushprov_verification_activate_recorded, pushprov_verification_expire recording its deletions',
    sql: LIFECYCLE,
  },
  {
    version: 8,
    description: 'index on tokens (wallet_provider_id, wallet_account_id, issuer_id, account_id) for the token query',
    sql: 'CREATE INDEX tokens_wallet_account ON tokens (wallet_provider_id, wallet_account_id, issuer_id, account_id) WHERE account_id IS NOT NULL;',
  },
];

/** The schema version this code needs and writes. */
export const POSTGRES_LATEST_VERSION = POSTGRES_MIGRATIONS.length;

/** The table that records each applied version. */
export const MIGRATIONS_TABLE = 'pushprov_schema_migrations';

/** Options of {@link migratePostgres}. */
export interface MigratePostgresOptions {
  /** Bound on each statement of the migration, ms (default: none; waiting for another instance's migration counts too). */
  statementTimeoutMs?: number;
  /** Bound on connecting, ms. Default 5000. */
  connectionTimeoutMillis?: number;
  /** `application_name` of the connection. */
  applicationName?: string;
}

/** The error of a connection that could not be made or was lost (`what`: what was being done). */
function connectionError(error: unknown, what: string): InternalError {
  if (error instanceof InternalError) return error;
  if (isConfigurationFailure(error)) return new InternalError('configuration_invalid', `The PostgreSQL database refused the connection (${what}): check the URL, role and database`, { cause: error });
  if (isUnavailable(error)) return new InternalError('store_unavailable', `The PostgreSQL database did not answer (${what})`, { cause: error });
  return new InternalError('internal_error', `The PostgreSQL database failed (${what})`, { cause: error });
}

/** A message for a schema at another version than this code needs. */
export function schemaVersionMessage(version: number): string {
  return version > POSTGRES_LATEST_VERSION
    ? `The PostgreSQL schema is at version ${version}, newer than this token service (${POSTGRES_LATEST_VERSION}): run a token service of that version or newer`
    : `The PostgreSQL schema is at version ${version}; this token service needs ${POSTGRES_LATEST_VERSION}: run \`token-service migrate --store <url>\``;
}

/** Reads the schema version (0 when no migration was applied) through a client or a pool. */
export async function readSchemaVersion(queryable: Pick<pg.ClientBase, 'query'>, onQuery: () => void = () => undefined): Promise<number> {
  onQuery();
  const present = await queryable.query<{ present: boolean }>(`SELECT to_regclass('${MIGRATIONS_TABLE}') IS NOT NULL AS present`);
  if (!present.rows[0]?.present) return 0;
  onQuery();
  const found = await queryable.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${MIGRATIONS_TABLE}`);
  return found.rows[0]?.version ?? 0;
}

/**
 * Brings the PostgreSQL schema to {@link POSTGRES_LATEST_VERSION}: applies
 * the migrations it lacks, in order, in one transaction, recording each
 * version in `pushprov_schema_migrations`. A transaction advisory lock
 * serialises concurrent calls (several instances starting at once): the
 * second finds the schema migrated and applies nothing. A schema newer than
 * this code is refused (`configuration_invalid`) and left as it is. Returns
 * the version found and the version reached (equal when nothing was applied).
 *
 * @example
 * ```ts
 * const { from, to } = await migratePostgres(process.env.DATABASE_URL!);
 * ```
 */
export async function migratePostgres(connection: string | PostgresConnectionConfig, options: MigratePostgresOptions = {}): Promise<{ from: number; to: number }> {
  const settings: ConnectionSettings = options;
  const { Client } = loadPg();
  const client = new Client(connectionConfig(connection, settings, { statementTimeoutMs: undefined, connectionTimeoutMillis: 5000 }));
  // A connection lost mid-migration rejects the query in progress; the event must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, 'connecting to migrate');
  }
  let step = 'starting the migration';
  try {
    await client.query('BEGIN');
    step = 'waiting for the migration lock';
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [MIGRATION_LOCK[0], MIGRATION_LOCK[1]]);
    step = 'reading the schema version';
    await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const from = await readSchemaVersion(client);
    if (from > POSTGRES_LATEST_VERSION) throw new InternalError('configuration_invalid', schemaVersionMessage(from));
    for (const migration of POSTGRES_MIGRATIONS.slice(from)) {
      step = `applying migration ${migration.version}`;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, applied_at) VALUES ($1, now())`, [migration.version]);
    }
    step = 'committing the migration';
    await client.query('COMMIT');
    return { from, to: Math.max(from, POSTGRES_LATEST_VERSION) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw connectionError(error, step);
  } finally {
    await client.end().catch(() => undefined);
  }
}
