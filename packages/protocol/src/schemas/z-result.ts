import * as z from 'zod/mini';
import { isErrorCode } from '../errors.js';
import { zOpaqueId, zRandomId, zVersion } from './primitives.js';

/** How a provisioning ended, as the wallet reports it to the issuer app. */
export const zResultStatus = /* @__PURE__ */ z.enum(['provisioned', 'pending_activation', 'declined', 'failed', 'cancelled']);
/** How a provisioning ended. */
export type ResultStatus = z.infer<typeof zResultStatus>;

/** Step 6, wallet to issuer app: the outcome, with nothing sensitive in it. */
export const zResult = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('result'),
    version: zVersion,
    sessionId: zRandomId,
    status: zResultStatus,
    /** The token reference id, for provisioned and pending activation. */
    tokenReferenceId: z.optional(zOpaqueId),
    /** The protocol error code, for declined and failed. */
    errorCode: z.optional(z.string().check(z.refine(isErrorCode, 'must be a protocol error code'))),
  })
)();
/** Step 6 message. */
export type Result = z.infer<typeof zResult>;
