import { CompactEncrypt, CompactSign } from 'jose';
import { CryptoError } from '../errors.js';
import { utf8 } from '../lib/base64url.js';
import { parseRequestClaims } from '../schemas/index.js';
import { REQUEST_JWS_TYP, type RequestClaims } from '../schemas/z-request-claims.js';
import { CONTENT_ENCRYPTION_ALGORITHM, KEY_MANAGEMENT_ALGORITHM, type KeyJwk, SIGNING_ALGORITHMS, importKeyCached } from './keys.js';

/** Input of {@link sealProvisioningRequest}. */
export interface SealProvisioningRequestInput {
  /** The claims; validated against `zRequestClaims` before anything is signed. */
  claims: RequestClaims;
  /** The issuer's private signing JWK (ES256 or EdDSA) with its `kid`. */
  signingKey: KeyJwk;
  /** The token service's public encryption JWK (ECDH-ES+A256KW, P-256) with its `kid`. */
  encryptionKey: KeyJwk;
}

/**
 * Signs the claims as a JWS (`typ: pushprov-request+jwt`, the issuer's `kid`)
 * and encrypts that JWS to the token service as a compact JWE
 * (`ECDH-ES+A256KW` / `A256GCM`, the service's `kid`, `cty: JWT`).
 *
 * @example
 * ```ts
 * const encryptedRequest = await sealProvisioningRequest({ claims, signingKey, encryptionKey });
 * ```
 */
export async function sealProvisioningRequest(input: SealProvisioningRequestInput): Promise<string> {
  const claims = parseRequestClaims(input.claims);
  const { signingKey, encryptionKey } = input;
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(signingKey.alg) || typeof signingKey.d !== 'string') {
    throw new CryptoError('unknown_key', 'The signing key must be a private ES256 or EdDSA JWK');
  }
  if (encryptionKey.alg !== KEY_MANAGEMENT_ALGORITHM || 'd' in encryptionKey) {
    throw new CryptoError('unknown_key', 'The encryption key must be a public ECDH-ES+A256KW JWK');
  }
  const [sigKey, encKey] = await Promise.all([
    importKeyCached(signingKey, signingKey.alg),
    importKeyCached(encryptionKey, KEY_MANAGEMENT_ALGORITHM),
  ]);
  const jws = await new CompactSign(utf8(JSON.stringify(claims)))
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: REQUEST_JWS_TYP })
    .sign(sigKey);
  return new CompactEncrypt(utf8(jws))
    .setProtectedHeader({ alg: KEY_MANAGEMENT_ALGORITHM, enc: CONTENT_ENCRYPTION_ALGORITHM, kid: encryptionKey.kid, cty: 'JWT' })
    .encrypt(encKey);
}
