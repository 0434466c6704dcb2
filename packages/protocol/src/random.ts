import { toBase64Url } from './lib/base64url.js';

/**
 * A source of random bytes. Inject a deterministic one in tests and vectors;
 * the default uses the platform's CSPRNG (`crypto.getRandomValues`).
 */
export interface RandomSource {
  /** Returns `length` random bytes. */
  bytes(length: number): Uint8Array;
}

/** Bytes drawn from the CSPRNG at a time. */
const POOL_SIZE = 2048;
let pool = new Uint8Array(0);
let poolOffset = 0;

/**
 * The platform CSPRNG (WebCrypto `getRandomValues`), available in browsers,
 * React Native with a polyfill, and Node 20+. Requests (ids, nonces, IVs)
 * are cut from a pool of CSPRNG bytes drawn 2 KiB at a time (or the request's
 * size, when larger), as Node's own `randomUUID` does: one call per request
 * costs more than the rest of issuing an id. Every byte is handed out once,
 * then zeroed in the pool.
 */
export const secureRandom: RandomSource = {
  bytes(length: number): Uint8Array {
    if (poolOffset + length > pool.length) {
      pool = globalThis.crypto.getRandomValues(new Uint8Array(Math.max(POOL_SIZE, length)));
      poolOffset = 0;
    }
    const out = pool.slice(poolOffset, (poolOffset += length));
    pool.fill(0, poolOffset - length, poolOffset);
    return out;
  },
};

/**
 * A deterministic random source for tests and vectors: returns the given byte
 * sequence, cycling. Never use it in production.
 *
 * @example
 * ```ts
 * const random = sequenceRandom(new Uint8Array(16).fill(7));
 * createSessionId(random); // 'BwcHBwcHBwcHBwcHBwcHBw'
 * ```
 */
export function sequenceRandom(seed: Uint8Array): RandomSource {
  if (seed.length === 0) throw new TypeError('seed must not be empty');
  let offset = 0;
  return {
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = seed[(offset + i) % seed.length]!;
      offset = (offset + length) % seed.length;
      return out;
    },
  };
}

/** Bytes of entropy in session ids, nonces and jtis (128 bits). */
export const ID_ENTROPY_BYTES = 16;

/**
 * Creates a fresh session id: 128 random bits, base64url (22 characters).
 *
 * @example
 * ```ts
 * const sessionId = createSessionId(); // e.g. 'q3W1n7xYb0kq3W1n7xYb0k'
 * ```
 */
export function createSessionId(random: RandomSource = secureRandom): string {
  return toBase64Url(random.bytes(ID_ENTROPY_BYTES));
}

/** Creates a fresh wallet nonce: 128 random bits, base64url. */
export function createNonce(random: RandomSource = secureRandom): string {
  return toBase64Url(random.bytes(ID_ENTROPY_BYTES));
}

/** Creates a fresh JWT id: 128 random bits, base64url. */
export function createJti(random: RandomSource = secureRandom): string {
  return toBase64Url(random.bytes(ID_ENTROPY_BYTES));
}

/** Creates a random identifier with the given prefix, e.g. `tok_…`, `req_…`. */
export function createId(prefix: string, random: RandomSource = secureRandom): string {
  return `${prefix}_${toBase64Url(random.bytes(ID_ENTROPY_BYTES))}`;
}

/**
 * A new correlation id for one provisioning attempt: `cor_` and 128 random
 * bits, base64url (see `zCorrelationId`).
 *
 * @example
 * ```ts
 * createCorrelationId(); // 'cor_3q2-7wEoXbVf0cS8dJ1kLA'
 * ```
 */
export function createCorrelationId(random: RandomSource = secureRandom): string {
  return createId('cor', random);
}
