import * as z from 'zod/mini';
import { isErrorCode } from '../errors.js';
import { distinctIds, zCompactJwe, zCorrelationId, zOpaqueId, zRandomId, zVersion } from './primitives.js';
import { MAX_SESSION_ACCOUNTS } from './z-invocation.js';

/** A protocol error code (one of `ERROR_CODES`). */
export const zErrorCode = /* @__PURE__ */ (() => z.string().check(z.refine(isErrorCode, 'must be a protocol error code')))();

/** One account's encrypted request, in a several-account request message. */
export const zAccountRequest = /* @__PURE__ */ (() => z.strictObject({ accountId: zOpaqueId, encryptedRequest: zCompactJwe }))();
/** One account's encrypted request. */
export type AccountRequest = z.infer<typeof zAccountRequest>;

/** An account the issuer built no request for, and why (e.g. `card_expired`, `not_found`). */
export const zAccountRefusal = /* @__PURE__ */ (() => z.strictObject({ accountId: zOpaqueId, errorCode: zErrorCode }))();
/** An account the issuer built no request for. */
export type AccountRefusal = z.infer<typeof zAccountRefusal>;

/**
 * Step 3, issuer app to wallet: the encrypted provisioning request (a compact
 * JWE the wallet cannot read) for the session the wallet answered.
 */
export const zProvisioningRequestMessage = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('provisioning-request'),
    version: zVersion,
    sessionId: zRandomId,
    /** The request of a single-account session. */
    encryptedRequest: z.optional(zCompactJwe),
    /** Several-account session: one request per picked account that the issuer built, each with its own `jti`. */
    requests: z.optional(z.array(zAccountRequest).check(z.maxLength(MAX_SESSION_ACCOUNTS))),
    /** Several-account session: the picked accounts the issuer built no request for. */
    refusals: z.optional(z.array(zAccountRefusal).check(z.maxLength(MAX_SESSION_ACCOUNTS))),
    /** The provisioning attempt's correlation id (see `zCorrelationId`). */
    correlationId: z.optional(zCorrelationId),
  }).check(
    z.refine(
      (m) =>
        m.encryptedRequest !== undefined
          ? m.requests === undefined && m.refusals === undefined
          : (m.requests?.length ?? 0) + (m.refusals?.length ?? 0) > 0,
      { message: 'either encryptedRequest, or requests and refusals naming at least one account', path: ['encryptedRequest'] },
    ),
    z.refine((m) => distinctIds([...(m.requests ?? []), ...(m.refusals ?? [])].map((a) => a.accountId)), {
      message: 'requests and refusals must not name an account twice',
      path: ['requests'],
    }),
    z.refine((m) => (m.requests?.length ?? 0) + (m.refusals?.length ?? 0) <= MAX_SESSION_ACCOUNTS, {
      message: `requests and refusals name at most ${MAX_SESSION_ACCOUNTS} accounts`,
      path: ['requests'],
    }),
  )
)();
/** Step 3 message. */
export type ProvisioningRequestMessage = z.infer<typeof zProvisioningRequestMessage>;
