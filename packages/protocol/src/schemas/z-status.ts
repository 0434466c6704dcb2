import * as z from 'zod/mini';
import { distinctIds, zCompactJws, zCorrelationId, zEpochSeconds, zHttpsUrl, zOpaqueId, zPartyId, zRandomId, zVersion } from './primitives.js';
import { zErrorCode } from './z-provisioning-request.js';

/** The most account ids one status query may name (spec 4.22). */
export const MAX_QUERY_ACCOUNTS = 16;

/**
 * Where one card stands in the wallet, on one side (this device, or the
 * wallet account's other devices): `not_added` (no live token), or its live
 * tokens' state by the precedence of {@link accountStateOf}.
 */
export const zAccountState = /* @__PURE__ */ z.enum(['not_added', 'needs_activation', 'activating', 'suspended', 'added']);
/** Where one card stands in the wallet, on one side. */
export type AccountState = z.infer<typeof zAccountState>;

/** A live token, as {@link accountStateOf} weighs it. */
export interface LiveTokenState {
  status: 'active' | 'pending_activation' | 'suspended';
  /** A pending token for which a verification code was already sent. */
  activationStarted: boolean;
}

/**
 * The state of a card from its live tokens on one side (deleted and expired
 * tokens are not in the wallet: leave them out). None: `not_added`.
 * Several: the first present in the order needs_activation (pending, nothing
 * started), activating (pending, a code was sent), suspended, added (active),
 * so the state that asks something of the customer wins.
 *
 * @example
 * ```ts
 * accountStateOf([{ status: 'active', activationStarted: false }, { status: 'pending_activation', activationStarted: false }]); // 'needs_activation'
 * ```
 */
export function accountStateOf(tokens: readonly LiveTokenState[]): AccountState {
  if (tokens.some((t) => t.status === 'pending_activation' && !t.activationStarted)) return 'needs_activation';
  if (tokens.some((t) => t.status === 'pending_activation')) return 'activating';
  if (tokens.some((t) => t.status === 'suspended')) return 'suspended';
  if (tokens.some((t) => t.status === 'active')) return 'added';
  return 'not_added';
}

/** A live token of a wallet account, as the token query answers it (spec 4.21). */
export interface AccountToken extends LiveTokenState {
  accountId: string;
  deviceId: string;
}

/**
 * Each account's state on this device and on the wallet account's other
 * devices (spec 4.23), from the wallet account's live tokens of the one
 * issuer asked about, in `accountIds`' order.
 *
 * @example
 * ```ts
 * accountStatuses(['acc-1'], [{ accountId: 'acc-1', deviceId: 'watch', status: 'active', activationStarted: false }], 'phone');
 * // [{ accountId: 'acc-1', thisDevice: 'not_added', otherDevices: 'added' }]
 * ```
 */
export function accountStatuses(accountIds: readonly string[], tokens: readonly AccountToken[], deviceId: string): AccountStatus[] {
  return accountIds.map((accountId) => {
    const side = (here: boolean) => accountStateOf(tokens.filter((t) => t.accountId === accountId && (t.deviceId === deviceId) === here));
    return { accountId, thisDevice: side(true), otherDevices: side(false) };
  });
}

/**
 * Issuer app to wallet (spec 4.22): "which of these cards of mine are in
 * your wallet?". Always signed by the issuer (`signStatusQuery`): the wallet
 * answers only about the signer's accounts, by the issuer's account ids.
 */
export const zStatusQuery = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('status-query'),
    version: zVersion,
    /** Fresh for each query, at least 128 bits: the answer names it. */
    queryId: zRandomId,
    issuerId: zPartyId,
    /** The issuer's account ids asked about (1 to {@link MAX_QUERY_ACCOUNTS}, no id twice). */
    accountIds: z.array(zOpaqueId).check(
      z.minLength(1),
      z.maxLength(MAX_QUERY_ACCOUNTS),
      z.refine(distinctIds, 'accountIds must not name an account twice'),
    ),
    iat: zEpochSeconds,
    exp: zEpochSeconds,
    /** Where the wallet sends its answer, for URL and popup channels. */
    replyTo: z.optional(zHttpsUrl),
    correlationId: z.optional(zCorrelationId),
    /** A compact JWS by the issuer over the other fields (`signStatusQuery`). Required. */
    signature: zCompactJws,
  })
)();
/** A status query (issuer app to wallet). */
export type StatusQuery = z.infer<typeof zStatusQuery>;

/** One card's state in a status answer: on this device, and on the wallet account's other devices. */
export const zAccountStatus = /* @__PURE__ */ (() =>
  z.strictObject({
    accountId: zOpaqueId,
    thisDevice: zAccountState,
    otherDevices: zAccountState,
  })
)();
/** One card's state in a status answer. */
export type AccountStatus = z.infer<typeof zAccountStatus>;

/**
 * Wallet to issuer app (spec 4.23): the answer to a status query, one entry
 * per queried account id in the query's order, or `errorCode` when the query
 * was refused (`unknown_issuer`, `signature_invalid`, `expired`, …).
 */
export const zStatusResponse = /* @__PURE__ */ (() =>
  z
    .strictObject({
      type: z.literal('status-response'),
      version: zVersion,
      queryId: zRandomId,
      issuerId: zPartyId,
      accounts: z.optional(z.array(zAccountStatus).check(z.minLength(1), z.maxLength(MAX_QUERY_ACCOUNTS))),
      errorCode: z.optional(zErrorCode),
      correlationId: z.optional(zCorrelationId),
    })
    .check(
      z.refine((r) => (r.accounts === undefined) !== (r.errorCode === undefined), { message: 'exactly one of accounts and errorCode', path: ['accounts'] }),
      z.refine((r) => r.accounts === undefined || distinctIds(r.accounts.map((a) => a.accountId)), {
        message: 'accounts must not name an account twice',
        path: ['accounts'],
      }),
    )
)();
/** A status answer (wallet to issuer app). */
export type StatusResponse = z.infer<typeof zStatusResponse>;

/**
 * Wallet to issuer app (spec 4.24): wallet-initiated provisioning. The
 * wallet asks the issuer's app which cards can be added; the app answers
 * with a signed `invocation` whose `walletNonce` is this `nonce` (then the
 * flow goes on as a normal session), or with an `accounts-refusal`.
 */
export const zAccountsRequest = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('accounts-request'),
    version: zVersion,
    /** Fresh for each request, at least 128 bits: the signed answer echoes it as `walletNonce`. */
    nonce: zRandomId,
    walletProviderId: zPartyId,
    /** Where the issuer app sends its answer, for URL and popup channels. */
    replyTo: z.optional(zHttpsUrl),
    correlationId: z.optional(zCorrelationId),
  })
)();
/** A wallet's request for the cards it can add. */
export type AccountsRequest = z.infer<typeof zAccountsRequest>;

/**
 * Issuer app to wallet (spec 4.24): no cards to offer for this
 * `accounts-request`: `consent_denied` (the customer said no), `not_found`
 * (nothing the wallet can add), `unauthenticated` (nobody signed in).
 */
export const zAccountsRefusal = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('accounts-refusal'),
    version: zVersion,
    nonce: zRandomId,
    issuerId: zPartyId,
    errorCode: zErrorCode,
    correlationId: z.optional(zCorrelationId),
  })
)();
/** An issuer app's refusal of an accounts request. */
export type AccountsRefusal = z.infer<typeof zAccountsRefusal>;
