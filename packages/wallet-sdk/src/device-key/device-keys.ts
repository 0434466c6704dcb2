import {
  type DecryptionKeyHandle,
  type JoseKey,
  type JwkPair,
  type KeyJwk,
  type PublicEcJwk,
  createError,
  decryptAccessData,
  decryptionKeyFromCryptoKey,
  toPublicJwk,
} from '@pushprov/protocol';
import type { DeviceKey, SessionDeviceKey } from '../wallet/types.js';
import { generateDeviceKey } from './generate-device-key.js';

/** One session's key over a private JWK or a decryption key handle: `decryptAccessData` does every check. */
function sessionKey(publicJwk: KeyJwk, privateKey: KeyJwk | DecryptionKeyHandle): SessionDeviceKey {
  return {
    publicJwk: toPublicJwk(publicJwk) as PublicEcJwk,
    decryptAccessData: (jwe) => decryptAccessData(jwe, privateKey),
  };
}

/**
 * A fresh P-256 device key pair for every session (ECDH-ES+A256KW), made with
 * WebCrypto and never stored: the token service encrypts the access data to
 * its public half, and only this session can read the token number.
 *
 * @example
 * ```ts
 * import { generatedDeviceKey } from '@pushprov/wallet-sdk/device-key';
 * const wallet = createWallet({ ...options, deviceKey: generatedDeviceKey() });
 * ```
 */
export function generatedDeviceKey(): DeviceKey {
  return {
    async forSession() {
      const pair = await generateDeviceKey();
      return sessionKey(pair.publicJwk, pair.privateJwk);
    },
  };
}

/**
 * Your own device key pair, kept across sessions (in secure storage): made
 * with `generateEncryptionKey()` of `@pushprov/protocol`. With the same key,
 * the token service recognises a card already on this device and answers
 * with the existing token. Throws `configuration_invalid` for anything but a
 * pair with the private JWK.
 *
 * @example
 * ```ts
 * import { generateEncryptionKey } from '@pushprov/protocol';
 * import { deviceKeyFromJwk } from '@pushprov/wallet-sdk/device-key';
 * const pair = await generateEncryptionKey(); // keep it in secure storage
 * const wallet = createWallet({ ...options, deviceKey: deviceKeyFromJwk(pair) });
 * ```
 */
export function deviceKeyFromJwk(pair: JwkPair): DeviceKey {
  if (typeof pair?.privateJwk?.d !== 'string' || typeof pair.publicJwk !== 'object' || pair.publicJwk === null) {
    throw createError('configuration_invalid', 'The device key must be a key pair with its private JWK');
  }
  const key = sessionKey(pair.publicJwk, pair.privateJwk);
  return { forSession: async () => key };
}

/**
 * A device key whose private half is a WebCrypto `CryptoKey` (ECDH P-256 with
 * the `deriveBits` usage), typically non-extractable and kept in IndexedDB or
 * a platform keystore, so the private key never exists as a JWK in the app.
 * `publicJwk` is its public half with its `kid`. Throws `unknown_key` when the
 * key is not such a key.
 *
 * @example
 * ```ts
 * import { deviceKeyFromCryptoKey } from '@pushprov/wallet-sdk/device-key';
 * const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
 * const publicJwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid: 'device-1', alg: 'ECDH-ES+A256KW' };
 * const wallet = createWallet({ ...options, deviceKey: deviceKeyFromCryptoKey(pair.privateKey, publicJwk) });
 * ```
 */
export function deviceKeyFromCryptoKey(privateKey: JoseKey, publicJwk: KeyJwk): DeviceKey {
  const handle = decryptionKeyFromCryptoKey(privateKey, { kid: publicJwk?.kid, publicJwk });
  const key = sessionKey(handle.publicJwk, handle);
  return { forSession: async () => key };
}
