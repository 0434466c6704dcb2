import * as z from 'zod/mini';
import { zEpochSeconds, zOpaqueId, zPartyId, zRandomId } from './primitives.js';
import { zTokenStatus } from './z-access-data.js';

/**
 * Who caused a token's state change (spec section 4.20): the issuer, the
 * wallet provider, the cardholder through the wallet, or the token service
 * itself (for example a pending token that expired).
 */
export const zLifecycleActor = /* @__PURE__ */ z.enum(['issuer', 'wallet_provider', 'cardholder', 'token_service']);
/** Who caused a token's state change. */
export type LifecycleActor = z.infer<typeof zLifecycleActor>;

/** Why a token's state changed (spec section 4.20). */
export const zLifecycleReason = /* @__PURE__ */ z.enum([
  'suspected_fraud',
  'card_lost',
  'card_stolen',
  'card_reissued',
  'card_closed',
  'customer_request',
  'identity_verified',
  'activation_expired',
  'other',
]);
/** Why a token's state changed. */
export type LifecycleReason = z.infer<typeof zLifecycleReason>;

/** The type of a notification event: what happened to the token. */
export const zNotificationEventType = /* @__PURE__ */ z.enum([
  'token.created',
  'token.activated',
  'token.suspended',
  'token.resumed',
  'token.deleted',
  'token.updated',
]);
/** The type of a notification event. */
export type NotificationEventType = z.infer<typeof zNotificationEventType>;

/**
 * A notification event (spec section 4.20): one change of one token, as the
 * token service delivers it to the token's issuer and wallet provider (signed,
 * section 5.7) and lists it in `GET /v1/events`. It never holds a card or
 * token number. `sequence` counts the token's events from 1, so a receiver
 * can order them per token.
 *
 * @example
 * ```ts
 * const event = zNotificationEvent.parse(JSON.parse(text));
 * if (event.type === 'token.suspended') markSuspended(event.tokenReferenceId);
 * ```
 */
export const zNotificationEvent = /* @__PURE__ */ (() =>
  z.strictObject({
    /** Unique per event: the deduplication key. */
    eventId: zRandomId,
    type: zNotificationEventType,
    tokenReferenceId: zOpaqueId,
    issuerId: zPartyId,
    walletProviderId: zPartyId,
    /** The token's status after the change. */
    status: zTokenStatus,
    /** The token's status before the change; absent for `token.created`. */
    previousStatus: z.optional(zTokenStatus),
    reason: zLifecycleReason,
    actor: zLifecycleActor,
    /** When the change happened, epoch seconds. */
    occurredAt: zEpochSeconds,
    /** The event's position among the token's events: 1, 2, 3, … */
    sequence: z.number().check(z.int(), z.gte(1), z.lte(Number.MAX_SAFE_INTEGER)),
  })
)();
/**
 * A notification event (spec section 4.20).
 *
 * @example
 * ```ts
 * const onEvent = async (event: NotificationEvent) => {
 *   if (event.type === 'token.deleted') await cards.forgetToken(event.tokenReferenceId);
 * };
 * ```
 */
export type NotificationEvent = z.infer<typeof zNotificationEvent>;
