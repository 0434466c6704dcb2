import * as z from 'zod/mini';
import { isValidPan } from '../card/luhn.js';

// Tree-shaking: every schema built from nested zod calls is made inside a
// `/* @__PURE__ */ (() => …)()` call. Bundlers (esbuild among them) do not
// know zod's builders are pure, so a plain `z.strictObject({ a: z.string() })`
// that an app never uses would still ship; wrapped, it is dropped.

/** The protocol version every message carries. */
export const PROTOCOL_VERSION = 1 as const;

/** The `version` field: exactly {@link PROTOCOL_VERSION}. */
export const zVersion = /* @__PURE__ */ z.literal(PROTOCOL_VERSION);

/**
 * Maps a failing refinement to a protocol error code (see `parse.ts`). A zod
 * custom issue carrying `params.ppCode` is reported with that code.
 */
const ppCode = (code: string) => ({ params: { ppCode: code } });

// C0 and C1 controls, DEL, the Unicode bidi controls (LRM/RLM/ALM,
// embeddings, overrides, isolates), line/paragraph separators, and invisible
// characters that let two names look alike (soft hyphen, zero-width space,
// word joiner and invisible operators, BOM). ZWNJ/ZWJ stay: scripts need them.
const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff]/;

// A UTF-16 surrogate without its partner: not a character, and not
// representable in UTF-8 (so a strict JSON parser on the other side refuses it).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A display string: well-formed Unicode, NFC, no control or bidi characters, bounded. */
export const zDisplayText = (max: number) =>
  z.string().check(
    z.minLength(1),
    z.maxLength(max),
    z.refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode'),
    z.refine((s) => s.normalize('NFC') === s, 'must be NFC normalised'),
    z.refine((s) => !CONTROL_OR_BIDI.test(s), 'must not contain control, bidi or invisible characters'),
    z.refine((s) => s.trim() === s, 'must not have leading or trailing spaces'),
  );

/** A base64url string of 22 to 128 characters: session ids, nonces, jtis. */
export const zRandomId = /* @__PURE__ */ (() => z.string().check(z.regex(/^[A-Za-z0-9_-]{22,128}$/, 'must be 22-128 base64url characters')))();

/**
 * A correlation id: one id for one provisioning attempt, across the issuer
 * app, the issuer backend, the wallet and the token service (the app
 * messages' `correlationId`, the `X-Correlation-Id` header). 1-128
 * characters of `[A-Za-z0-9._-]` with no run of 12 or more digits (which
 * logs mask as a card number, so it could not be found again). Not a
 * secret, and never a card or account number.
 */
export const zCorrelationId = /* @__PURE__ */ (() =>
  z.string().check(z.regex(/^(?![^]*[0-9]{12})[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._-] without a run of 12 digits'))
)();

/** A party identifier (issuer id, wallet provider id, token service id): lower-case slug. */
export const zPartyId = /* @__PURE__ */ (() =>
  z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a lower-case slug of 1-64 characters'))
)();

/** An opaque identifier chosen by a wallet (account id, device id): printable ASCII, 1-128. */
export const zOpaqueId = /* @__PURE__ */ (() =>
  z.string().check(z.regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._:@-]'))
)();

/** A `kid`: 1-128 characters of [A-Za-z0-9._:-]. */
export const zKid = /* @__PURE__ */ (() => z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._:-]')))();

/**
 * An integer from `min` to `max`. `Number.isInteger` rather than `z.int()`:
 * the same rule, without zod's number format tables in every app bundle
 * (about 0.4 kB gzipped in the wallet's main entry). The OpenAPI generator
 * marks these fields `integer`.
 */
export const zInteger = (min: number, max: number) => z.number().check(z.refine(Number.isInteger, 'must be an integer'), z.gte(min), z.lte(max));

/** A JWT NumericDate (seconds), a non-negative integer. */
export const zEpochSeconds = /* @__PURE__ */ zInteger(0, 32503680000);

/** A compact JWE: five base64url segments, bounded. JSON serialisation is refused. */
export const zCompactJwe = /* @__PURE__ */ (() =>
  z.string().check(
    z.maxLength(16_384),
    z.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWE'),
  )
)();

/** A compact JWS: three base64url segments, bounded. */
export const zCompactJws = /* @__PURE__ */ (() =>
  z.string().check(
    z.maxLength(8_192),
    z.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWS'),
  )
)();

/** A PAN: 12 to 19 ASCII digits, Luhn-valid. */
export const zPan = /* @__PURE__ */ (() =>
  z.string().check(z.refine(isValidPan, { message: 'must be 12-19 ASCII digits and Luhn-valid', ...ppCode('card_invalid') }))
)();

/** The last four digits of a card or token number. */
export const zLast4 = /* @__PURE__ */ (() => z.string().check(z.regex(/^[0-9]{4}$/, 'must be 4 ASCII digits')))();

/** A card network. */
export const zNetwork = /* @__PURE__ */ z.enum(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'other']);
/** A card network. */
export type Network = z.infer<typeof zNetwork>;

/** A card or token expiry: a real month (1-12) and a four-digit year. */
export const zExpiry = /* @__PURE__ */ (() =>
  z.strictObject({
    month: z.number().check(
      z.refine((m) => Number.isInteger(m) && m >= 1 && m <= 12, { message: 'must be a month from 1 to 12', ...ppCode('card_invalid') }),
    ),
    year: z.number().check(
      z.refine((y) => Number.isInteger(y) && y >= 2000 && y <= 2199, { message: 'must be a four-digit year', ...ppCode('card_invalid') }),
    ),
  })
)();
/** A card or token expiry. */
export type Expiry = z.infer<typeof zExpiry>;

/**
 * True when `url` uses https, or plain http on a loopback host (127.0.0.1,
 * localhost, [::1]): the one transport rule for every URL and origin of the
 * protocol.
 *
 * @example
 * ```ts
 * isSecureUrl(new URL('http://127.0.0.1:8080/')); // true
 * isSecureUrl(new URL('http://wallet.example/')); // false
 * ```
 */
export function isSecureUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]');
}

/** An https URL (http only for loopback), bounded. */
export const zHttpsUrl = /* @__PURE__ */ (() =>
  z.string().check(
    z.maxLength(2048),
    z.refine((s) => {
      try {
        const url = new URL(s);
        return !url.username && !url.password && isSecureUrl(url);
      } catch {
        return false;
      }
    }, 'must be an https URL (http only on loopback) without credentials'),
  )
)();

/** An RFC 7638 JWK thumbprint: SHA-256 of the key's required members, base64url, 43 characters. */
export const zJwkThumbprint = /* @__PURE__ */ (() => z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/, 'must be 43 base64url characters')))();

/** A public EC P-256 JWK (device key for encrypting access data). Private members are refused. */
export const zPublicEcJwk = /* @__PURE__ */ (() =>
  z.strictObject({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
    y: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
    kid: z.optional(zKid),
    alg: z.optional(z.literal('ECDH-ES+A256KW')),
    use: z.optional(z.literal('enc')),
  })
)();
/** A public EC P-256 JWK. */
export type PublicEcJwk = z.infer<typeof zPublicEcJwk>;

/** True when no id appears twice (account id lists of sections 4.1, 4.2, 4.3, 4.4 and 4.23). */
export const distinctIds = (ids: readonly string[]): boolean => new Set(ids).size === ids.length;
