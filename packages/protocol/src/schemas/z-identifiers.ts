import * as z from 'zod/mini';
import { distinctIds, zCompactJws, zCorrelationId, zOpaqueId, zPartyId, zPublicEcJwk, zRandomId, zVersion } from './primitives.js';
import { MAX_SESSION_ACCOUNTS } from './z-invocation.js';

/**
 * Step 2, wallet to issuer app: who and where the card goes. The issuer binds
 * every one of these into the encrypted request.
 */
export const zIdentifiers = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('identifiers'),
    version: zVersion,
    sessionId: zRandomId,
    walletProviderId: zPartyId,
    /** The user id of the wallet app (the patent's "user ID of the second application"). */
    walletAccountId: zOpaqueId,
    deviceId: zOpaqueId,
    /** A fresh wallet nonce, at least 128 bits. */
    nonce: zRandomId,
    /** Optional device key: access data then comes back encrypted to it. */
    devicePublicKey: z.optional(zPublicEcJwk),
    /** Optional wallet provider attestation over the fields above (compact JWS). */
    attestation: z.optional(zCompactJws),
    /** The provisioning attempt's correlation id (see `zCorrelationId`). */
    correlationId: z.optional(zCorrelationId),
    /**
     * The accounts the user picked, by `accountId`: required when the
     * invocation carried `accounts` (a non-empty subset of its ids), absent
     * when it carried one `account`.
     */
    accountIds: z.optional(
      z.array(zOpaqueId).check(
        z.minLength(1),
        z.maxLength(MAX_SESSION_ACCOUNTS),
        z.refine(distinctIds, 'accountIds must not name an account twice'),
      ),
    ),
  })
)();
/** Step 2 message. */
export type Identifiers = z.infer<typeof zIdentifiers>;
