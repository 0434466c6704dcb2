import * as z from 'zod/mini';
import { zCompactJws, zCorrelationId, zOpaqueId, zPartyId, zPublicEcJwk, zRandomId, zVersion } from './primitives.js';

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
  })
)();
/** Step 2 message. */
export type Identifiers = z.infer<typeof zIdentifiers>;
