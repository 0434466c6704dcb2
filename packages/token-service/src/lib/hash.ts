import { createHash } from 'node:crypto';

// The protocol's `sha256Hex` and `replayKey`, computed with Node's native
// SHA-256 (about 1 us instead of 5 to 10 with the portable implementation).
// The same inputs give the same outputs: test/hash.test.ts holds them to it,
// since stored replay keys must match whichever computes them.

/**
 * SHA-256 of a UTF-8 string, hex encoded: the protocol's `sha256Hex`, natively.
 *
 * @example
 * ```ts
 * sha256Hex('abc'); // 'ba7816bf…'
 * ```
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The replay key of an issuer's `jti`: the protocol's `replayKey`, natively.
 *
 * @example
 * ```ts
 * const key = replayKey(claims.iss, claims.jti);
 * ```
 */
export function replayKey(issuer: string, jti: string): string {
  return sha256Hex(`pushprov/replay/v1\u0000${issuer}\u0000${jti}`);
}
