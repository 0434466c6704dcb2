// The rows of the SQL stores (SQLite and PostgreSQL share one schema's
// column names) and their mapping to the store contract's records.
import type { IdempotencyRecord, TokenRecord, VaultRecord } from './types.js';

/** A `tokens` row. */
export interface TokenRow {
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
  device_key_thumbprint: string | null;
  created_at: number;
  updated_at: number;
}

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
