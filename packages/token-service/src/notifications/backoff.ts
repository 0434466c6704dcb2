// The retry schedule of a delivery (spec section 14): exponential backoff
// with full jitter, capped, until the give-up time after the first attempt.
import type { RandomSource } from '@pushprov/protocol';

/** The retry settings (`notifications.retry` of the configuration). */
export interface RetrySettings {
  /** The cap of the first retry's delay, ms. */
  initialDelayMs: number;
  /** The largest cap, ms. */
  maxDelayMs: number;
  /** A delivery is given up (dead) this long after its first attempt, seconds. */
  giveUpAfterSeconds: number;
}

/** A uniform number in [0, 1) from 48 random bits. */
const uniform = (random: RandomSource): number => {
  const b = random.bytes(6);
  let n = 0;
  for (const byte of b) n = n * 256 + byte;
  return n / 2 ** 48;
};

/**
 * The delay before the next attempt after `attempts` failed ones (1 for the
 * first failure): a uniform draw from 0 to `min(maxDelayMs, initialDelayMs ×
 * 2^(attempts − 1))` ("full jitter"), so receivers that come back are not
 * hit by every instance's retries at once.
 *
 * @example
 * ```ts
 * retryDelayMs(3, { initialDelayMs: 1000, maxDelayMs: 3_600_000, giveUpAfterSeconds: 86_400 }, secureRandom); // 0 to 4000
 * ```
 */
export function retryDelayMs(attempts: number, retry: RetrySettings, random: RandomSource): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 40);
  const cap = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** exponent);
  return Math.floor(uniform(random) * (cap + 1));
}

/**
 * When to try a failed delivery again, or null to give up (dead): the next
 * attempt after {@link retryDelayMs}, but never later than the give-up time
 * (`firstAttemptAt + giveUpAfterSeconds`), so the last attempt is made then;
 * once that time is reached, null.
 *
 * @example
 * ```ts
 * const next = nextAttemptAt({ attempts: 1, firstAttemptAt: now, nowMs: now }, settings.retry, random); // now … now + 1000
 * ```
 */
export function nextAttemptAt(delivery: { attempts: number; firstAttemptAt: number; nowMs: number }, retry: RetrySettings, random: RandomSource): number | null {
  const giveUpAt = delivery.firstAttemptAt + retry.giveUpAfterSeconds * 1000;
  if (delivery.nowMs >= giveUpAt) return null;
  return Math.min(delivery.nowMs + retryDelayMs(delivery.attempts, retry, random), giveUpAt);
}
