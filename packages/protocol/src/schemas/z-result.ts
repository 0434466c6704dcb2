import * as z from 'zod/mini';
import { isErrorCode } from '../errors.js';
import { zCorrelationId, zOpaqueId, zRandomId, zVersion } from './primitives.js';

/** How a provisioning ended, as the wallet reports it to the issuer app. */
export const zResultStatus = /* @__PURE__ */ z.enum(['provisioned', 'pending_activation', 'declined', 'failed', 'cancelled']);
/** How a provisioning ended. */
export type ResultStatus = z.infer<typeof zResultStatus>;

/** Whether a status means a token was issued (`provisioned`, `pending_activation`). */
const issued = (status: ResultStatus): boolean => status === 'provisioned' || status === 'pending_activation';

/**
 * Step 6, wallet to issuer app: the outcome, with nothing sensitive in it.
 * A token was issued (`provisioned`, `pending_activation`): `tokenReferenceId`
 * is required and `errorCode` absent. Otherwise (`declined`, `failed`,
 * `cancelled`): no `tokenReferenceId`; `errorCode` says why.
 */
export const zResult = /* @__PURE__ */ (() =>
  z
    .strictObject({
      type: z.literal('result'),
      version: zVersion,
      sessionId: zRandomId,
      status: zResultStatus,
      /** The token reference id: required for provisioned and pending activation, absent otherwise. */
      tokenReferenceId: z.optional(zOpaqueId),
      /** The protocol error code, for declined, failed and cancelled. */
      errorCode: z.optional(z.string().check(z.refine(isErrorCode, 'must be a protocol error code'))),
      /** The provisioning attempt's correlation id (see `zCorrelationId`). */
      correlationId: z.optional(zCorrelationId),
    })
    .check(
      z.refine(
        (r) => (issued(r.status) ? r.tokenReferenceId !== undefined && r.errorCode === undefined : r.tokenReferenceId === undefined),
        'tokenReferenceId goes with provisioned and pending_activation (and is required there), errorCode with the other statuses',
      ),
    )
)();
/** Step 6 message. */
export type Result = z.infer<typeof zResult>;
