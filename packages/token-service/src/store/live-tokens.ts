// The live tokens of a wallet account (TokenRecordStore.findLive, spec
// section 7.14): the query's checks and the rules every store applies, so
// the memory store's filter and the SQL stores' WHERE clause say the same.
import { MAX_QUERY_ACCOUNTS, reportedTokenStatus } from '@pushprov/protocol';
import type { LiveToken, LiveTokenQuery, TokenRecord } from './types.js';

/** The query, checked: 1 to `MAX_QUERY_ACCOUNTS` (16) account ids, a limit of 1 to 1 000, every id present. */
export function checkLiveQuery(query: LiveTokenQuery): LiveTokenQuery {
  const { walletProviderId, walletAccountId, issuerId, accountIds, nowMs, limit } = query;
  const ids = [walletProviderId, walletAccountId, issuerId];
  if (ids.some((id) => typeof id !== 'string' || id === '') || !Array.isArray(accountIds) || accountIds.length < 1 || accountIds.length > MAX_QUERY_ACCOUNTS) {
    throw new RangeError(`a live token query needs the wallet provider, wallet account, issuer and 1 to ${MAX_QUERY_ACCOUNTS} account ids`);
  }
  if (accountIds.some((id) => typeof id !== 'string' || id === '') || !Number.isInteger(limit) || limit < 1 || limit > 1000 || !Number.isFinite(nowMs)) {
    throw new RangeError('a live token query needs non-empty account ids, a limit of 1 to 1000 and a time');
  }
  return query;
}

/**
 * The month of `nowMs` (UTC) as `year * 12 + month`: a token is past its
 * expiry month exactly when `expiry.year * 12 + expiry.month` is below it
 * (the SQL stores' form of `isExpired`).
 */
export function monthIndex(nowMs: number): number {
  const now = new Date(nowMs);
  return now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
}

/** True when the token is live at `nowMs`: not deleted, not expired (its reported status), not a pending token past its pending time. */
export function isLiveToken(token: Pick<TokenRecord, 'status' | 'tokenExpiry' | 'verification'>, nowMs: number): boolean {
  const status = reportedTokenStatus(token, nowMs);
  if (status === 'deleted' || status === 'expired') return false;
  return !(status === 'pending_activation' && token.verification !== undefined && token.verification.expiresAt <= nowMs);
}

/** The order of {@link TokenRecordStore.findLive}: account id (code units), then issuance, then reference id. */
export function compareLive(a: Pick<LiveToken, 'accountId' | 'createdAt' | 'tokenReferenceId'>, b: Pick<LiveToken, 'accountId' | 'createdAt' | 'tokenReferenceId'>): number {
  if (a.accountId !== b.accountId) return a.accountId < b.accountId ? -1 : 1;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.tokenReferenceId < b.tokenReferenceId ? -1 : a.tokenReferenceId > b.tokenReferenceId ? 1 : 0;
}

/** A `findLive` row of the SQL stores. */
export interface LiveTokenRow {
  token_reference_id: string;
  account_id: string;
  device_id: string;
  status: LiveToken['status'];
  expiry_month: number;
  expiry_year: number;
  created_at: number | string;
  activation_started: boolean | number;
}

export const toLiveToken = (r: LiveTokenRow): LiveToken => ({
  tokenReferenceId: r.token_reference_id,
  accountId: r.account_id,
  deviceId: r.device_id,
  status: r.status,
  tokenExpiry: { month: Number(r.expiry_month), year: Number(r.expiry_year) },
  createdAt: Number(r.created_at),
  activationStarted: r.activation_started === true || r.activation_started === 1,
});
