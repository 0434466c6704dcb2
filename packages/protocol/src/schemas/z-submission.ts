import * as z from 'zod/mini';
import { zOpaqueId, zPublicEcJwk, zRandomId, zVersion } from './primitives.js';

/**
 * Step 4, wallet to token service: `POST /v1/provisioning-requests`. The
 * identifiers the wallet holds go in the clear; the wallet provider id is not
 * in the body: it comes from the authenticated caller.
 */
export const zSubmission = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('submission'),
    version: zVersion,
    sessionId: zRandomId,
    walletAccountId: zOpaqueId,
    deviceId: zOpaqueId,
    nonce: zRandomId,
    // Any string: its structure (a compact JWE of at most 16 384 characters)
    // is step 4 of the token service's validation order (`jwe_header_rejected`),
    // not the body schema of step 3; the message size bounds it here.
    encryptedRequest: z.string(),
    devicePublicKey: z.optional(zPublicEcJwk),
  })
)();
/** Step 4 request body. */
export type Submission = z.infer<typeof zSubmission>;
