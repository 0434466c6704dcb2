import type { Expiry } from '@pushprov/protocol';

/**
 * The expiry month of a token issued at `nowMs` that lives `months` months
 * (UTC): valid through the month that is `months` after the current one.
 *
 * @example
 * ```ts
 * computeTokenExpiry(Date.UTC(2026, 10, 28), 36); // { month: 11, year: 2029 }
 * ```
 */
export function computeTokenExpiry(nowMs: number, months: number): Expiry {
  const now = new Date(nowMs);
  const index = now.getUTCFullYear() * 12 + now.getUTCMonth() + months;
  return { month: (index % 12) + 1, year: Math.floor(index / 12) };
}
