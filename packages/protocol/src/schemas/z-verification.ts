import * as z from 'zod/mini';
import { zDisplayText, zEpochSeconds, zInteger, zOpaqueId, zVersion } from './primitives.js';

/**
 * The identity-verification methods an issuer can offer for a token
 * `pending_activation` (the yellow path, spec section 11): a one-time code by
 * SMS or e-mail, the issuer's app, or a call to its customer service.
 */
export const VERIFICATION_METHOD_TYPES = ['otp_sms', 'otp_email', 'issuer_app', 'customer_service'] as const;
/** A verification method type. */
export const zVerificationMethodType = /* @__PURE__ */ z.enum(VERIFICATION_METHOD_TYPES);
/** A verification method type. */
export type VerificationMethodType = z.infer<typeof zVerificationMethodType>;

/** The method types whose code the token service creates and checks (`POST …/verification`, `POST …/activation`). */
export const OTP_METHOD_TYPES = ['otp_sms', 'otp_email'] as const satisfies readonly VerificationMethodType[];
/** The method types an issuer completes itself (`POST /v1/issuer/tokens/{id}/activation`). */
export const ISSUER_METHOD_TYPES = ['issuer_app', 'customer_service'] as const satisfies readonly VerificationMethodType[];

/** The mask character of a masked destination: U+2022 BULLET. */
export const MASK_CHARACTER = '\u2022';

// Digits of any script: a destination may show at most 4 in a row and 6 in all
// (a country code and the last four), never a full phone number.
const DIGIT = /\p{Nd}/gu;
const DIGIT_RUN = /\p{Nd}{5}/u;
const digitCount = (s: string) => (s.match(DIGIT) ?? []).length;

/**
 * A masked destination (`•••• 0199`, `a•••@example.com`): display text of 3 to
 * 64 characters that contains the mask character `•` (U+2022) and shows at
 * most 4 digits (of any script) in a row and 6 in all, so it can never hold a
 * full phone number.
 */
export const zMaskedDestination = /* @__PURE__ */ (() =>
  zDisplayText(64).check(
    z.minLength(3),
    z.refine((s) => s.includes(MASK_CHARACTER), 'must contain the mask character U+2022'),
    z.refine((s) => !DIGIT_RUN.test(s) && digitCount(s) <= 6, 'must show at most 4 digits in a row and 6 in all'),
  )
)();

/** The bank's phone number for customer service: `+`, digits, spaces, `(`, `)`, `-`; 3 to 20 digits. */
export const zPhoneNumber = /* @__PURE__ */ (() =>
  z.string().check(
    z.regex(/^\+?[0-9][0-9 ()-]{1,30}[0-9]$/, 'must be a phone number of digits, spaces, ( ) and -'),
    z.refine((s) => {
      const n = digitCount(s);
      return n >= 3 && n <= 20;
    }, 'must have 3 to 20 digits'),
  )
)();

/**
 * One identity-verification method the issuer offers. `destination` is
 * required for the OTP types and refused for the others; for `otp_email` it
 * holds an `@` and the mask in the part before it, for `otp_sms` no `@`.
 * `phoneNumber` is allowed only for `customer_service`.
 */
export const zVerificationMethod = /* @__PURE__ */ (() =>
  z
    .strictObject({
      id: zOpaqueId,
      type: zVerificationMethodType,
      destination: z.optional(zMaskedDestination),
      phoneNumber: z.optional(zPhoneNumber),
    })
    .check(
      z.refine((m) => (m.type === 'otp_sms' || m.type === 'otp_email') === (m.destination !== undefined), {
        message: 'destination is required for otp_sms and otp_email and not allowed otherwise',
        path: ['destination'],
      }),
      z.refine((m) => m.phoneNumber === undefined || m.type === 'customer_service', {
        message: 'phoneNumber is only allowed for customer_service',
        path: ['phoneNumber'],
      }),
      z.refine(
        (m) => {
          if (m.destination === undefined) return true;
          const at = m.destination.lastIndexOf('@');
          if (m.type === 'otp_sms') return at < 0;
          return at > 0 && m.destination.slice(0, at).includes(MASK_CHARACTER);
        },
        { message: 'destination must be a masked phone number (otp_sms) or a masked e-mail address (otp_email)', path: ['destination'] },
      ),
    )
)();
/** One identity-verification method. */
export type VerificationMethod = z.infer<typeof zVerificationMethod>;

/**
 * What a token `pending_activation` offers: 1 to 8 methods with distinct ids,
 * and when the pending token expires (and is deleted).
 */
export const zVerification = /* @__PURE__ */ (() =>
  z.strictObject({
    methods: z.array(zVerificationMethod).check(
      z.minLength(1),
      z.maxLength(8),
      z.refine((methods) => new Set(methods.map((m) => m.id)).size === methods.length, 'method ids must be distinct'),
    ),
    expiresAt: zEpochSeconds,
  })
)();
/** The verification methods of a pending token. */
export type Verification = z.infer<typeof zVerification>;

/** A one-time code as the user types it: 6 to 8 ASCII digits. */
export const zVerificationCode = /* @__PURE__ */ (() => z.string().check(z.regex(/^[0-9]{6,8}$/, 'must be 6-8 ASCII digits')))();

/** `POST /v1/tokens/{tokenReferenceId}/verification`: the wallet asks for a code by one OTP method. */
export const zVerificationRequest = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('verification-request'),
    version: zVersion,
    methodId: zOpaqueId,
  })
)();
/** Verification request body. */
export type VerificationRequest = z.infer<typeof zVerificationRequest>;

/** The answer to a verification request: a code was created and handed to the issuer to deliver. */
export const zVerificationStarted = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('verification-started'),
    version: zVersion,
    tokenReferenceId: zOpaqueId,
    methodId: zOpaqueId,
    codeLength: zInteger(6, 8),
    codeExpiresAt: zEpochSeconds,
    resendAfter: zEpochSeconds,
    attemptsLeft: zInteger(0, 100),
  })
)();
/** Verification started body. */
export type VerificationStarted = z.infer<typeof zVerificationStarted>;

/** `POST /v1/tokens/{tokenReferenceId}/activation`: the wallet sends the code its user typed. */
export const zActivationRequest = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('activation-request'),
    version: zVersion,
    methodId: zOpaqueId,
    code: zVerificationCode,
  })
)();
/** Activation request body. */
export type ActivationRequest = z.infer<typeof zActivationRequest>;

/** `POST /v1/issuer/tokens/{tokenReferenceId}/activation`: the issuer verified the cardholder itself. */
export const zIssuerActivation = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('issuer-activation'),
    version: zVersion,
    method: z.enum(ISSUER_METHOD_TYPES),
  })
)();
/** Issuer activation body. */
export type IssuerActivation = z.infer<typeof zIssuerActivation>;
