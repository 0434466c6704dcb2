import { compactVerify } from 'jose';
import { CryptoError } from '../errors.js';
import { fromUtf8, utf8 } from '../lib/base64url.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { Invocation } from '../schemas/z-invocation.js';
import type { StatusQuery } from '../schemas/z-status.js';
import { checkHeader, decodeHeaderStrict } from './headers.js';
import { type SigningKeyInput, signCompact } from './key-handles.js';
import { type Jwks, SIGNING_ALGORITHMS } from './keys.js';

/** The JWS `typ` of a signed invocation. */
export const INVOCATION_JWS_TYP = 'pushprov-invocation+jwt';

/** The JWS `typ` of a signed status query. */
export const STATUS_QUERY_JWS_TYP = 'pushprov-status-query+jwt';

/** A message signed in its `signature` field: a compact JWS over the canonical JSON of its other fields. */
interface SignedMessage {
  signature?: string | undefined;
}

const unsigned = <T extends SignedMessage>(message: T): Omit<T, 'signature'> => {
  const { signature: _ignored, ...rest } = message;
  return rest;
};

/** Signs a message's other fields into its `signature`. */
async function signFields<T extends SignedMessage>(message: T, signingKey: SigningKeyInput, typ: string): Promise<T & { signature: string }> {
  const signature = await signCompact(signingKey, utf8(canonicalJson(unsigned(message))), typ);
  return { ...message, signature };
}

/** Verifies a message's `signature` over its other fields, against the issuer's keys (by `kid` only). */
async function verifyFields(message: SignedMessage, issuerKeys: Jwks, typ: string, what: string): Promise<void> {
  if (message.signature === undefined) throw new CryptoError('signature_invalid', `The ${what} is not signed`);
  const header = decodeHeaderStrict(message.signature, 'jws_header_rejected');
  checkHeader(
    header,
    { allowed: ['alg', 'kid', 'typ'], required: ['alg', 'kid', 'typ'], equals: { typ }, algorithms: SIGNING_ALGORITHMS },
    'jws_header_rejected',
  );
  const jwk = issuerKeys.keys.find((k) => k.kid === header.kid && k.alg === header.alg);
  if (!jwk) throw new CryptoError('unknown_issuer', 'No trusted key of this issuer has that kid');
  let payload: Uint8Array;
  try {
    // The JWK itself: jose imports it (and caches the key per JWK object and alg), with no
    // importJWK, whose algorithm tables (every JWE algorithm too) an app's bundle would carry.
    payload = (await compactVerify(message.signature, jwk, { algorithms: [jwk.alg] })).payload;
  } catch (cause) {
    throw new CryptoError('signature_invalid', `The ${what} signature does not verify`, { cause });
  }
  if (fromUtf8(payload) !== canonicalJson(unsigned(message))) {
    throw new CryptoError('signature_invalid', `The ${what} differs from what the issuer signed`);
  }
}

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
export const signInvocation = (invocation: Invocation, signingKey: SigningKeyInput): Promise<Invocation> =>
  signFields(invocation, signingKey, INVOCATION_JWS_TYP);

/**
 * Verifies an invocation's signature against the issuer's JWK set. The key is
 * picked by `kid` from `issuerKeys` only. Codes: `signature_invalid` (missing
 * or bad signature, or fields that differ from what was signed),
 * `jws_header_rejected`, `unknown_issuer` (no such `kid`).
 */
export const verifyInvocationSignature = (invocation: Invocation, issuerKeys: Jwks): Promise<void> =>
  verifyFields(invocation, issuerKeys, INVOCATION_JWS_TYP, 'invocation');

/**
 * Signs a status query (spec 4.22) with the issuer's key: `signature` over
 * every other field, JWS `typ` `pushprov-status-query+jwt` (so an invocation
 * signature can never pass for a query's). Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const query = await signStatusQuery({ type: 'status-query', version: 1, queryId, issuerId: 'bank-a', accountIds: ['acc-1'], iat, exp }, issuerSigningKey);
 * ```
 */
export const signStatusQuery = (query: Omit<StatusQuery, 'signature'> & { signature?: string | undefined }, signingKey: SigningKeyInput): Promise<StatusQuery> =>
  signFields(query, signingKey, STATUS_QUERY_JWS_TYP);

/**
 * Verifies a status query's signature against the issuer's JWK set, by `kid`
 * only. Codes as {@link verifyInvocationSignature}'s.
 *
 * @example
 * ```ts
 * await verifyStatusQuerySignature(query, trustedIssuers[query.issuerId]);
 * ```
 */
export const verifyStatusQuerySignature = (query: StatusQuery, issuerKeys: Jwks): Promise<void> =>
  verifyFields(query, issuerKeys, STATUS_QUERY_JWS_TYP, 'status query');
