import { type RandomSource, generateEncryptionKey, generateSigningKey, secureRandom, toBase64Url } from '@pushprov/protocol';
import type { KeySet } from '../config/z-config.js';

/** Options of {@link generateKeySet}. */
export interface GenerateKeySetOptions {
  /** The `kid` of the encryption key. Default: its JWK thumbprint. */
  kid?: string;
  /** The `kid` of the notification signing key. Default: its JWK thumbprint. */
  signingKid?: string;
  /** The id of the key-encryption key. Default: `kek_` and 8 random characters. */
  kekId?: string;
  /** Randomness for the vault keys (the EC key pair always uses the platform CSPRNG). */
  random?: RandomSource;
}

/**
 * Generates a complete private key set for a token service: one
 * ECDH-ES+A256KW (P-256) encryption key pair, whose public half issuers
 * encrypt requests to, one ES256 notification signing key pair (its public
 * half published with `use: sig`; spec section 14), one vault
 * key-encryption key (AES-256) and one PAN fingerprint key (HMAC-SHA-256). This is what `token-service keys generate`
 * writes. Keep it secret; publish only `/.well-known/jwks.json`.
 *
 * @example
 * ```ts
 * const keySet = await generateKeySet({ kid: 'ts-2026-11' });
 * writeFileSync('keys.json', JSON.stringify(keySet, null, 2), { mode: 0o600 });
 * ```
 */
export async function generateKeySet(options: GenerateKeySetOptions = {}): Promise<KeySet> {
  const random = options.random ?? secureRandom;
  const [pair, signing] = await Promise.all([
    generateEncryptionKey(options.kid === undefined ? {} : { kid: options.kid }),
    generateSigningKey({ alg: 'ES256', ...(options.signingKid === undefined ? {} : { kid: options.signingKid }) }),
  ]);
  const jwk = pair.privateJwk;
  const sig = signing.privateJwk;
  return {
    type: 'pushprov-token-service-keys',
    version: 1,
    encryptionKeys: {
      keys: [{ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, d: jwk.d!, kid: jwk.kid, alg: 'ECDH-ES+A256KW', use: 'enc' }],
    },
    vault: {
      keks: [{ id: options.kekId ?? `kek_${toBase64Url(random.bytes(6))}`, key: toBase64Url(random.bytes(32)) }],
      fingerprintKey: toBase64Url(random.bytes(32)),
    },
    signingKeys: { keys: [{ kty: 'EC', crv: 'P-256', x: sig.x!, y: sig.y!, d: sig.d!, kid: sig.kid, alg: 'ES256', use: 'sig' }] },
  };
}
