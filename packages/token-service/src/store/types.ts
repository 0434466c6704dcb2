import type { Expiry, LifecycleActor, LifecycleReason, TokenStatus, VerificationMethod } from '@pushprov/protocol';
import type { DeliveryStore } from './delivery-types.js';

/**
 * A stored token. The token number itself is never stored in the clear: only
 * `sealedTokenNumber` (AES-256-GCM under the vault key) and
 * `tokenNumberHash` (an HMAC, which carries the uniqueness constraint).
 */
export interface TokenRecord {
  tokenReferenceId: string;
  /** HMAC-SHA-256 of the token number under the fingerprint key; unique. */
  tokenNumberHash: string;
  /** The token number, sealed by the vault cipher; null once the token is deleted (its number leaves the vault). */
  sealedTokenNumber: string | null;
  tokenLast4: string;
  tokenExpiry: Expiry;
  status: TokenStatus;
  issuerId: string;
  walletProviderId: string;
  walletAccountId: string;
  deviceId: string;
  /** Card network, when the issuer's configuration names one. */
  network?: string | undefined;
  /**
   * RFC 7638 thumbprint of the device key the token's access data was
   * encrypted to (the signed `cnf.jkt`), when the wallet used one. An
   * existing token is only ever handed to that same key.
   */
  deviceKeyThumbprint?: string | undefined;
  /**
   * A token issued `pending_activation` (step-up): the verification methods
   * the issuer offered, and when the pending token expires (milliseconds
   * since the epoch; from then on it is deleted by
   * {@link VerificationStore.expirePending}). Kept after activation.
   */
  verification?: { methods: VerificationMethod[]; expiresAt: number } | undefined;
  /**
   * The issuer's stable id of the card account: the request's `accountId`
   * claim, else its `accountRef` (schema 6). Absent when the request named
   * neither, and on tokens issued before schema 6.
   */
  accountId?: string | undefined;
  /** The last four digits of the card (schema 6; absent on tokens issued before it). */
  panLast4?: string | undefined;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch. */
  updatedAt: number;
}

/**
 * A vault entry: the card behind a token, sealed, plus what it takes to find
 * a card that is already provisioned to the same wallet account and device.
 * Unique on (`panFingerprint`, `walletProviderId`, `walletAccountId`, `deviceId`).
 */
