import { importKeyCached } from './import-key-cached.js';
import { compactDecrypt, compactVerify } from 'jose';
import type { Clock } from '../clock.js';
import { CryptoError, InternalError, ProvisioningError } from '../errors.js';
import { fromBase64Url, fromUtf8 } from '../lib/base64url.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { parseRequestClaims } from '../schemas/index.js';
import { zCompactJws, zPartyId } from '../schemas/primitives.js';
import { REQUEST_JWS_TYP, type RequestClaims } from '../schemas/z-request-claims.js';
import { checkTimeClaims } from './claims.js';
import { checkEpk, checkHeader, decodeHeaderStrict } from './headers.js';
import { type DecryptionKeyHandle, type JoseKey, toDecryptionKeyHandle } from './key-handles.js';
import {
  CONTENT_ENCRYPTION_ALGORITHM,
  KEY_MANAGEMENT_ALGORITHM,
  type Jwks,
  type KeyJwk,
  SIGNING_ALGORITHMS,
  selectKey,
} from './keys.js';

/** Looks up an issuer's public signing key by issuer id and `kid`. */
export type IssuerKeyResolver = (issuerId: string, kid: string) => KeyJwk | undefined | Promise<KeyJwk | undefined>;

/** Options of {@link openProvisioningRequest}. */
export interface OpenProvisioningRequestOptions {
  /**
   * The token service's decryption keys; the JWE's `kid` picks one: private
   * JWKs (a JWK set, as its key set file holds them), or
   * {@link DecryptionKeyHandle}s (for example non-extractable `CryptoKey`s, or
   * keys a KMS or HSM provider yields).
   */
  decryptionKeys: Jwks | readonly DecryptionKeyHandle[];
  /** Finds the issuer's public key by `iss` and the JWS `kid`. */
  issuerKeys: IssuerKeyResolver;
  /** This token service's id: `aud` must equal it. */
  audience: string;
  clock?: Clock | undefined;
  clockSkewSeconds?: number | undefined;
  maxLifetimeSeconds?: number | undefined;
  /**
   * Sees each part as it is decoded, before it is checked: the JWE header,
   * the JWS header, the not yet verified payload. For tools that explain a
   * refusal (the token service's request inspector); the payload holds the
   * card: mask it (`maskPan`) before it goes anywhere.
   */
  onPart?: ((part: OpenedRequestPart) => void) | undefined;
}

/**
 * A part of a provisioning request as {@link openProvisioningRequest} decodes it (see its `onPart` option).
 *
 * @example
 * ```ts
 * const onPart = (part: OpenedRequestPart) => {
 *   if (part.kind === 'jws-header') console.log(part.header.kid);
 * };
 * ```
 */
export type OpenedRequestPart =
  | { kind: 'jwe-header'; header: Readonly<Record<string, unknown>> }
  | { kind: 'jws-header'; header: Readonly<Record<string, unknown>> }
  | { kind: 'payload'; payload: unknown };

/** What {@link openProvisioningRequest} returns. */
export interface OpenedProvisioningRequest {
  claims: RequestClaims;
  /** The `kid` of the service key that decrypted it. */
  encryptionKid: string;
  /** The `kid` of the issuer key that signed it. */
  signingKid: string;
}

const JWE_RULES = {
  allowed: ['alg', 'enc', 'kid', 'cty', 'epk'],
  required: ['alg', 'enc', 'kid', 'cty', 'epk'],
  equals: { alg: KEY_MANAGEMENT_ALGORITHM, enc: CONTENT_ENCRYPTION_ALGORITHM, cty: 'JWT' },
} as const;

const JWS_RULES = {
  allowed: ['alg', 'kid', 'typ'],
  required: ['alg', 'kid', 'typ'],
  equals: { typ: REQUEST_JWS_TYP },
  algorithms: SIGNING_ALGORITHMS,
} as const;

const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The token service's cryptographic validation of a provisioning request, one
 * step per check, each with its own code, stopping at the first failure:
 *
 * 1. JWE header allow-list (`jwe_header_rejected`), its `kid` known (`unknown_key`)
 * 2. decrypt (`decryption_failed`)
 * 3. JWS header allow-list (`jws_header_rejected`)
 * 4. issuer key by `iss` + `kid` (`unknown_issuer`)
 * 5. signature (`signature_invalid`)
 * 6. claims schema (`invalid_claims`, `card_invalid`)
 * 7. `aud`, lifetime, `iat`, `exp` (`audience_mismatch`, `lifetime_exceeded`, `not_yet_valid`, `expired`)
 *
 * Replay, binding, card and decision checks follow in the caller (see
 * `checkBinding`, `checkCard`), since they need state or the submission.
 * Keys embedded in headers (`jwk`, `jku`, `x5u`, `x5c`) are refused, never used.
 * A decryption key handle whose `key()` fails (an HSM or KMS that does not
 * answer) is `internal_error`: the service's fault, not the request's.
 *
 * @example
 * ```ts
 * const { claims } = await openProvisioningRequest(submission.encryptedRequest, {
 *   decryptionKeys: servicePrivateJwks,
 *   issuerKeys: (iss, kid) => trustedIssuers.get(iss)?.keys.find((k) => k.kid === kid),
 *   audience: 'token-service.example',
 * });
 * ```
 */
