import { type JWK, importJWK } from 'jose';
import { CryptoError } from '../errors.js';

const imported = new WeakMap<object, Map<string, Promise<CryptoKey | Uint8Array>>>();

/**
 * Imports a JWK as a CryptoKey, cached per JWK object and algorithm, so hot
 * paths do not re-import keys. Import failures are `CryptoError`s.
 */
export function importKeyCached(jwk: JWK, alg: string): Promise<CryptoKey | Uint8Array> {
  let byAlg = imported.get(jwk);
  if (!byAlg) {
    byAlg = new Map();
    imported.set(jwk, byAlg);
  }
  let key = byAlg.get(alg);
  if (!key) {
    key = importJWK(jwk, alg).catch((cause: unknown) => {
      byAlg.delete(alg);
      throw new CryptoError('unknown_key', 'The key could not be imported', { cause });
    });
    byAlg.set(alg, key);
  }
  return key;
}
