import { CardError } from '../errors.js';
import type { Expiry } from '../schemas/primitives.js';
import type { Card } from '../schemas/z-request-claims.js';
import { isValidPan } from './luhn.js';

/**
 * A registered BIN range: every PAN whose first `start.length` digits lie
 * between `start` and `end` (inclusive). `start` and `end` are digit strings of
 * the same length (6 to 12).
 */
export interface BinRange {
  start: string;
  end: string;
}

/** True when `pan` lies in one of `ranges`. */
export function panInRanges(pan: string, ranges: readonly BinRange[]): boolean {
  return ranges.some((r) => {
    const prefix = pan.slice(0, r.start.length);
    return prefix.length === r.start.length && prefix >= r.start && prefix <= r.end;
  });
}

/** True when the expiry month has fully passed at `nowMs` (UTC). A card is valid through its expiry month. */
export function isExpired(expiry: Expiry, nowMs: number): boolean {
  const now = new Date(nowMs);
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return expiry.year < year || (expiry.year === year && expiry.month < month);
}

/**
 * The token service's card checks, in order: Luhn and format
 * (`card_invalid`), not expired (`card_expired`), inside the issuer's
 * registered BIN ranges (`card_not_eligible`). Messages never hold the PAN.
 *
 * @example
 * ```ts
 * checkCard(claims.card, { nowMs: Date.now(), binRanges: [{ start: '411111', end: '411111' }] });
 * ```
 */
export function checkCard(card: Card, options: { nowMs: number; binRanges?: readonly BinRange[] }): void {
  if (!isValidPan(card.pan)) throw new CardError('card_invalid', 'The card number is not valid');
  const { month, year } = card.expiry;
  if (!Number.isInteger(month) || month < 1 || month > 12 || !Number.isInteger(year)) {
    throw new CardError('card_invalid', 'The card expiry is not a real month');
  }
  if (isExpired(card.expiry, options.nowMs)) throw new CardError('card_expired', 'The card has expired');
  if (options.binRanges && !panInRanges(card.pan, options.binRanges)) {
    throw new CardError('card_not_eligible', 'The card is outside the issuer’s registered BIN ranges');
  }
}
