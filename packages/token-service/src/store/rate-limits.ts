// What every store does the same way for rate limit counters: the input's
// checks, the fixed window a time falls in, and the outcome of a count. The
// stores only count, atomically (see RateLimitStore.hit).
import type { RateLimitHitInput, RateLimitHitOutcome } from './types.js';

/** The longest window a counter may have: 31 days. */
export const RATE_LIMIT_MAX_WINDOW_MS = 31 * 86_400_000;
/** The highest limit of one window. */
export const RATE_LIMIT_MAX = 1_000_000_000;

const KEY = /^[\x21-\x7e]{1,256}$/;

/** A hit's input, checked (RangeError otherwise), and the start and end of its window. */
export function checkHit(input: RateLimitHitInput): { key: string; limit: number; windowStart: number; windowEnd: number; nowMs: number; windowMs: number } {
  const { key, windowMs, limit, nowMs } = input;
  if (typeof key !== 'string' || !KEY.test(key)) throw new RangeError('a rate limit key is 1 to 256 printable ASCII characters');
  if (!Number.isSafeInteger(windowMs) || windowMs < 1 || windowMs > RATE_LIMIT_MAX_WINDOW_MS) throw new RangeError('windowMs must be an integer from 1 to 31 days');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > RATE_LIMIT_MAX) throw new RangeError(`limit must be an integer from 1 to ${RATE_LIMIT_MAX}`);
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new RangeError('nowMs must be a non-negative integer');
  const windowStart = nowMs - (nowMs % windowMs);
  return { key, limit, windowStart, windowEnd: windowStart + windowMs, nowMs, windowMs };
}

/** The outcome of a count the store returned: the hits of the window (this one included) and that window's start. */
export function hitOutcome(checked: { limit: number; nowMs: number; windowMs: number }, count: number, windowStart: number): RateLimitHitOutcome {
  const allowed = count <= checked.limit;
  return { allowed, count, retryAfterMs: allowed ? 0 : Math.max(1, windowStart + checked.windowMs - checked.nowMs) };
}
