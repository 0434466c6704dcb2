import { importKeyCached } from './import-key-cached.js';
import { CompactEncrypt } from 'jose';
import { CryptoError } from '../errors.js';
import { utf8 } from '../lib/base64url.js';
import { parseRequestClaims } from '../schemas/index.js';
import { REQUEST_JWS_TYP, type RequestClaims } from '../schemas/z-request-claims.js';
import { type SigningKeyInput, signCompact } from './key-handles.js';
import { CONTENT_ENCRYPTION_ALGORITHM, KEY_MANAGEMENT_ALGORITHM, type KeyJwk } from './keys.js';

/** Input of {@link sealProvisioningRequest}. */
export interface SealProvisioningRequestInput {
  /** The claims; validated against `zRequestClaims` before anything is signed. */
  claims: RequestClaims;
  /**
   * The issuer's signing key: a private JWK (ES256 or EdDSA) with its `kid`,
   * or a {@link SigningKeyHandle} (for example a non-extractable `CryptoKey`).
   */
  signingKey: SigningKeyInput;
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
  const { encryptionKey } = input;
  if (encryptionKey.alg !== KEY_MANAGEMENT_ALGORITHM || 'd' in encryptionKey) {
    throw new CryptoError('unknown_key', 'The encryption key must be a public ECDH-ES+A256KW JWK');
  }
  const [jws, encKey] = await Promise.all([
    signCompact(input.signingKey, utf8(JSON.stringify(claims)), REQUEST_JWS_TYP),
    importKeyCached(encryptionKey, KEY_MANAGEMENT_ALGORITHM),
  ]);
  return new CompactEncrypt(utf8(jws))
    .setProtectedHeader({ alg: KEY_MANAGEMENT_ALGORITHM, enc: CONTENT_ENCRYPTION_ALGORITHM, kid: encryptionKey.kid, cty: 'JWT' })
    .encrypt(encKey);
}
