import { importKeyCached } from './import-key-cached.js';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { BindingError, CryptoError } from '../errors.js';
import { fromUtf8, utf8 } from '../lib/base64url.js';
import { parseAccessData } from '../schemas/index.js';
import type { PublicEcJwk } from '../schemas/primitives.js';
import { ACCESS_DATA_CTY, type AccessData } from '../schemas/z-access-data.js';
import { checkEpk, checkHeader, decodeHeaderStrict } from './headers.js';
import type { DecryptionKeyHandle } from './key-handles.js';
import { CONTENT_ENCRYPTION_ALGORITHM, KEY_MANAGEMENT_ALGORITHM, type KeyJwk } from './keys.js';

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
  const jwk = { ...devicePublicKey, alg: KEY_MANAGEMENT_ALGORITHM } as KeyJwk;
  const key = await importKeyCached(jwk, KEY_MANAGEMENT_ALGORITHM);
  const header: { alg: string; enc: string; cty: string; kid?: string } = { alg: KEY_MANAGEMENT_ALGORITHM, enc: CONTENT_ENCRYPTION_ALGORITHM, cty: ACCESS_DATA_CTY };
  if (devicePublicKey.kid !== undefined) header.kid = devicePublicKey.kid;
  return new CompactEncrypt(utf8(JSON.stringify(data))).setProtectedHeader(header).encrypt(key);
}

/**
 * Decrypts access data with the device's private key (a private JWK, or a
 * {@link DecryptionKeyHandle} such as a non-extractable `CryptoKey`), with the same header
 * allow-list as requests. A header `kid`, when present, must be the device
 * key's. Codes: `jwe_header_rejected`, `unknown_key`,
 * `decryption_failed`, `invalid_message`.
 *
 * @example
 * ```ts
 * const accessData = await decryptAccessData(response.encryptedAccessData, devicePrivateJwk);
 * ```
 */
export async function decryptAccessData(jwe: string, devicePrivateKey: KeyJwk | DecryptionKeyHandle): Promise<AccessData> {
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
    // A handle has a key function; a JWK has no `key` member.
    const key = await ((devicePrivateKey as Partial<DecryptionKeyHandle>).key?.() ?? importKeyCached(devicePrivateKey as KeyJwk, KEY_MANAGEMENT_ALGORITHM));
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

/**
 * What the wallet's session knows before it reads the access data: the
 * invocation's issuer and card (last 4 digits) the user agreed to, and the
 * token service answer's token reference id and status.
 *
 * @example
 * ```ts
 * const session: AccessDataSession = { issuerId: invocation.issuerId, panLast4: invocation.account.last4, tokenReferenceId: response.tokenReferenceId };
 * ```
 */
export interface AccessDataSession {
  issuerId: string;
  panLast4: string;
  tokenReferenceId: string;
  status?: AccessData['status'];
}

/**
 * Checks that access data is for what the user agreed to: the invocation's
 * issuer (`issuerId`) and card (`panLast4`), and the token the token service
 * answered with (`tokenReferenceId`, and `status` when given). A wallet runs
 * it after decrypting and before storing anything. Code:
 * `access_data_mismatch` (the message names the member, never a value).
 *
 * @example
 * ```ts
 * checkAccessData(accessData, { issuerId: invocation.issuerId, panLast4: invocation.account.last4, tokenReferenceId: response.tokenReferenceId });
 * ```
 */
export function checkAccessData(accessData: AccessData, session: AccessDataSession): void {
  const pairs: [keyof AccessDataSession, string, string | undefined][] = [
    ['tokenReferenceId', accessData.tokenReferenceId, session.tokenReferenceId],
    ['status', accessData.status, session.status],
    ['issuerId', accessData.issuerId, session.issuerId],
    ['panLast4', accessData.panLast4, session.panLast4],
  ];
  for (const [member, received, expected] of pairs) {
    if (member === 'status' && expected === undefined) continue;
    if (received !== expected) throw new BindingError('access_data_mismatch', `The access data's ${member} is not the session's`);
  }
}