export async function openProvisioningRequest(jwe: string, options: OpenProvisioningRequestOptions): Promise<OpenedProvisioningRequest> {
  // 1. JWE header
  if (typeof jwe !== 'string' || jwe.length > 16_384 || !COMPACT_JWE.test(jwe)) {
    throw new CryptoError('jwe_header_rejected', 'The request is not a compact JWE');
  }
  const jweHeader = decodeHeaderStrict(jwe, 'jwe_header_rejected');
  options.onPart?.({ kind: 'jwe-header', header: jweHeader });
  checkHeader(jweHeader, JWE_RULES, 'jwe_header_rejected');
  checkEpk(jweHeader.epk, 'jwe_header_rejected');
  const encryptionKid = jweHeader.kid as string;
  const keys = options.decryptionKeys;
  let key: () => JoseKey | Promise<JoseKey | Uint8Array>;
  if (Array.isArray(keys)) {
    const found = keys.find((k) => k?.kid === encryptionKid);
    if (!found) throw new CryptoError('unknown_key', 'No key with that kid for this algorithm');
    const handle = toDecryptionKeyHandle(found);
    key = () => handle.key();
  } else {
    const decryptionJwk = selectKey(keys as Jwks, encryptionKid, { alg: KEY_MANAGEMENT_ALGORITHM });
    key = () => importKeyCached(decryptionJwk, KEY_MANAGEMENT_ALGORITHM);
  }

  // 2. decrypt
  let resolved: JoseKey | Uint8Array;
  try {
    resolved = await key();
  } catch (cause) {
    // The JWK's import fails only for a key that cannot decrypt: as before, `decryption_failed`. A
    // handle that gives no key (an HSM or KMS that does not answer) is the service's fault, not the request's.
    if (!Array.isArray(keys)) throw new CryptoError('decryption_failed', 'The request could not be decrypted', { cause });
    throw new InternalError('internal_error', 'The decryption key is not available', { cause });
  }
  let plaintext: Uint8Array;
  try {
    const result = await compactDecrypt(jwe, resolved, {
      keyManagementAlgorithms: [KEY_MANAGEMENT_ALGORITHM],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION_ALGORITHM],
    });
    plaintext = result.plaintext;
  } catch (cause) {
    throw new CryptoError('decryption_failed', 'The request could not be decrypted', { cause });
  }

  // 3. JWS header
  let jws: string;
  try {
    jws = fromUtf8(plaintext);
  } catch (cause) {
    throw new CryptoError('jws_header_rejected', 'The decrypted content is not a JWS', { cause });
  }
  if (!zCompactJws.safeParse(jws).success) throw new CryptoError('jws_header_rejected', 'The decrypted content is not a compact JWS');
  const jwsHeader = decodeHeaderStrict(jws, 'jws_header_rejected');
  options.onPart?.({ kind: 'jws-header', header: jwsHeader });
  checkHeader(jwsHeader, JWS_RULES, 'jws_header_rejected');
  const signingKid = jwsHeader.kid as string;
  const alg = jwsHeader.alg as string;

  // 4. issuer key by iss + kid (iss read from the not yet verified payload only to pick the key)
  let iss: unknown;
  let payload: unknown;
  try {
    payload = parseStrictJson(fromUtf8(fromBase64Url(jws.split('.')[1]!)), { maxLength: 8192, maxDepth: 16 });
    iss = (payload as { iss?: unknown } | null)?.iss;
    options.onPart?.({ kind: 'payload', payload });
  } catch (cause) {
    throw new CryptoError('unknown_issuer', 'The request names no issuer', { cause });
  }
  if (typeof iss !== 'string' || !zPartyId.safeParse(iss).success) throw new CryptoError('unknown_issuer', 'The request names no issuer');
  let issuerJwk: KeyJwk | undefined;
  try {
    issuerJwk = await options.issuerKeys(iss, signingKid);
  } catch (cause) {
    if (cause instanceof ProvisioningError) throw cause;
    throw new CryptoError('unknown_issuer', 'The issuer key could not be resolved', { cause });
  }
  if (!issuerJwk || issuerJwk.alg !== alg || typeof issuerJwk.d === 'string') {
    throw new CryptoError('unknown_issuer', 'The issuer or its key is not trusted');
  }

  // 5. signature
  try {
    const key = await importKeyCached(issuerJwk, alg);
    await compactVerify(jws, key, { algorithms: [alg] });
  } catch (cause) {
    throw new CryptoError('signature_invalid', 'The issuer signature does not verify', { cause });
  }

  // 6. claims schema. The signature covers the payload segment itself (no `b64` header is
  // allowed), so the verified payload is exactly the text parsed, strictly, in step 4:
  // its value is not parsed again.
  const claims = parseRequestClaims(payload);
  if (claims.iss !== iss) throw new CryptoError('unknown_issuer', 'The issuer changed between lookup and verification');

  // 7. time and audience
  checkTimeClaims(claims, options);
  return { claims, encryptionKid, signingKid };
}
