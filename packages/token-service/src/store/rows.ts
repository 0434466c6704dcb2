// The rows of the SQL stores (SQLite and PostgreSQL share one schema's
// column names) and their mapping to the store contract's records.
import type { IdempotencyRecord, LifecycleEventBody, OutboxDelivery, StoredEvent, TokenHistoryRecord, TokenRecord, VaultRecord, VerificationCodeRecord } from './types.js';

/** A `tokens` row. */
export interface TokenRow {
  token_reference_id: string;
  token_number_hash: string;
  /** Null once the token is deleted (schema 7). */
  sealed_token_number: string | null;
  token_last4: string;
  expiry_month: number;
  expiry_year: number;
  status: TokenRecord['status'];
  issuer_id: string;
  wallet_provider_id: string;
  wallet_account_id: string;
  device_id: string;
  network: string | null;
  device_key_thumbprint: string | null;
  /** JSON of the verification methods of a token issued pending activation (schema 5). */
  verification_methods: string | null;
  /** When the pending time of a token issued pending activation ends, ms; null for tokens never pending (schema 5). */
  pending_expires_at: number | string | null;
  /** The issuer's id of the card account (schema 6). */
  account_id: string | null;
  /** The last four digits of the card (schema 6). */
  pan_last4: string | null;
  created_at: number;
  updated_at: number;
}

/** A `verification_codes` row. */
export interface VerificationCodeRow {
  token_reference_id: string;
  method_id: string;
  code_hash: string;
  code_expires_at: number | string;
  resend_after: number | string;
  attempts: number;
}

export const toVerificationCode = (r: VerificationCodeRow): VerificationCodeRecord => ({
  tokenReferenceId: r.token_reference_id,
  methodId: r.method_id,
  codeHash: r.code_hash,
  codeExpiresAt: Number(r.code_expires_at),
  resendAfter: Number(r.resend_after),
  attempts: Number(r.attempts),
});

/** The verification columns of a token, as the SQL stores write them. */
export const verificationColumns = (token: Pick<TokenRecord, 'verification' | 'status'>): { verificationMethods: string | null; pendingExpiresAt: number | null } => ({
  verificationMethods: token.verification === undefined ? null : JSON.stringify(token.verification.methods),
  pendingExpiresAt: token.verification === undefined ? null : token.verification.expiresAt,
});

/** A `vault` row. */
export interface VaultRow {
  token_reference_id: string;
  pan_fingerprint: string;
  wallet_provider_id: string;
  wallet_account_id: string;
  device_id: string;
  sealed_card: string;
  pan_last4: string;
  created_at: number;
}

/** An `idempotency` row. */
export interface IdempotencyRow {
  scope: string;
  key: string;
  request_hash: string;
  status: number;
  sealed_response: string;
  created_at: number;
  expires_at: number;
}

export const toToken = (r: TokenRow): TokenRecord => {
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
  if (r.device_key_thumbprint !== null) token.deviceKeyThumbprint = r.device_key_thumbprint;
  if (r.account_id !== null && r.account_id !== undefined) token.accountId = r.account_id;
  if (r.pan_last4 !== null && r.pan_last4 !== undefined) token.panLast4 = r.pan_last4;
  if (r.verification_methods !== null && r.verification_methods !== undefined) {
    token.verification = { methods: JSON.parse(r.verification_methods) as NonNullable<TokenRecord['verification']>['methods'], expiresAt: Number(r.pending_expires_at) };
  }
  return token;
};

export const toVault = (r: VaultRow): VaultRecord => ({
  tokenReferenceId: r.token_reference_id,
  panFingerprint: r.pan_fingerprint,
  walletProviderId: r.wallet_provider_id,
  walletAccountId: r.wallet_account_id,
  deviceId: r.device_id,
  sealedCard: r.sealed_card,
  panLast4: r.pan_last4,
  createdAt: r.created_at,
});

export const toIdempotency = (r: IdempotencyRow): IdempotencyRecord => ({
  scope: r.scope,
  key: r.key,
  requestHash: r.request_hash,
  status: r.status,
  sealedResponse: r.sealed_response,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** A `token_history` row (schema 7). */
export interface HistoryRow {
  id: number | string;
  token_reference_id: string;
  from_status: TokenRecord['status'] | null;
  to_status: TokenRecord['status'];
  actor: TokenHistoryRecord['actor'];
  reason: TokenHistoryRecord['reason'];
  at: number | string;
}

export const toHistory = (r: HistoryRow): TokenHistoryRecord => ({
  tokenReferenceId: r.token_reference_id,
  from: r.from_status,
  to: r.to_status,
  actor: r.actor,
  reason: r.reason,
  at: Number(r.at),
});

/** An `events` row (schema 7): `body` is JSON text in SQLite, jsonb (parsed by the driver) in PostgreSQL. */
export interface EventRow {
  seq: number | string;
  event_id: string;
  token_reference_id: string;
  issuer_id: string;
  wallet_provider_id: string;
  type: StoredEvent['type'];
  sequence: number | string;
  body: string | LifecycleEventBody;
  created_at: number | string;
}

export const toEvent = (r: EventRow): StoredEvent => ({
  seq: Number(r.seq),
  eventId: r.event_id,
  tokenReferenceId: r.token_reference_id,
  issuerId: r.issuer_id,
  walletProviderId: r.wallet_provider_id,
  type: r.type,
  sequence: Number(r.sequence),
  body: typeof r.body === 'string' ? (JSON.parse(r.body) as LifecycleEventBody) : r.body,
  createdAt: Number(r.created_at),
});

/** A `deliveries` row (schema 7). */
export interface DeliveryRow {
  event_id: string;
  receiver: string;
  token_reference_id: string;
  sequence: number | string;
  state: OutboxDelivery['state'];
  attempts: number | string;
  next_attempt_at: number | string;
  lease_owner: string | null;
  lease_until: number | string | null;
  last_error: string | null;
  first_attempt_at: number | string | null;
  delivered_at: number | string | null;
}

const nullableNumber = (v: number | string | null): number | null => (v === null ? null : Number(v));

export const toDelivery = (r: DeliveryRow): OutboxDelivery => ({
  eventId: r.event_id,
  receiver: r.receiver,
  tokenReferenceId: r.token_reference_id,
  sequence: Number(r.sequence),
  state: r.state,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  leaseOwner: r.lease_owner,
  leaseUntil: nullableNumber(r.lease_until),
  lastError: r.last_error,
  firstAttemptAt: nullableNumber(r.first_attempt_at),
  deliveredAt: nullableNumber(r.delivered_at),
});
