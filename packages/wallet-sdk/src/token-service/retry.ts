import type { Clock, RandomSource } from '@pushprov/protocol';

/**
 * How long to wait between attempts.
 *
 * @example
 * ```ts
 * const retryDelay: RetryDelayOptions = { initialMs: 250, maxMs: 5_000, maxRetryAfterMs: 30_000 };
 * ```
 */
export interface RetryDelayOptions {
  /** The cap of the first backoff window, milliseconds. Default 250. */
  initialMs?: number;
  /** The largest backoff window, milliseconds. Default 5 000. */
  maxMs?: number;
  /**
   * The longest `Retry-After` the client waits, milliseconds. A server that
   * asks for longer gets no retry: the error is returned. Default 30 000.
   */
  maxRetryAfterMs?: number;
}

/**
 * Exponential backoff with full jitter: a uniform delay in
 * `[0, min(maxMs, initialMs * 2^attempt))`, `attempt` counted from 0.
 */
export function backoffDelay(attempt: number, options: Required<RetryDelayOptions>, random: RandomSource): number {
  const window = Math.min(options.maxMs, options.initialMs * 2 ** attempt);
  const [a = 0, b = 0, c = 0, d = 0] = random.bytes(4);
  const uniform = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  return Math.floor((uniform / 2 ** 32) * window);
}

/**
 * Reads a `Retry-After` header (delay-seconds or an HTTP date) as a delay in
 * milliseconds, or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, clock: Clock): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - clock.now());
}
