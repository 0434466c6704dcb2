import { CompactEncrypt, compactDecrypt } from 'jose';
import { CryptoError } from '../errors.js';
import { fromUtf8, utf8 } from '../lib/base64url.js';
import { parseAccessData } from '../schemas/index.js';
import type { PublicEcJwk } from '../schemas/primitives.js';
import { ACCESS_DATA_CTY, type AccessData } from '../schemas/z-access-data.js';
import { checkEpk, checkHeader, decodeHeaderStrict } from './headers.js';
import { CONTENT_ENCRYPTION_ALGORITHM, KEY_MANAGEMENT_ALGORITHM, type KeyJwk, importKeyCached } from './keys.js';

/**
 * Encrypts access data to a device's public key (compact JWE,
 * `ECDH-ES+A256KW` / `A256GCM`, `cty: pushprov-access-data+json`), so only
 * that device can read the token number.
 *
 * @example
 * ```ts
 * const jwe = await encryptAccessData(accessData, identifiers.devicePublicKey);
 * ```
 */
export async function encryptAccessData(accessData: AccessData, devicePublicKey: PublicEcJwk): Promise<string> {
  const data = parseAccessData(accessData);
  const jwk = { ...devicePublicKey, alg: KEY_MANAGEMENT_ALGORITHM };
  const key = await importKeyCached(jwk, KEY_MANAGEMENT_ALGORITHM);
  const header: { alg: string; enc: string; cty: string; kid?: string } = { alg: KEY_MANAGEMENT_ALGORITHM, enc: CONTENT_ENCRYPTION_ALGORITHM, cty: ACCESS_DATA_CTY };
  if (devicePublicKey.kid !== undefined) header.kid = devicePublicKey.kid;
  return new CompactEncrypt(utf8(JSON.stringify(data))).setProtectedHeader(header).encrypt(key);
}

/**
 * Decrypts access data with the device's private key, with the same header
 * allow-list as requests. A header `kid`, when present, must be the device
 * key's. Codes: `jwe_header_rejected`, `unknown_key`,
 * `decryption_failed`, `invalid_message`.
 *
 * @example
 * ```ts
 * const accessData = await decryptAccessData(response.encryptedAccessData, devicePrivateJwk);
 * ```
 */
export async function decryptAccessData(jwe: string, devicePrivateKey: KeyJwk): Promise<AccessData> {
  const header = decodeHeaderStrict(jwe, 'jwe_header_rejected');
  checkHeader(
    header,
    {
      allowed: ['alg', 'enc', 'kid', 'cty', 'epk'],
      required: ['alg', 'enc', 'cty', 'epk'],
      equals: { alg: KEY_MANAGEMENT_ALGORITHM, enc: CONTENT_ENCRYPTION_ALGORITHM, cty: ACCESS_DATA_CTY },
    },
    'jwe_header_rejected',
  );
  checkEpk(header.epk, 'jwe_header_rejected');
  // The token service copies the submitted device key's kid into the header: when it is there, it must be this key's.
  if (header.kid !== undefined && header.kid !== devicePrivateKey.kid) {
    throw new CryptoError('unknown_key', 'The access data is encrypted to another device key');
  }
  let text: string;
  try {
    const key = await importKeyCached(devicePrivateKey, KEY_MANAGEMENT_ALGORITHM);
    const { plaintext } = await compactDecrypt(jwe, key, {
      keyManagementAlgorithms: [KEY_MANAGEMENT_ALGORITHM],
      contentEncryptionAlgorithms: [CONTENT_ENCRYPTION_ALGORITHM],
    });
    text = fromUtf8(plaintext);
  } catch (cause) {
    throw new CryptoError('decryption_failed', 'The access data could not be decrypted', { cause });
  }
  return parseAccessData(text);
}
