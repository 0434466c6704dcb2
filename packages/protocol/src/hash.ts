import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { toBase64Url, utf8 } from './lib/base64url.js';

/**
 * SHA-256 of a UTF-8 string, hex encoded. Used for request body hashes
 * (idempotency) and replay keys.
 *
 * @example
 * ```ts
 * sha256Hex('abc'); // 'ba7816bf…'
 * ```
 */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8(text)));
}

/**
 * The replay key of a provisioning request: SHA-256 over issuer and jti, so
 * the replay store never holds raw claim values and keys have a fixed size.
 * `hash` computes the same SHA-256 hex another way (a server passes its
 * platform's native one); the default is {@link sha256Hex}.
 *
 * @example
 * ```ts
 * const key = replayKey(claims.iss, claims.jti);
 * ```
 */
export function replayKey(issuer: string, jti: string, hash: (text: string) => string = sha256Hex): string {
  return hash(`pushprov/replay/v1\u0000${issuer}\u0000${jti}`);
}

/**
 * An HMAC-SHA-256 fingerprint of a PAN under a service secret, base64url. It
 * finds an already provisioned account without storing the PAN in the clear;
 * without the key it reveals nothing.
 *
 * @example
 * ```ts
 * const fp = fingerprintPan('4111111111111111', secretKeyBytes);
 * ```
 */
export function fingerprintPan(pan: string, key: Uint8Array): string {
  if (key.length < 32) throw new TypeError('fingerprint key must be at least 32 bytes');
  return toBase64Url(hmac(sha256, key, utf8(`pushprov/pan/v1\u0000${pan}`)));
}

/**
 * Constant-time comparison of two strings of the same length (the time
 * depends on the length only). Compares UTF-16 code units, so two different
 * lone surrogates never compare equal, and nothing is allocated.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
