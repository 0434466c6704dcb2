import * as z from 'zod/mini';
import { zCompactJws, zCorrelationId, zDisplayText, zEpochSeconds, zHttpsUrl, zLast4, zNetwork, zPartyId, zRandomId, zVersion } from './primitives.js';

/** The non-sensitive account hint the wallet may show: never more than the last 4 digits. */
export const zAccountHint = /* @__PURE__ */ (() =>
  z.strictObject({
    last4: zLast4,
    network: zNetwork,
    productName: z.optional(zDisplayText(64)),
    issuerName: z.optional(zDisplayText(64)),
    /** Card art the wallet may show: covered by the invocation signature, shown only when it verified. */
    cardArtUrl: z.optional(zHttpsUrl),
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
    account: zAccountHint,
    /** Where the wallet sends its reply, for URL and popup channels. */
    replyTo: z.optional(zHttpsUrl),
    iat: zEpochSeconds,
    exp: zEpochSeconds,
    signature: z.optional(zCompactJws),
    /** The provisioning attempt's correlation id (see `zCorrelationId`). */
    correlationId: z.optional(zCorrelationId),
  })
)();
/** Step 1 message. */
export type Invocation = z.infer<typeof zInvocation>;
