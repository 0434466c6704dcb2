import { type RandomSource, luhnCheckDigit, secureRandom } from '@pushprov/protocol';

/** The range token numbers are drawn from: a BIN prefix and a total length. */
export interface TokenRange {
  /** 6 to 12 ASCII digits every token number starts with. */
  bin: string;
  /** Total length, 13 to 19 digits, including the Luhn check digit. */
  length: number;
}

/** The default `tokenRange.capacity`: the most tokens a range is expected to hold. */
export const DEFAULT_TOKEN_CAPACITY = 1_000_000;

/**
 * How many times more numbers than tokens a range must have: at least
 * `TOKEN_RANGE_HEADROOM × capacity` numbers (see {@link randomDigitsNeeded}).
 */
export const TOKEN_RANGE_HEADROOM = 1000;

/**
 * The random digits of a token number of `range`: its length less the bin
 * and the Luhn check digit. The range holds `10 ** randomDigitsOf(range)`
 * numbers.
 *
 * @example
 * ```ts
 * randomDigitsOf({ bin: '489537', length: 16 }); // 9
 * ```
 */
export function randomDigitsOf(range: TokenRange): number {
  return range.length - range.bin.length - 1;
}

/**
 * The fewest random digits a token range needs to hold `capacity` tokens:
 * the smallest `d` with `10 ** d >= TOKEN_RANGE_HEADROOM × capacity`.
 *
 * Why 1000 times: token numbers are drawn at random and a collision is drawn
 * again (a unique index), a few times at most (the token service makes 8
 * commit attempts). With `n` tokens issued out of `N` numbers, one draw
 * collides with probability `n / N`, and issuance fails only when all 8 do:
 * `(n / N) ** 8`. With 3 random digits (`N = 1000`), that is 0.4 % of
 * issuances at 500 tokens and 43 % at 900: issuance starts failing after
 * a few hundred tokens. With `N >= 1000 × capacity`, a full range makes a
 * draw collide at most 0.1 % of the time and fails an issuance with
 * probability at most 10^-24 (at most 10^-6 even with 2 attempts); over the
 * range's life the birthday bound gives about `capacity² / 2N` collisions
 * (drawn again, at most capacity / 2000), and a random number of the range is a
 * live token at most 1 time in 1000.
 *
 * @example
 * ```ts
 * randomDigitsNeeded(1_000_000); // 9: a 16-digit token with a 6-digit bin
 * randomDigitsNeeded(10_000_000); // 10
 * ```
 */
export function randomDigitsNeeded(capacity: number): number {
  let digits = 0;
  while (10 ** digits < TOKEN_RANGE_HEADROOM * capacity) digits++;
  return digits;
}

/**
 * Draws a token number: `range.bin`, then uniformly random digits, then the
 * Luhn check digit. Uniqueness is the store's job (a unique constraint; draw
 * again on conflict).
 *
 * @example
 * ```ts
 * createTokenNumber({ bin: '489537', length: 16 }); // e.g. '4895370123456786'
 * ```
 */
export function createTokenNumber(range: TokenRange, random: RandomSource = secureRandom): string {
  if (!/^[0-9]{6,12}$/.test(range.bin) || !Number.isInteger(range.length) || range.length < 13 || range.length > 19 || range.length - range.bin.length < 4) {
    throw new RangeError('token range must be a 6-12 digit bin and a length of 13-19 with at least 3 random digits');
  }
  const count = range.length - range.bin.length - 1;
  let digits = '';
  while (digits.length < count) {
    // Rejection sampling: bytes 250-255 would bias the digits 0-5.
    for (const byte of random.bytes(count - digits.length + 4)) {
      if (byte < 250 && digits.length < count) digits += String(byte % 10);
    }
  }
  const partial = range.bin + digits;
  return partial + luhnCheckDigit(partial);
}
