import { type RandomSource, luhnCheckDigit, secureRandom } from '@pushprov/protocol';

/** The range token numbers are drawn from: a BIN prefix and a total length. */
export interface TokenRange {
  /** 6 to 12 ASCII digits every token number starts with. */
  bin: string;
  /** Total length, 13 to 19 digits, including the Luhn check digit. */
  length: number;
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
