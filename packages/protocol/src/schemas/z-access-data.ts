import * as z from 'zod/mini';
import { zCompactJwe, zEpochSeconds, zExpiry, zLast4, zNetwork, zOpaqueId, zPan, zPartyId, zRandomId, zVersion } from './primitives.js';
import { zVerification } from './z-verification.js';

/** `verification` is present exactly when `status` is `pending_activation`. */
const verificationIffPending = (r: { status: string; verification?: unknown }) => (r.status === 'pending_activation') === (r.verification !== undefined);

/** The members of a token status body (shared by the wallet's and the issuer's). */
function tokenStatusShape() {
  return {
    type: z.literal('token-status'),
    version: zVersion,
    tokenReferenceId: zOpaqueId,
    status: zReportedTokenStatus,
    tokenLast4: zLast4,
    tokenExpiry: zExpiry,
    updatedAt: zEpochSeconds,
    verification: z.optional(zVerification),
  };
}

/** Token status values. */
export const zTokenStatus = /* @__PURE__ */ z.enum(['active', 'pending_activation', 'suspended', 'deleted']);
/** Token status. */
export type TokenStatus = z.infer<typeof zTokenStatus>;

/**
 * The status a token is reported with (spec section 12): the stored status,
 * or `expired` for a token that is not deleted and whose expiry month is over.
 */
export const zReportedTokenStatus = /* @__PURE__ */ z.enum(['active', 'pending_activation', 'suspended', 'deleted', 'expired']);
/** A reported token status. */
export type ReportedTokenStatus = z.infer<typeof zReportedTokenStatus>;

/**
 * The access data: the payment token the wallet stores. The token number is a
 * Luhn-valid number from the token service's range, never the PAN.
 */
export const zAccessData = /* @__PURE__ */ (() =>
  z.strictObject({
    tokenReferenceId: zOpaqueId,
    tokenNumber: zPan,
    tokenExpiry: zExpiry,
    status: z.enum(['active', 'pending_activation']),
    panLast4: zLast4,
    /** The issuer of the card (the claims' `iss`): the wallet compares it with the invocation's. */
    issuerId: zPartyId,
    network: z.optional(zNetwork),
    issuedAt: zEpochSeconds,
  })
)();
/** The access data. */
export type AccessData = z.infer<typeof zAccessData>;

/** The JWE `cty` of access data encrypted to a device key. */
export const ACCESS_DATA_CTY = 'pushprov-access-data+json';

/**
 * Step 5, token service to wallet: `201 Created` (or `200` for an existing or
 * pending token). Exactly one of `accessData` (clear) and
 * `encryptedAccessData` (JWE to the device key) is present; `verification`
 * (the methods the issuer offers) exactly when `status` is `pending_activation`.
 */
export const zProvisioningResponse = /* @__PURE__ */ (() =>
  z
    .strictObject({
      type: z.literal('provisioning-response'),
      version: zVersion,
      sessionId: zRandomId,
      tokenReferenceId: zOpaqueId,
      status: z.enum(['active', 'pending_activation']),
      accessData: z.optional(zAccessData),
      encryptedAccessData: z.optional(zCompactJwe),
      verification: z.optional(zVerification),
    })
    .check(
      z.refine((r) => (r.accessData === undefined) !== (r.encryptedAccessData === undefined), {
        message: 'exactly one of accessData and encryptedAccessData is required',
        path: ['accessData'],
      }),
      z.refine(verificationIffPending, {
        message: 'verification is required exactly when status is pending_activation',
        path: ['verification'],
      }),
    )
)();
/** Step 5 response body. */
export type ProvisioningResponse = z.infer<typeof zProvisioningResponse>;

/**
 * `GET /v1/tokens/{tokenReferenceId}` (and the answer of an activation): the
 * token's status, without its number. `verification` exactly when `status`
 * is `pending_activation`, so a wallet can resume a pending token.
 */
export const zTokenStatusResponse = /* @__PURE__ */ (() =>
  z
    .strictObject(tokenStatusShape())
    .check(
      z.refine(verificationIffPending, {
        message: 'verification is required exactly when status is pending_activation',
        path: ['verification'],
      }),
    )
)();
/** Token status body. */
export type TokenStatusResponse = z.infer<typeof zTokenStatusResponse>;

/**
 * `GET /v1/issuer/tokens/{tokenReferenceId}`: the token status an issuer
 * reads, with what the issuer needs to decide whether the token is for one
 * of its user's cards: the wallet provider, the card's last four digits and
 * the issuer's account id the token was provisioned for (the request's
 * `accountId`, else its `accountRef`). Never the card or token number.
 */
export const zIssuerTokenStatusResponse = /* @__PURE__ */ (() =>
  z
    .strictObject({
      ...tokenStatusShape(),
      walletProviderId: zPartyId,
      panLast4: z.optional(zLast4),
      accountId: z.optional(zOpaqueId),
    })
    .check(
      z.refine(verificationIffPending, {
        message: 'verification is required exactly when status is pending_activation',
        path: ['verification'],
      }),
    )
)();
/** The token status an issuer reads. */
export type IssuerTokenStatusResponse = z.infer<typeof zIssuerTokenStatusResponse>;
