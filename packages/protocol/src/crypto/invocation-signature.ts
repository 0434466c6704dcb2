import { compactVerify } from 'jose';
import { CryptoError } from '../errors.js';
import { fromUtf8, utf8 } from '../lib/base64url.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { Invocation } from '../schemas/z-invocation.js';
import { checkHeader, decodeHeaderStrict } from './headers.js';
import { type SigningKeyInput, signCompact } from './key-handles.js';
import { type Jwks, SIGNING_ALGORITHMS } from './keys.js';

/** The JWS `typ` of a signed invocation. */
export const INVOCATION_JWS_TYP = 'pushprov-invocation+jwt';

const unsigned = (invocation: Invocation): Omit<Invocation, 'signature'> => {
  const { signature: _ignored, ...rest } = invocation;
  return rest;
};

/**
 * Signs an invocation with the issuer's key (a private JWK or a
 * {@link SigningKeyHandle}): `signature` becomes a compact JWS over the
 * canonical JSON of every other field, so a wallet can show "Bank X wants to
 * add card •••• 1234" knowing Bank X sent it. Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const signed = await signInvocation(invocation, issuerSigningKey);
 * ```
 */
export async function signInvocation(invocation: Invocation, signingKey: SigningKeyInput): Promise<Invocation> {
  const signature = await signCompact(signingKey, utf8(canonicalJson(unsigned(invocation))), INVOCATION_JWS_TYP);
  return { ...invocation, signature };
}

/**
 * Verifies an invocation's signature against the issuer's JWK set. The key is
 * picked by `kid` from `issuerKeys` only. Codes: `signature_invalid` (missing
 * or bad signature, or fields that differ from what was signed),
 * `jws_header_rejected`, `unknown_issuer` (no such `kid`).
 */
export async function verifyInvocationSignature(invocation: Invocation, issuerKeys: Jwks): Promise<void> {
  if (invocation.signature === undefined) throw new CryptoError('signature_invalid', 'The invocation is not signed');
  const header = decodeHeaderStrict(invocation.signature, 'jws_header_rejected');
  checkHeader(
    header,
    { allowed: ['alg', 'kid', 'typ'], required: ['alg', 'kid', 'typ'], equals: { typ: INVOCATION_JWS_TYP }, algorithms: SIGNING_ALGORITHMS },
    'jws_header_rejected',
  );
  const jwk = issuerKeys.keys.find((k) => k.kid === header.kid && k.alg === header.alg);
  if (!jwk) throw new CryptoError('unknown_issuer', 'No trusted key of this issuer has that kid');
  let payload: Uint8Array;
  try {
    // The JWK itself: jose imports it (and caches the key per JWK object and alg), with no
    // importJWK, whose algorithm tables (every JWE algorithm too) an app's bundle would carry.
    payload = (await compactVerify(invocation.signature, jwk, { algorithms: [jwk.alg] })).payload;
  } catch (cause) {
    throw new CryptoError('signature_invalid', 'The invocation signature does not verify', { cause });
  }
  if (fromUtf8(payload) !== canonicalJson(unsigned(invocation))) {
    throw new CryptoError('signature_invalid', 'The invocation differs from what the issuer signed');
  }
}
