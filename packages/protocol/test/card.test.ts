import { describe, expect, it } from 'vitest';
import { CardError, checkCard, isExpired, isValidPan, luhnCheckDigit, luhnValid, panInRanges } from '../src/index.js';
import { OTHER_PAN, PAN, expectCode, exposedText, sampleCard } from './helpers/fixture.js';

const at = (iso: string) => Date.parse(iso);

describe('Luhn', () => {
  it('validates known numbers', () => {
    for (const pan of [PAN, OTHER_PAN, '378282246310005', '6011111111111117', '3530111333300000', '0']) expect(luhnValid(pan), pan).toBe(true);
    for (const pan of ['4111111111111112', '1', '5555555555554445']) expect(luhnValid(pan), pan).toBe(false);
  });

  it('refuses anything but ASCII digits', () => {
    for (const text of ['', '٤١١١١١١١١١١١١١١١', '４１１１', '4111 1111', '4111-1111', ' 4111111111111111', '0x10']) {
      expect(luhnValid(text), text).toBe(false);
    }
  });

  it('computes the check digit that completes a number', () => {
    expect(luhnCheckDigit('411111111111111')).toBe('1');
    expect(luhnCheckDigit('555555555555444')).toBe('4');
    for (const partial of ['48953700', '123456789', '9'.repeat(18)]) expect(luhnValid(partial + luhnCheckDigit(partial))).toBe(true);
  });

  it('isValidPan wants 12 to 19 ASCII digits, Luhn-valid, as a string', () => {
    expect(isValidPan(PAN)).toBe(true);
    expect(isValidPan('123456789007')).toBe(true); // 12 digits
    expect(isValidPan('12345678903')).toBe(false); // 11 digits, Luhn-valid
    expect(isValidPan('4000000000000000006')).toBe(true); // 19 digits
    expect(isValidPan('40000000000000000006')).toBe(false); // 20 digits, Luhn-valid
    expect(isValidPan(4111111111111111)).toBe(false);
    expect(isValidPan('٤١١١١١١١١١١١١١١١')).toBe(false);
    expect(isValidPan(null)).toBe(false);
  });
});

describe('BIN ranges', () => {
  const ranges = [
    { start: '411111', end: '411112' },
    { start: '55555555', end: '55555560' },
  ];

  it('includes both ends of a range', () => {
    expect(panInRanges('4111110000000000', ranges)).toBe(true);
    expect(panInRanges('4111129999999999', ranges)).toBe(true);
    expect(panInRanges('4111109999999999', ranges)).toBe(false);
    expect(panInRanges('4111130000000000', ranges)).toBe(false);
  });

  it('compares as many digits as the range has', () => {
    expect(panInRanges('5555555500000000', ranges)).toBe(true);
    expect(panInRanges('5555556000000000', ranges)).toBe(true);
    expect(panInRanges('5555556100000000', ranges)).toBe(false);
    expect(panInRanges('5555555499999999', ranges)).toBe(false);
  });

  it('never matches a number shorter than the range, or no ranges', () => {
    expect(panInRanges('41111', ranges)).toBe(false);
    expect(panInRanges(PAN, [])).toBe(false);
  });
});

describe('card expiry: valid through the last instant of its month (UTC)', () => {
  it('is not expired during its month and expired from the first instant of the next', () => {
    const expiry = { month: 6, year: 2099 };
    expect(isExpired(expiry, at('2099-06-01T00:00:00.000Z'))).toBe(false);
    expect(isExpired(expiry, at('2099-06-30T23:59:59.999Z'))).toBe(false);
    expect(isExpired(expiry, at('2099-07-01T00:00:00.000Z'))).toBe(true);
  });

  it('rolls over at the year boundary', () => {
    const december = { month: 12, year: 2098 };
    expect(isExpired(december, at('2098-12-31T23:59:59.999Z'))).toBe(false);
    expect(isExpired(december, at('2099-01-01T00:00:00.000Z'))).toBe(true);
    expect(isExpired({ month: 1, year: 2099 }, at('2098-12-31T23:59:59.999Z'))).toBe(false);
  });

  it('uses UTC, not the local time zone', () => {
    // 2099-07-01T00:30 at UTC+2 is still June 30 in UTC.
    expect(isExpired({ month: 6, year: 2099 }, at('2099-07-01T00:30:00+02:00'))).toBe(false);
  });
});

describe('checkCard', () => {
  const nowMs = at('2099-06-15T12:00:00Z');
  const binRanges = [{ start: '411111', end: '411111' }];

  it('accepts a valid, current card inside the ranges, and skips the range check without ranges', () => {
    expect(() => checkCard(sampleCard(), { nowMs, binRanges })).not.toThrow();
    expect(() => checkCard(sampleCard({ pan: OTHER_PAN }), { nowMs })).not.toThrow();
    expect(() => checkCard(sampleCard({ expiry: { month: 6, year: 2099 } }), { nowMs, binRanges })).not.toThrow();
  });

  it('refuses an invalid number, a bad month, an expired card and an ineligible card, in that order', async () => {
    const expired = { month: 5, year: 2099 };
    await expectCode(() => checkCard(sampleCard({ pan: '4111111111111112', expiry: expired }), { nowMs, binRanges: [] }), 'card_invalid');
    await expectCode(() => checkCard(sampleCard({ pan: '٤١١١١١١١١١١١١١١١' }), { nowMs }), 'card_invalid');
    await expectCode(() => checkCard(sampleCard({ expiry: { month: 13, year: 2101 } }), { nowMs }), 'card_invalid');
    await expectCode(() => checkCard(sampleCard({ expiry: { month: 0, year: 2101 } }), { nowMs }), 'card_invalid');
    await expectCode(() => checkCard(sampleCard({ expiry: { month: 6.5, year: 2101 } }), { nowMs }), 'card_invalid');
    await expectCode(() => checkCard(sampleCard({ pan: OTHER_PAN, expiry: expired }), { nowMs, binRanges }), 'card_expired');
    await expectCode(() => checkCard(sampleCard({ pan: OTHER_PAN }), { nowMs, binRanges }), 'card_not_eligible');
    await expectCode(() => checkCard(sampleCard(), { nowMs, binRanges: [] }), 'card_not_eligible');
  });

  it('throws CardErrors that never hold the PAN', async () => {
    for (const card of [sampleCard({ pan: '4111111111111112' }), sampleCard({ pan: OTHER_PAN })]) {
      try {
        checkCard(card, { nowMs, binRanges });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(CardError);
        expect(await exposedText(error)).not.toContain(card.pan);
      }
    }
  });
});
