import * as z from 'zod/mini';
import { zCompactJwe, zCorrelationId, zRandomId, zVersion } from './primitives.js';

/**
 * Step 3, issuer app to wallet: the encrypted provisioning request (a compact
 * JWE the wallet cannot read) for the session the wallet answered.
 */
export const zProvisioningRequestMessage = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('provisioning-request'),
    version: zVersion,
    sessionId: zRandomId,
    encryptedRequest: zCompactJwe,
    /** The provisioning attempt's correlation id (see `zCorrelationId`). */
    correlationId: z.optional(zCorrelationId),
  })
)();
/** Step 3 message. */
export type ProvisioningRequestMessage = z.infer<typeof zProvisioningRequestMessage>;
