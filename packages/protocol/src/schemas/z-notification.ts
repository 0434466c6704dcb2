import * as z from 'zod/mini';
import { zEpochSeconds, zInteger, zOpaqueId, zPartyId, zRandomId } from './primitives.js';
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
    sequence: zInteger(1, Number.MAX_SAFE_INTEGER),
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

/** A feed cursor: opaque to the reader (the token service writes the outbox position as a decimal string). */
export const zEventCursor = /* @__PURE__ */ (() => z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._:-]')))();

/**
 * The answer of `GET /v1/events?after=CURSOR&limit=N`: the calling party's
 * events after the cursor, oldest first, and the cursor to pass as `after`
 * next time (the same cursor when there is nothing new).
 *
 * @example
 * ```ts
 * const page = zNotificationFeed.parse(JSON.parse(text));
 * for (const event of page.events) apply(event);
 * saveCursor(page.cursor);
 * ```
 */
export const zNotificationFeed = /* @__PURE__ */ (() =>
  z.strictObject({
    events: z.array(zNotificationEvent).check(z.maxLength(1000)),
    cursor: zEventCursor,
  })
)();
/** A page of the event feed. */
export type NotificationFeed = z.infer<typeof zNotificationFeed>;

/**
 * The `202` answer of `POST /v1/events/{eventId}/redeliver`: the caller's
 * dead-lettered delivery of that event is pending again.
 *
 * @example
 * ```ts
 * const { eventId, state } = zRedeliveryAccepted.parse(JSON.parse(text)); // state: 'pending'
 * ```
 */
export const zRedeliveryAccepted = /* @__PURE__ */ (() =>
  z.strictObject({
    eventId: zRandomId,
    state: z.literal('pending'),
  })
)();
/** The answer to a redelivery request. */
export type RedeliveryAccepted = z.infer<typeof zRedeliveryAccepted>;
