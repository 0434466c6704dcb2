import * as z from 'zod/mini';
import { isExpired } from '../card/check-card.js';
import { type Expiry, zEpochSeconds, zExpiry, zLast4, zOpaqueId, zPan, zPartyId } from './primitives.js';
import { type ReportedTokenStatus, type TokenStatus, zReportedTokenStatus, zTokenStatus } from './z-access-data.js';
import { type LifecycleReason, zLifecycleActor, zLifecycleReason } from './z-notification.js';

export { type ReportedTokenStatus, zReportedTokenStatus } from './z-access-data.js';

// A token's life after issuance (spec section 12): who may change it, why,
// and the bodies of the wallet's and the issuer's lifecycle endpoints
// (sections 4.18, 4.19, 7.10 and 7.11).

/** What a lifecycle request asks for: `suspend` (active → suspended), `resume` (suspended → active), `delete` (final). */
export const zLifecycleAction = /* @__PURE__ */ z.enum(['suspend', 'resume', 'delete']);
/** A lifecycle action. */
export type LifecycleAction = z.infer<typeof zLifecycleAction>;

/** The reasons a caller may give (`activation_expired` is the token service's own). */
export const REQUESTABLE_LIFECYCLE_REASONS = [
  'suspected_fraud',
  'card_lost',
  'card_stolen',
  'card_reissued',
  'card_closed',
  'customer_request',
  'identity_verified',
  'other',
] as const satisfies readonly Exclude<LifecycleReason, 'activation_expired'>[];
const zRequestReason = /* @__PURE__ */ z.enum(REQUESTABLE_LIFECYCLE_REASONS);

/** `POST /v1/tokens/{tokenReferenceId}/lifecycle`: the wallet provider suspends, resumes or deletes one of its tokens. */
export const zLifecycleRequest = /* @__PURE__ */ (() =>
  z.strictObject({
    action: zLifecycleAction,
    reason: zRequestReason,
    /** Who asked: the wallet provider itself (default) or the cardholder in the wallet. */
    actor: z.optional(z.enum(['wallet_provider', 'cardholder'])),
  })
)();
/** Wallet lifecycle request body. */
export type LifecycleRequest = z.infer<typeof zLifecycleRequest>;

/** `POST /v1/issuer/tokens/{tokenReferenceId}/lifecycle`: the issuer suspends, resumes or deletes a token of its card. */
export const zIssuerLifecycleRequest = /* @__PURE__ */ (() =>
  z.strictObject({
    action: zLifecycleAction,
    reason: zRequestReason,
  })
)();
/** Issuer lifecycle request body. */
export type IssuerLifecycleRequest = z.infer<typeof zIssuerLifecycleRequest>;

/** The answer to a lifecycle request: the token's status before and after, and when it changed. */
export const zLifecycleResponse = /* @__PURE__ */ (() =>
  z.strictObject({
    tokenReferenceId: zOpaqueId,
    status: zTokenStatus,
    previousStatus: zTokenStatus,
    changedAt: zEpochSeconds,
  })
)();
/** Lifecycle response body. */
export type LifecycleResponse = z.infer<typeof zLifecycleResponse>;

/** One recorded change of a token: from (null at issuance) and to, who, why, when. */
export const zTokenHistoryEntry = /* @__PURE__ */ (() =>
  z.strictObject({
    from: z.nullable(zTokenStatus),
    to: zTokenStatus,
    actor: zLifecycleActor,
    reason: zLifecycleReason,
    at: zEpochSeconds,
  })
)();
/** One history entry. */
export type TokenHistoryEntry = z.infer<typeof zTokenHistoryEntry>;

/** `GET /v1/tokens/{id}/history` and `GET /v1/issuer/tokens/{id}/history`: every recorded change, oldest first. */
export const zTokenHistory = /* @__PURE__ */ (() =>
  z.strictObject({
    tokenReferenceId: zOpaqueId,
    status: zReportedTokenStatus,
    history: z.array(zTokenHistoryEntry).check(z.maxLength(1000)),
  })
)();
/** Token history body. */
export type TokenHistory = z.infer<typeof zTokenHistory>;

/** How an issuer names a card: its account id (the request claims' `accountId`), or the card number (found by its fingerprint). */
const cardBy = {
  accountId: () => z.strictObject({ accountId: zOpaqueId }),
  pan: () => z.strictObject({ pan: zPan }),
};

