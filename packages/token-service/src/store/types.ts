import type { Expiry, TokenStatus } from '@pushprov/protocol';

/**
 * A stored token. The token number itself is never stored in the clear: only
 * `sealedTokenNumber` (AES-256-GCM under the vault key) and
 * `tokenNumberHash` (an HMAC, which carries the uniqueness constraint).
 */
export interface TokenRecord {
  tokenReferenceId: string;
  /** HMAC-SHA-256 of the token number under the fingerprint key; unique. */
  tokenNumberHash: string;
  /** The token number, sealed by the vault cipher. */
  sealedTokenNumber: string;
  tokenLast4: string;
  tokenExpiry: Expiry;
  status: TokenStatus;
  issuerId: string;
  walletProviderId: string;
  walletAccountId: string;
  deviceId: string;
  /** Card network, when the issuer's configuration names one. */
  network?: string | undefined;
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

/** Reads tokens. Tokens are only written through {@link TokenServiceStore.commit}. */
export interface TokenStore {
  /** The token with this reference id, or undefined. */
  find(tokenReferenceId: string): Promise<TokenRecord | undefined>;
  /** How many tokens are stored. */
  count(): Promise<number>;
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

/** Reads the replay cache. Keys are only written through {@link TokenServiceStore.commit}. */
export interface ReplayCache {
  /** True when the key was recorded (expired but not yet purged records count too). */
  has(key: string): Promise<boolean>;
  /** How many records are stored. */
  count(): Promise<number>;
}

/** Reads idempotency records. They are only written through {@link TokenServiceStore.commit}. */
export interface IdempotencyStore {
  /** The record of this wallet provider and key, or undefined. */
  find(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** How many records are stored. */
  count(): Promise<number>;
}

/** Everything one successful provisioning writes, committed together or not at all. */
export interface CommitInput {
  /** The idempotency record (written first, so a racing twin with the same key is told apart from a replay). */
  idempotency: IdempotencyRecord;
  /** Replay keys to record: the request's `jti`, and the client assertion's when there was one. */
  replay: readonly ReplayRecord[];
  /** A new token and its vault entry; absent when the answer is an already provisioned token. */
  issuance?: {
    token: TokenRecord;
    vault: VaultRecord;
    /**
     * The token reference id of the card's expired token for this wallet
     * account and device, which the new token replaces. In the same commit,
     * that token's status becomes `deleted` and its vault entry (the sealed
     * card) is removed. If another token holds the card for this wallet
     * account and device by then, the commit is refused with
     * `already_provisioned`, naming it.
     */
    replaces?: string;
  };
}

/**
 * What {@link TokenServiceStore.commit} did. On any conflict nothing was
 * written.
 *
 * - `idempotency`: a record with this scope and key exists;
 * - `replay`: one of the replay keys exists;
 * - `token_number`: the token number (its hash) is taken; draw another;
 * - `already_provisioned`: the card is already provisioned to this wallet
 *   account and device (a concurrent request won), see `tokenReferenceId`.
 */
export type CommitOutcome =
  | { ok: true }
  | { ok: false; conflict: 'idempotency' | 'replay' | 'token_number' }
  | { ok: false; conflict: 'already_provisioned'; tokenReferenceId: string };

/** What {@link TokenServiceStore.purgeExpired} removed. */
export interface PurgeResult {
  replay: number;
  idempotency: number;
}

/**
 * The token service's storage: four read interfaces and one atomic write.
 *
 * All writes of a provisioning go through {@link TokenServiceStore.commit}
 * in a single transaction, so a request that is refused at any step leaves
 * the store exactly as it was, and one that is acknowledged is stored whole.
 * Implementations: {@link createMemoryStore} (tests) and
 * {@link openSqliteStore} (the server's default). Both pass the same
 * contract test suite.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('./tokens.db');
 * const token = await store.tokens.find('tok_…');
 * await store.close();
 * ```
 */
export interface TokenServiceStore {
  readonly tokens: TokenStore;
  readonly vault: VaultStore;
  readonly replay: ReplayCache;
  readonly idempotency: IdempotencyStore;
  /**
   * Writes everything of one provisioning atomically and durably: the
   * idempotency record, the replay keys, then the token and its vault entry.
   * Any unique conflict rolls everything back and is reported, never thrown.
   */
  commit(input: CommitInput): Promise<CommitOutcome>;
  /** Removes replay and idempotency records whose `expiresAt` is at or before `nowMs`. */
  purgeExpired(nowMs: number): Promise<PurgeResult>;
  /** Releases the store. Further calls fail. */
  close(): Promise<void>;
}
