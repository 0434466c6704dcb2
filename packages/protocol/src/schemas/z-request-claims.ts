import * as z from 'zod/mini';
import {
  zDisplayText,
  zEpochSeconds,
  zExpiry,
  zHttpsUrl,
  zJwkThumbprint,
  zOpaqueId,
  zPan,
  zPartyId,
  zRandomId,
} from './primitives.js';

/** A billing address, all display text. */
export const zBillingAddress = /* @__PURE__ */ (() =>
  z.strictObject({
    line1: z.optional(zDisplayText(128)),
    line2: z.optional(zDisplayText(128)),
    city: z.optional(zDisplayText(64)),
    postalCode: z.optional(z.string().check(z.regex(/^[A-Za-z0-9 -]{1,16}$/))),
    country: z.string().check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')),
  })
)();
/** A billing address. */
export type BillingAddress = z.infer<typeof zBillingAddress>;

/** The card inside the encrypted request. Only the issuer side and the token service vault ever hold it. */
export const zCard = /* @__PURE__ */ (() =>
  z.strictObject({
    pan: zPan,
    expiry: zExpiry,
    cardholderName: z.optional(zDisplayText(64)),
    billingAddress: z.optional(zBillingAddress),
  })
)();
/** The card inside the encrypted request. */
export type Card = z.infer<typeof zCard>;

/**
 * The confirmation claim (RFC 7800 `cnf`): the device key the access data
 * will be encrypted to, by its RFC 7638 thumbprint (`jkt`, as in RFC 9449).
 */
export const zConfirmation = /* @__PURE__ */ (() =>
  z.strictObject({
    jkt: zJwkThumbprint,
  })
)();
/** The confirmation claim. */
export type Confirmation = z.infer<typeof zConfirmation>;

/** The JWS `typ` of a provisioning request. Pinned: anything else is refused. */
export const REQUEST_JWS_TYP = 'pushprov-request+jwt';

/**
 * The claims of a provisioning request: signed by the issuer, then encrypted
 * to the token service. Exactly one of `card` and `accountRef` is present.
 */
export const zRequestClaims = /* @__PURE__ */ (() =>
  z
    .strictObject({
      iss: zPartyId,
      aud: zPartyId,
      iat: zEpochSeconds,
      exp: zEpochSeconds,
      jti: zRandomId,
      sid: zRandomId,
      walletProviderId: zPartyId,
      walletAccountId: zOpaqueId,
      deviceId: zOpaqueId,
      nonce: zRandomId,
      /** The device key the wallet sent, by thumbprint (binding): present exactly when the wallet sent one. */
      cnf: z.optional(zConfirmation),
      card: z.optional(zCard),
      /** An issuer account reference the token service resolves with the issuer, instead of a card. */
      accountRef: z.optional(zOpaqueId),
      /**
       * The issuer's stable id of the card account (optional, with a card or an
       * `accountRef`). The token service stores it with the token, so the issuer
       * can later find and act on the tokens of one account.
       */
      accountId: z.optional(zOpaqueId),
      /** Optional card art for the wallet to show. */
      cardArtUrl: z.optional(zHttpsUrl),
    })
    .check(
      z.refine((c) => (c.card === undefined) !== (c.accountRef === undefined), {
        message: 'exactly one of card and accountRef is required',
        path: ['card'],
      }),
    )
)();
/** The claims of a provisioning request. */
export type RequestClaims = z.infer<typeof zRequestClaims>;
