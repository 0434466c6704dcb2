// One-time codes of the OTP verification methods (docs/protocol.md section 11.2).
import { type RandomSource, VerificationError } from '@pushprov/protocol';

/**
 * A one-time code of `length` digits (6 to 8), each drawn uniformly from
 * `random`: a byte of 250 or more is drawn again (250 is the largest
 * multiple of 10 below 256), so no digit is likelier than another.
 *
 * @example
 * ```ts
 * const code = generateVerificationCode(6, secureRandom); // e.g. '480193'
 * ```
 */
export function generateVerificationCode(length: number, random: RandomSource): string {
  if (!Number.isInteger(length) || length < 6 || length > 8) throw new RangeError('A verification code has 6 to 8 digits');
  let code = '';
  while (code.length < length) {
    for (const byte of random.bytes(length * 2)) {
      if (byte < 250 && code.length < length) code += String(byte % 10);
    }
  }
  return code;
}

/**
 * `429 verification_cooldown`: a new code for this method is refused until
 * its `resendAfter`; the HTTP layer sends the seconds left as `Retry-After`.
 *
 * @example
 * ```ts
 * throw new VerificationCooldownError(12_000); // Retry-After: 12
 * ```
 */
export class VerificationCooldownError extends VerificationError {
  /** Whole seconds until a new code is accepted (at least 1). */
  readonly retryAfterSeconds: number;

  constructor(retryAfterMs: number) {
    super('verification_cooldown', 'A code for this method was sent a moment ago; ask again after the time given');
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}