/** `POST /v1/issuer/tokens/search`: the tokens of one card, by account id or by card number. */
export const zIssuerTokenSearch = /* @__PURE__ */ (() => z.union([cardBy.accountId(), cardBy.pan()]))();
/** Token search body. */
export type IssuerTokenSearch = z.infer<typeof zIssuerTokenSearch>;

/** One token found by a search. Never a card or token number: their last four only. */
export const zIssuerTokenSummary = /* @__PURE__ */ (() =>
  z.strictObject({
    tokenReferenceId: zOpaqueId,
    status: zReportedTokenStatus,
    walletProviderId: zPartyId,
    tokenLast4: zLast4,
    panLast4: z.optional(zLast4),
    accountId: z.optional(zOpaqueId),
    createdAt: zEpochSeconds,
    updatedAt: zEpochSeconds,
  })
)();
/** A token found by a search. */
export type IssuerTokenSummary = z.infer<typeof zIssuerTokenSummary>;

/** The answer to a token search (deleted tokens included, newest first). */
export const zIssuerTokenSearchResult = /* @__PURE__ */ (() => z.strictObject({ tokens: z.array(zIssuerTokenSummary).check(z.maxLength(1000)) }))();
/** Token search answer. */
export type IssuerTokenSearchResult = z.infer<typeof zIssuerTokenSearchResult>;

/** `POST /v1/issuer/cards/lifecycle`: suspend, resume or delete every token of one card. */
export const zCardLifecycleRequest = /* @__PURE__ */ (() =>
  z.union([
    z.strictObject({ accountId: zOpaqueId, action: zLifecycleAction, reason: zRequestReason }),
    z.strictObject({ pan: zPan, action: zLifecycleAction, reason: zRequestReason }),
  ])
)();
/** Card lifecycle body. */
export type CardLifecycleRequest = z.infer<typeof zCardLifecycleRequest>;

/** One token of a card lifecycle answer: its status after the request and before it (equal when the action did not apply to it). */
export const zCardTokenChange = /* @__PURE__ */ (() =>
  z.strictObject({
    tokenReferenceId: zOpaqueId,
    status: zTokenStatus,
    previousStatus: zTokenStatus,
  })
)();
/** One token of a card lifecycle answer. */
export type CardTokenChange = z.infer<typeof zCardTokenChange>;

/** The answer to a card lifecycle request or a card event: every token of the card that was not deleted before. */
export const zCardLifecycleResult = /* @__PURE__ */ (() => z.strictObject({ tokens: z.array(zCardTokenChange).check(z.maxLength(1000)) }))();
/** Card lifecycle answer. */
export type CardLifecycleResult = z.infer<typeof zCardLifecycleResult>;

/**
 * `POST /v1/issuer/cards/events`: the card was reissued with a new expiry
 * (its tokens and vault entry are updated, `token.updated`), or closed
 * (every token of it is deleted, reason `card_closed`).
 */
export const zCardEvent = /* @__PURE__ */ (() =>
  z.union([
    z.strictObject({ accountId: zOpaqueId, event: z.literal('reissued'), expiry: zExpiry }),
    z.strictObject({ pan: zPan, event: z.literal('reissued'), expiry: zExpiry }),
    z.strictObject({ accountId: zOpaqueId, event: z.literal('closed') }),
    z.strictObject({ pan: zPan, event: z.literal('closed') }),
  ])
)();
/** Card event body. */
export type CardEvent = z.infer<typeof zCardEvent>;

/**
 * The status a token is reported with at `nowMs` (spec section 12.1):
 * `expired` once its expiry month is over (UTC), unless it is deleted.
 *
 * @example
 * ```ts
 * reportedTokenStatus({ status: 'active', tokenExpiry: { month: 1, year: 2020 } }, Date.now()); // 'expired'
 * ```
 */
export function reportedTokenStatus(token: { status: TokenStatus; tokenExpiry: Expiry }, nowMs: number): ReportedTokenStatus {
  return token.status !== 'deleted' && isExpired(token.tokenExpiry, nowMs) ? 'expired' : token.status;
}

/** Where each action may start from, and where it leads (spec section 12.1). */
export const LIFECYCLE_TRANSITIONS: Readonly<Record<LifecycleAction, { from: readonly TokenStatus[]; to: TokenStatus }>> = {
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
  delete: { from: ['pending_activation', 'active', 'suspended'], to: 'deleted' },
};
