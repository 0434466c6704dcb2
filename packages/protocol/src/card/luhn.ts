/**
 * True when `digits` (ASCII digits only) passes the Luhn check.
 *
 * @example
 * ```ts
 * luhnValid('4111111111111111'); // true
 * ```
 */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * The Luhn check digit that completes `partial` (ASCII digits).
 *
 * @example
 * ```ts
 * luhnCheckDigit('411111111111111'); // '1'
 * ```
 */
export function luhnCheckDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) {
    if (luhnValid(partial + String(d))) return String(d);
  }
  /* c8 ignore next */
  throw new TypeError('unreachable');
}

/** True when `pan` is 12 to 19 ASCII digits and Luhn-valid. */
export function isValidPan(pan: unknown): pan is string {
  return typeof pan === 'string' && /^[0-9]{12,19}$/.test(pan) && luhnValid(pan);
}
