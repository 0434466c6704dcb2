import * as z from 'zod/mini';
import { zCompactJwe, zOpaqueId, zPublicEcJwk, zRandomId, zVersion } from './primitives.js';

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
    encryptedRequest: zCompactJwe,
    devicePublicKey: z.optional(zPublicEcJwk),
  })
)();
/** Step 4 request body. */
export type Submission = z.infer<typeof zSubmission>;
