import * as z from 'zod/mini';
import { zOpaqueId, zPartyId, zVersion } from './primitives.js';
import { MAX_QUERY_ACCOUNTS } from './z-status.js';

// The wallet provider's token query (`POST /v1/tokens/query`, spec sections
// 4.21 and 7.14): which of an issuer's accounts a wallet account already
// holds a live token for, and in what state, without any card or token number.


/**
 * The most tokens one token query answers (16 accounts on 8 devices each);
 * at that many, the answer still fits in 64 KiB.
 */
export const MAX_TOKEN_QUERY_TOKENS = 128;

/**
 * `POST /v1/tokens/query`: the live tokens of one wallet account for some of
 * one issuer's accounts. The wallet provider is the authenticated caller,
 * never a member of the body.
 *
 * @example
 * ```ts
 * const query: TokenQuery = { type: 'token-query', version: 1, walletAccountId: 'user-42', issuerId: 'bank-a', accountIds: ['acc-1', 'acc-2'] };
 * ```
 */
export const zTokenQuery = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('token-query'),
    version: zVersion,
    /** The wallet's user (as in the identifiers it sent). */
    walletAccountId: zOpaqueId,
    /** The issuer whose accounts are asked about. */
    issuerId: zPartyId,
    /** The issuer's account ids (`accountId` of the account hints): 1 to 16, distinct. */
    accountIds: z.array(zOpaqueId).check(
      z.minLength(1),
      z.maxLength(MAX_QUERY_ACCOUNTS),
      z.refine((ids) => new Set(ids).size === ids.length, 'account ids must be distinct'),
    ),
  })
)();
/** Token query body. */
export type TokenQuery = z.infer<typeof zTokenQuery>;

/**
 * One live token found by a token query: never a card or token number, nor
 * the last four of either.
 */
export const zTokenQueryEntry = /* @__PURE__ */ (() =>
  z.strictObject({
    tokenReferenceId: zOpaqueId,
    /** The issuer's account id the token was provisioned for. */
    accountId: zOpaqueId,
    /** The device the token was provisioned to. */
    deviceId: zOpaqueId,
    /** Its status: live tokens only (never `deleted`, never past their expiry month). */
    status: z.enum(['active', 'pending_activation', 'suspended']),
    /** True for a `pending_activation` token a verification code was sent for. */
    activationStarted: z.boolean(),
  })
)();
/** One token of a token query answer. */
export type TokenQueryEntry = z.infer<typeof zTokenQueryEntry>;

/** The answer to a token query: ordered by `accountId` (code unit order), then oldest first. */
export const zTokenQueryResponse = /* @__PURE__ */ (() =>
  z.strictObject({ tokens: z.array(zTokenQueryEntry).check(z.maxLength(MAX_TOKEN_QUERY_TOKENS)) })
)();
/** Token query answer. */
export type TokenQueryResponse = z.infer<typeof zTokenQueryResponse>;
