import { type JwkPair, KEY_MANAGEMENT_ALGORITHM, toBase64Url } from '@pushprov/protocol';

/**
 * Generates a one-session device encryption key (ECDH-ES+A256KW on P-256)
 * with WebCrypto directly: the same key pair and RFC 7638 thumbprint `kid`
 * as the protocol's `generateEncryptionKey`, without pulling jose's key
 * generation, export and thumbprint code into the wallet's bundle.
 *
 * @example
 * ```ts
 * const { privateJwk, publicJwk } = await generateDeviceKey();
 * ```
 */
export async function generateDeviceKey(): Promise<JwkPair> {
  const { subtle } = globalThis.crypto;
  const pair = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const { x, y, d } = await subtle.exportKey('jwk', pair.privateKey);
  if (typeof x !== 'string' || typeof y !== 'string' || typeof d !== 'string') throw new TypeError('WebCrypto exported an incomplete P-256 key');
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const thumbprint = await subtle.digest('SHA-256', new TextEncoder().encode(`{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`));
  const publicJwk = { kty: 'EC', crv: 'P-256', x, y, kid: toBase64Url(new Uint8Array(thumbprint)), alg: KEY_MANAGEMENT_ALGORITHM, use: 'enc' };
  return { publicJwk, privateJwk: { ...publicJwk, d } };
}