export interface VaultRecord {
  tokenReferenceId: string;
  /** `fingerprintPan(pan, fingerprintKey)`: an HMAC, never the PAN. */
  panFingerprint: string;
  walletProviderId: string;
  walletAccountId: string;
  deviceId: string;
  /** `{ pan, expiry }` as JSON, sealed by the vault cipher (AES-256-GCM). */
  sealedCard: string;
  panLast4: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** A replay record: a hashed key (see `replayKey`) kept until `expiresAt`. */
export interface ReplayRecord {
  key: string;
  /** Milliseconds since the epoch; the record may be purged from then on. */
  expiresAt: number;
}

/** Reads tokens. Tokens are only written through {@link TokenServiceStore.commit}. */
export interface TokenRecordStore {
  /** The token with this reference id, or undefined. */
  find(tokenReferenceId: string): Promise<TokenRecord | undefined>;
  /** How many tokens are stored. */
  count(): Promise<number>;
  /**
   * The live tokens of one wallet account for some of one issuer's accounts
   * (`POST /v1/tokens/query`, spec section 7.14): of this wallet provider,
   * wallet account and issuer, with an `accountId` in the list, not
   * `deleted`, not past their expiry month at `nowMs` (UTC), and, pending
   * ones, not past their pending time. Ordered by `accountId` (code unit
   * order), then `createdAt`, then `tokenReferenceId`; at most `limit`.
   * Indexed by (wallet_provider_id, wallet_account_id, issuer_id,
   * account_id) in the SQL stores (SQLite schema 8, PostgreSQL migration 8).
   */
  findLive(query: LiveTokenQuery): Promise<LiveToken[]>;
}

/** The query of {@link TokenRecordStore.findLive}. Every member is required: no query spans wallet providers, wallet accounts or issuers. */
export interface LiveTokenQuery {
  walletProviderId: string;
  walletAccountId: string;
  issuerId: string;
  /** 1 to 16 account ids. */
  accountIds: readonly string[];
  /** Milliseconds since the epoch: what is expired, or past its pending time, at this instant is not live. */
  nowMs: number;
  /** At most this many (1 to 1 000). */
  limit: number;
}

/** A live token as {@link TokenRecordStore.findLive} finds it: no token number (sealed or not), no last four. */
export interface LiveToken {
  tokenReferenceId: string;
  accountId: string;
  deviceId: string;
  status: 'active' | 'pending_activation' | 'suspended';
  tokenExpiry: Expiry;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** True when the token is `pending_activation` and a verification code of it is stored (one was sent). */
  activationStarted: boolean;
}

/** The query that finds an already provisioned card. */
export interface ProvisionedCardQuery {
  panFingerprint: string;
  walletProviderId: string;
  walletAccountId: string;
  deviceId: string;
}

/** Reads the vault. Entries are only written through {@link TokenServiceStore.commit}. */
export interface VaultStore {
  /** The entry of a card already provisioned to this wallet account and device, or undefined. */
  findProvisioned(query: ProvisionedCardQuery): Promise<VaultRecord | undefined>;
  /** The entry behind a token, or undefined. */
  find(tokenReferenceId: string): Promise<VaultRecord | undefined>;
  /** How many entries are stored. */
  count(): Promise<number>;
}

/**
 * The replay cache. Request `jti`s are written by {@link TokenServiceStore.commit}
 * and {@link TokenServiceStore.refuse}; client assertions are claimed on their own.
 */
export interface ReplayCache {
  /** True when the key was recorded (expired but not yet purged records count too). */
  has(key: string): Promise<boolean>;
  /**
   * Records the key durably if it was never recorded: true when this call
   * recorded it, false when it existed. Atomic across every process sharing
   * the store: a client assertion is used up when it is presented.
   */
  claim(record: ReplayRecord): Promise<boolean>;
  /** How many records are stored. */
  count(): Promise<number>;
}

/**
 * A completed idempotent request: the answer it got, replayed for the same
 * key and body. Scoped per wallet provider. The response body holds access
 * data, so it is stored sealed.
 */
export interface IdempotencyRecord {
  /** The wallet provider id: keys of different providers never meet. */
  scope: string;
  /** The `Idempotency-Key` header value. */
  key: string;
  /** SHA-256 (hex) of the canonical JSON of the request body. */
  requestHash: string;
  /** The HTTP status that was answered. */
  status: number;
  /** The response body, sealed by the vault cipher. */
  sealedResponse: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch; the record may be purged from then on. */
  expiresAt: number;
}

/** Input of {@link IdempotencyStore.begin}. */
export interface IdempotencyBeginInput {
  scope: string;
  key: string;
  /** SHA-256 (hex) of the canonical JSON of the request body. */
  requestHash: string;
  /** A fresh random id of this attempt: only it completes or releases the pending entry. */
  leaseId: string;
  /** Milliseconds since the epoch. */
  nowMs: number;
  /** The pending entry is this attempt's until `nowMs + leaseMs`; after that another attempt may take it over. */
  leaseMs: number;
}

/**
 * What {@link IdempotencyStore.begin} found, decided atomically:
 *
 * - `started`: no answer is stored and no live attempt holds the key; a
 *   pending entry now holds it for this lease;
 * - `stored`: a completed answer for the same body (replay it);
 * - `in_flight`: another attempt holds the key and its lease is live
 *   (whatever this body is: that attempt may still be refused and store nothing);
 * - `mismatch`: a completed answer exists for another body.
 *
 * A completed record past its `expiresAt`, and a pending entry past its
 * lease, count as absent.
 */
export type IdempotencyBeginOutcome =
  | { state: 'started' }
  | { state: 'stored'; record: IdempotencyRecord }
  | { state: 'in_flight' }
  | { state: 'mismatch' };

/**
 * Idempotency records. A request begins with {@link IdempotencyStore.begin};
 * its pending entry is completed by {@link TokenServiceStore.commit} (in the
 * same transaction as the token) or removed by {@link TokenServiceStore.refuse}
 * or {@link IdempotencyStore.release}.
 */
export interface IdempotencyStore {
  /** Begins a request for (scope, key, request hash), atomically across every process sharing the store. */
  begin(input: IdempotencyBeginInput): Promise<IdempotencyBeginOutcome>;
  /** Removes the pending entry of this scope and key if `leaseId` still holds it; otherwise does nothing. */
  release(scope: string, key: string, leaseId: string): Promise<void>;
  /** The completed record of this wallet provider and key, or undefined (pending entries are not records). */
  find(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** How many completed records are stored. */
  count(): Promise<number>;
}

/** Everything one successful provisioning writes, committed together or not at all. */
export interface CommitInput {
  /**
   * The idempotency record, completing the pending entry held by `leaseId`
   * (see {@link IdempotencyStore.begin}). Refused with the `idempotency`
   * conflict when a completed record exists, or another lease holds the key.
   */
  idempotency: IdempotencyRecord & { leaseId: string };
  /** Replay keys to record: the request's `jti`. */
  replay: readonly ReplayRecord[];
  /** A new token and its vault entry; absent when the answer is an already provisioned token. */
  issuance?: {
    token: TokenRecord;
    vault: VaultRecord;
    /**
     * The token reference id of the card's token for this wallet account and
     * device that the new token replaces (it expired, or was bound to
     * another device key). In the same commit, that token's status becomes
     * `deleted`, its vault entry (the sealed card) and its verification codes are removed. If another
     * token holds the card for this wallet account and device by then, the
     * commit is refused with `already_provisioned`, naming it.
     */
    replaces?: string;
  };
}

/**
 * What {@link TokenServiceStore.commit} did. On any conflict nothing was
 * written.
 *
 * - `idempotency`: a completed record with this scope and key exists, or
 *   another attempt's lease holds it;
 * - `replay`: one of the replay keys exists;
 * - `token_number`: the token number (its hash) is taken; draw another;
 * - `already_provisioned`: the card is already provisioned to this wallet
 *   account and device, see `tokenReferenceId`.
 */
export type CommitOutcome =
  | { ok: true }
  | { ok: false; conflict: 'idempotency' | 'replay' | 'token_number' }
  | { ok: false; conflict: 'already_provisioned'; tokenReferenceId: string };

/**
 * A refusal that sticks (`declined`, and the card refusals of step 14): the
 * request's `jti` is burnt and its idempotency entry released, together.
 */
export interface RefusalInput {
  /** The pending idempotency entry to release (only if `leaseId` still holds it). */
  idempotency: { scope: string; key: string; leaseId: string };
  /** Replay keys to record; one that exists already is left as it is. */
  replay: readonly ReplayRecord[];
}

/**
 * Small named values the service keeps about the store itself (the
 * fingerprint key's check value, see `checkStoreKeys`). Names and values are
 * short text; never a secret.
 */
export interface StoreMetadata {
  /** The value stored under `name`, or undefined. */
  get(name: string): Promise<string | undefined>;
  /**
   * Stores `value` under `name` if nothing is stored there yet, atomically
   * across every process sharing the store, durably. Returns the value
   * stored: `value` when this call stored it (or the same was there), the
   * earlier one otherwise. Never overwrites.
   */
  claim(name: string, value: string): Promise<string>;
}

/**
 * The tables that hold sealed values, and their sealed column: `vault`
 * (`sealedCard`), `tokens` (`sealedTokenNumber`), `idempotency`
 * (`sealedResponse`).
 */
export type SealedTable = 'vault' | 'tokens' | 'idempotency';

/** The sealed tables, in the order rotation goes through them. */
export const SEALED_TABLES: readonly SealedTable[] = ['vault', 'tokens', 'idempotency'];

/** One sealed value and the row that holds it. */
export interface SealedValue {
  /** The row's primary key: `[tokenReferenceId]` (vault, tokens) or `[scope, key]` (idempotency). */
  key: string[];
  /** The sealed value (`v1.<keyId>.…`). */
  sealed: string;
}

/** A compare-and-set of one sealed value: written only if the row still holds `from`. */
export interface SealedValueUpdate {
  /** The row's primary key, as {@link SealedValue.key}. */
  key: readonly string[];
  from: string;
  to: string;
}

/** Options of {@link SealedValueStore.list}. */
export interface SealedListOptions {
  /** Only rows whose key sorts after this one (a key from the previous page); absent: from the first row. */
  after?: readonly string[] | undefined;
  /** At most this many rows (1 to 10 000). */
  limit: number;
  /** Leave out values sealed under this key id (what rotation already did). */
  excludeKeyId?: string | undefined;
}

/**
 * The sealed values of the store, for key rotation (`token-service vault
 * rotate`) and its status. Key ids are read from the sealed values' format
 * (`sealedKeyId`: `''` for a value in no known format). Rows are listed in
 * the order of their primary key as the database sorts it.
 */
export interface SealedValueStore {
  /** A page of a table's sealed values, in primary key order. */
  list(table: SealedTable, options: SealedListOptions): Promise<SealedValue[]>;
  /**
   * Writes each update whose row still holds its `from` value (a row changed
   * or removed meanwhile is left as it is), all in one transaction. Only the
   * sealed column is written. Returns how many rows were written.
   */
  replace(table: SealedTable, updates: readonly SealedValueUpdate[]): Promise<number>;
  /** How many of a table's values each key id seals (key ids holding none are absent). Reads every row. */
  countByKeyId(table: SealedTable): Promise<Record<string, number>>;
  /** The key ids a table's values are sealed under, distinct. Cheap: an index on the key id (no full read). */
  keyIds(table: SealedTable): Promise<string[]>;
}

/** Input of {@link RateLimitStore.hit}. */
export interface RateLimitHitInput {
  /**
   * What is counted: 1 to 256 printable ASCII characters. A key that would
   * name a card is a hash (see `src/ratelimit`), never a PAN.
   */
  key: string;
  /**
   * The window's length, ms (1 to 31 days). Windows are fixed and aligned to
   * multiples of it since the epoch: a minute window starts on the minute, a
   * day window at 00:00 UTC.
   */
  windowMs: number;
  /** How many hits one window allows (1 to 1 000 000 000). */
  limit: number;
  /** Milliseconds since the epoch. */
  nowMs: number;
}

/** What {@link RateLimitStore.hit} decided. */
export interface RateLimitHitOutcome {
  /** True when this hit is within the window's limit (and was counted). */
  allowed: boolean;
  /** Hits counted in the window, this one included; a refused hit counts as `limit + 1` at most. */
  count: number;
  /** 0 when allowed; otherwise how long until the window ends, ms (at least 1). */
  retryAfterMs: number;
}

/**
 * Rate limit counters (fixed windows), shared by every process on the store:
 * the wallet provider, issuer and per-card limits hold in total across
 * instances. Counters are not secrets and need no durability: one lost to a
 * crash only loosens a limit until its window ends.
 */
export interface RateLimitStore {
  /**
   * Counts one hit on `key` in the window that holds `nowMs`, atomically
   * across every process sharing the store: of any number of concurrent hits
   * on a key, exactly `limit` per window are allowed. A window that started
   * later than the stored one starts the count again; a hit from a clock
   * behind the stored window counts in the stored window.
   */
  hit(input: RateLimitHitInput): Promise<RateLimitHitOutcome>;
}

/**
 * The one-time code of one verification method of one pending token. Only
 * its keyed hash is stored. `attempts` counts every code tried for this
 * token and method, across resends (a resend replaces the code, never the
 * count).
 */
export interface VerificationCodeRecord {
  tokenReferenceId: string;
  methodId: string;
  /** HMAC-SHA-256 of the code (see `src/activation/otp.ts`); never the code. */
  codeHash: string;
  /** Milliseconds since the epoch: the code is refused from then on. */
  codeExpiresAt: number;
  /** Milliseconds since the epoch: no new code for this method before then. */
  resendAfter: number;
  /** Codes tried for this token and method, in all. */
  attempts: number;
}

/** Input of {@link VerificationStore.issue}. */
export interface VerificationIssueInput {
  tokenReferenceId: string;
  methodId: string;
  codeHash: string;
  codeExpiresAt: number;
  resendAfter: number;
  nowMs: number;
  /** The method is locked once this many codes were tried. */
  maxAttempts: number;
}

/**
 * What {@link VerificationStore.issue} decided, atomically:
 * `not_pending` (the token is not `pending_activation`, or its pending time
 * is over), `locked` (no attempts left), `cooldown` (the last code is
 * younger than its `resendAfter`), else the code was stored (replacing the
 * previous one, attempts kept).
 */
export type VerificationIssueOutcome =
  | { ok: true; attempts: number }
  | { ok: false; reason: 'not_pending' }
  | { ok: false; reason: 'locked' }
  | { ok: false; reason: 'cooldown'; resendAfter: number };

/**
 * What {@link VerificationStore.attempt} decided, atomically: the attempt
 * was counted (this is attempt number `attempts`) and here is the code to
 * compare with; or no code was ever made for the method (`no_code`); or no
 * attempts are left (`locked`: nothing was counted, nothing returned).
 */
export type VerificationAttemptOutcome =
  | { ok: true; attempts: number; codeHash: string; codeExpiresAt: number }
  | { ok: false; reason: 'no_code' }
  | { ok: false; reason: 'locked' };

/** Input of {@link VerificationStore.activate}. */
export interface VerificationActivateInput {
  tokenReferenceId: string;
  nowMs: number;
  /** The code this activation used up: consumed only if it is still the method's current code. Absent for an issuer activation. */
  code?: { methodId: string; codeHash: string } | undefined;
  /** The answer to store, completing the request's pending idempotency entry (as {@link CommitInput.idempotency}). */
  idempotency?: (IdempotencyRecord & { leaseId: string }) | undefined;
}

/**
 * What {@link VerificationStore.activate} did; on a conflict nothing was
 * written: `not_pending` (not pending, or its pending time is over),
 * `code` (the code was replaced or consumed meanwhile), `idempotency` (as
 * for {@link CommitOutcome}).
 */
export type VerificationActivateOutcome = { ok: true } | { ok: false; conflict: 'not_pending' | 'code' | 'idempotency' };

/**
 * Step-up verification (the yellow path): one-time codes of pending tokens,
 * their attempt counters, and activation. Every operation is atomic across
 * every process sharing the store: of any number of concurrent attempts on
 * one token and method, at most `maxAttempts` are ever counted.
 */
export interface VerificationStore {
  /** Stores a new code for a method of a pending token (a resend replaces the old one), unless locked, in its cooldown, or not pending. */
  issue(input: VerificationIssueInput): Promise<VerificationIssueOutcome>;
  /** Counts one attempt while fewer than `maxAttempts` were counted, and returns the code to compare with. */
  attempt(input: { tokenReferenceId: string; methodId: string; maxAttempts: number }): Promise<VerificationAttemptOutcome>;
  /**
   * In one transaction: consumes the code (if given, only if still current),
   * sets the token `active` (only if still pending and unexpired), removes
   * every code of the token, and completes the idempotency entry (if given).
   */
  activate(input: VerificationActivateInput): Promise<VerificationActivateOutcome>;
  /** The code record of a token's method, or undefined. */
  find(tokenReferenceId: string, methodId: string): Promise<VerificationCodeRecord | undefined>;
  /**
   * Deletes pending tokens whose pending time is over at `nowMs` (one token,
   * or all when `tokenReferenceId` is absent): status `deleted`, the vault
   * entry and every code removed. Returns how many were deleted.
   */
  expirePending(input: { nowMs: number; tokenReferenceId?: string | undefined }): Promise<number>;
  /** How many code records are stored. */
  count(): Promise<number>;
}

/** The type of a notification event (spec section 12). */
export type LifecycleEventType = 'token.created' | 'token.activated' | 'token.suspended' | 'token.resumed' | 'token.deleted' | 'token.updated';

/** One recorded change of a token (`token_history`). */
export interface TokenHistoryRecord {
  tokenReferenceId: string;
  /** The status before; null at issuance. */
  from: TokenStatus | null;
  to: TokenStatus;
  actor: LifecycleActor;
  reason: LifecycleReason;
  /** Milliseconds since the epoch. */
  at: number;
}

/** The notification event as the outbox stores it (`events.body`; the protocol's NotificationEvent). */
export interface LifecycleEventBody {
  eventId: string;
  type: LifecycleEventType;
  tokenReferenceId: string;
  issuerId: string;
  walletProviderId: string;
  status: TokenStatus;
  /** Absent for `token.created`. */
  previousStatus?: TokenStatus | undefined;
  reason: LifecycleReason;
  actor: LifecycleActor;
  /** Seconds since the epoch. */
  occurredAt: number;
  /** The token's own event number: 1 for `token.created`, then one more per event of the token. */
  sequence: number;
}

/** One row of the outbox's `events` table. */
export interface StoredEvent {
  /** The global outbox sequence (the feed's cursor). */
  seq: number;
  eventId: string;
  tokenReferenceId: string;
  issuerId: string;
  walletProviderId: string;
  type: LifecycleEventType;
  sequence: number;
  body: LifecycleEventBody;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** One row of the outbox's `deliveries` table, as a transition writes it (the dispatcher owns its later states). */
export interface OutboxDelivery {
  eventId: string;
  /** `issuer:<issuerId>` or `wallet:<walletProviderId>`. */
  receiver: string;
  tokenReferenceId: string;
  sequence: number;
  state: 'pending' | 'delivered' | 'dead';
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  firstAttemptAt: number | null;
  deliveredAt: number | null;
}

/** Input of {@link LifecycleStore.transition}. */
export interface LifecycleTransitionInput {
  tokenReferenceId: string;
  /** The statuses the token must have now; any other is the `state` conflict. */
  from: readonly TokenStatus[];
  /** The new status; absent: unchanged (a card update, `token.updated`). */
  to?: TokenStatus | undefined;
  type: LifecycleEventType;
  actor: LifecycleActor;
  reason: LifecycleReason;
  nowMs: number;
  /** A card update: the vault entry's sealed card becomes `to`, only if it still holds `from` (else the `card` conflict). */
  sealedCard?: { from: string; to: string } | undefined;
  /** The answer to store, completing the request's pending idempotency entry (as {@link CommitInput.idempotency}). */
  idempotency?: (IdempotencyRecord & { leaseId: string }) | undefined;
}

/**
 * What {@link LifecycleStore.transition} did; on a conflict nothing was
 * written: `not_found` (no such token), `state` (its status is not one of
 * `from`: `status` is the one found), `card` (the vault entry changed
 * meanwhile, or is gone), `idempotency` (as for {@link CommitOutcome}).
 */
export type LifecycleTransitionOutcome =
  | { ok: true; previousStatus: TokenStatus; status: TokenStatus; eventId: string; sequence: number }
  | { ok: false; conflict: 'not_found' }
  | { ok: false; conflict: 'state'; status: TokenStatus }
  | { ok: false; conflict: 'card' | 'idempotency' };

/**
 * The token lifecycle (spec section 12): status changes, each ONE atomic
 * write conditional on the stored status that, in the same transaction,
 * writes the status, a history row, one `events` row and one `deliveries`
 * row per receiver (`issuer:<id>` and `wallet:<id>`, always both) and the
 * idempotency answer. A deletion also drops the token number and the vault
 * entry (and any verification codes). Issuance, activation and the end of a
 * pending time write their history, event and deliveries in their own
 * transactions the same way.
 */
export interface LifecycleStore {
  /** One change of one token, all or nothing; racing changes of a token: the loser gets the `state` conflict. */
  transition(input: LifecycleTransitionInput): Promise<LifecycleTransitionOutcome>;
  /** Every recorded change of the token, oldest first (empty for an unknown token). */
  history(tokenReferenceId: string): Promise<TokenHistoryRecord[]>;
  /** The issuer's tokens whose `accountId` is this one, newest first, deleted ones included (at most 1 000). */
  findByAccount(issuerId: string, accountId: string): Promise<TokenRecord[]>;
  /** The issuer's tokens whose vault entry has this card fingerprint, newest first (deleted tokens have none; at most 1 000). */
  findByCard(issuerId: string, panFingerprint: string): Promise<TokenRecord[]>;
}

/** Input of {@link EventStore.feed}. */
export interface EventFeedInput {
  /** `issuer:<issuerId>` or `wallet:<walletProviderId>`: only that party's events. */
  party: string;
  /** Events after this outbox sequence (0: from the first). */
  after: number;
  /** At most this many (1 to 1 000). */
  limit: number;
}

/** Reads the outbox's events. They are only written with the changes they announce. */
export interface EventStore {
  /** A party's events after `after`, in outbox order. */
  feed(input: EventFeedInput): Promise<StoredEvent[]>;
  /** The events of one token, in order. */
  ofToken(tokenReferenceId: string): Promise<StoredEvent[]>;
  /** The deliveries written for one event (one per receiver). */
  deliveriesOf(eventId: string): Promise<OutboxDelivery[]>;
  /** How many events are stored. */
  count(): Promise<number>;
}

/** What {@link TokenServiceStore.purgeExpired} removed. */
export interface PurgeResult {
  replay: number;
  /** Completed records past `expiresAt`, and pending entries past their lease. */
  idempotency: number;
  /** Rate limit counters whose window ended. */
  limits: number;
}

/**
 * The token service's storage: four read interfaces and one atomic write.
 *
 * Every piece of state that must hold across requests lives here, never in
 * one process's memory, so any number of service processes may share one
 * store: the idempotency entry a request begins with (with a lease), client
 * assertions (claimed when presented), replay keys, tokens and the vault.
 * The writes of a provisioning go through {@link TokenServiceStore.commit}
 * in a single transaction, so a request that is refused before its decision
 * leaves only its released idempotency entry, and one that is acknowledged
 * is stored whole. Implementations: {@link createMemoryStore} (tests, one
 * process), {@link openSqliteStore} (the server's default, one host) and
 * {@link openPostgresStore} (several instances). All pass the same contract
 * test suite.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('./tokens.db');
 * const token = await store.tokens.find('tok_…');
 * await store.close();
 * ```
 */
export interface TokenServiceStore {
  readonly tokens: TokenRecordStore;
  readonly vault: VaultStore;
  readonly replay: ReplayCache;
  readonly idempotency: IdempotencyStore;
  /** Small named values about the store itself (the fingerprint key's check value). */
  readonly meta: StoreMetadata;
  /** The sealed values, for vault key rotation. */
  readonly sealed: SealedValueStore;
  /** Rate limit counters (wallet provider, issuer, card). */
  readonly limits: RateLimitStore;
  /** One-time codes and activation of pending tokens (the yellow path). */
  readonly verification: VerificationStore;
  /** The outbox's deliveries, for the notification dispatcher (spec section 14). */
  readonly deliveries: DeliveryStore;
  /** Status changes with their history and outbox rows (spec section 12). */
  readonly lifecycle: LifecycleStore;
  /** The outbox's events (the feed). */
  readonly events: EventStore;
  /**
   * Writes everything of one provisioning atomically and durably: the
   * idempotency record, the replay keys, then the token and its vault entry.
   * Any unique conflict rolls everything back and is reported, never thrown.
   */
  commit(input: CommitInput): Promise<CommitOutcome>;
  /**
   * Records a refusal that sticks, atomically: the replay keys (existing ones
   * are kept) and the release of the request's pending idempotency entry.
   */
  refuse(input: RefusalInput): Promise<void>;
  /** Removes replay and completed idempotency records whose `expiresAt` is at or before `nowMs`, pending entries whose lease ended, and rate limit counters whose window ended. */
  purgeExpired(nowMs: number): Promise<PurgeResult>;
  /**
   * Resolves when the store answers (a round trip to the database; for
   * SQLite, its writer thread too); rejects with `store_unavailable` otherwise.
   */
  ping(): Promise<void>;
  /** Releases the store. Further calls fail. */
  close(): Promise<void>;
}
