import * as z from 'zod/mini';
import { distinctIds, zCompactJws, zCorrelationId, zDisplayText, zEpochSeconds, zHttpsUrl, zLast4, zNetwork, zOpaqueId, zPartyId, zRandomId, zVersion } from './primitives.js';

/** The most accounts one invocation (one session) may carry (spec 4.1). */
export const MAX_SESSION_ACCOUNTS = 8;

/** The non-sensitive account hint the wallet may show: never more than the last 4 digits. */
export const zAccountHint = /* @__PURE__ */ (() =>
  z.strictObject({
    last4: zLast4,
    network: zNetwork,
    productName: z.optional(zDisplayText(64)),
    issuerName: z.optional(zDisplayText(64)),
    /** Card art the wallet may show: covered by the invocation signature, shown only when it verified. */
    cardArtUrl: z.optional(zHttpsUrl),
    /**
     * The issuer's opaque, stable id of the card account: the same id the
     * request claims carry as `accountId` and the token service stores with
     * each token. Required in `accounts`; it is how results and status
     * answers name a card, never by its last four digits alone.
     */
    accountId: z.optional(zOpaqueId),
  })
)();
/** The account hint of an invocation. */
export type AccountHint = z.infer<typeof zAccountHint>;

/**
 * Step 1, issuer app to wallet: "please add this card". Carries the session id
 * the whole flow is bound to. `signature`, when present, is a compact JWS by
 * the issuer over the other fields (see `signInvocation`).
 */
export const zInvocation = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('invocation'),
    version: zVersion,
    sessionId: zRandomId,
    issuerId: zPartyId,
    /** The one card of a single-account session. Exactly one of `account` and `accounts`. */
    account: z.optional(zAccountHint),
    /**
     * The cards of a several-account session (1 to {@link MAX_SESSION_ACCOUNTS},
     * each with its own `accountId`, no id twice): the user picks one or several.
     */
    accounts: z.optional(z.array(zAccountHint).check(z.minLength(1), z.maxLength(MAX_SESSION_ACCOUNTS))),
    /** Where the wallet sends its reply, for URL and popup channels. */
    replyTo: z.optional(zHttpsUrl),
    iat: zEpochSeconds,
    exp: zEpochSeconds,
    signature: z.optional(zCompactJws),
    /** The provisioning attempt's correlation id (see `zCorrelationId`). */
    correlationId: z.optional(zCorrelationId),
    /** Wallet-initiated provisioning (spec 4.24): the nonce of the wallet's `accounts-request` this invocation answers. */
    walletNonce: z.optional(zRandomId),
  }).check(
    z.refine((i) => (i.account === undefined) !== (i.accounts === undefined), { message: 'exactly one of account and accounts is required', path: ['account'] }),
    z.refine((i) => i.accounts === undefined || i.accounts.every((a) => a.accountId !== undefined), {
      message: 'every entry of accounts needs an accountId',
      path: ['accounts'],
    }),
    z.refine((i) => i.accounts === undefined || distinctIds(i.accounts.map((a) => a.accountId!)), {
      message: 'accounts must not name an accountId twice',
      path: ['accounts'],
    }),
  )
)();
/** Step 1 message. */
export type Invocation = z.infer<typeof zInvocation>;

/**
 * The accounts of an invocation, in order: `[account]` for a single-account
 * invocation, else `accounts`.
 *
 * @example
 * ```ts
 * for (const hint of invocationAccounts(invocation)) console.log(hint.network, hint.last4);
 * ```
 */
export const invocationAccounts = (invocation: Pick<Invocation, 'account' | 'accounts'>): AccountHint[] =>
  invocation.accounts ?? (invocation.account ? [invocation.account] : []);
