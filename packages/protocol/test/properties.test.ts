import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  ProvisioningError,
  SchemaError,
  createError,
  decodeMessageUrl,
  decryptAccessData,
  luhnCheckDigit,
  openProvisioningRequest,
  parseRequestClaims,
  parseStrictJson,
  redactPans,
  toBase64Url,
} from '../src/index.js';
import { b64uJson, replaceSegment } from '../scripts/lib/jose-craft.js';
import { type Fixture, createFixture, exposedText } from './helpers/fixture.js';
import { MESSAGE_CASES, sampleClaims } from './helpers/samples.js';

/** Runs `fn` and fails the property when it throws anything but a ProvisioningError. */
function onlyProvisioningErrors(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (error instanceof ProvisioningError) return true;
    throw error;
  }
}

async function onlyProvisioningErrorsAsync(fn: () => Promise<unknown>): Promise<'ok' | string> {
  try {
    await fn();
    return 'ok';
  } catch (error) {
    if (error instanceof ProvisioningError) return error.code;
    throw error;
  }
}

/** A random edit of a string: replace, insert or delete one character, or cut it. */
const mutation = (text: string) =>
  fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(text.length - 1), char: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(text.length), char: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(text.length - 1), char: fc.constant('') }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(text.length - 1), char: fc.constant('') }),
  );

function applyMutation(text: string, m: { kind: string; at: number; char: string }): string {
  switch (m.kind) {
    case 'replace':
      return text.slice(0, m.at) + m.char + text.slice(m.at + 1);
    case 'insert':
      return text.slice(0, m.at) + m.char + text.slice(m.at);
    case 'delete':
      return text.slice(0, m.at) + text.slice(m.at + 1);
    default:
      return text.slice(0, m.at);
  }
}

const mutatedText = (text: string) => fc.array(mutation(text), { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce(applyMutation, text));

/** A Luhn-valid PAN of 12 to 19 ASCII digits. */
const panArb = fc
  .integer({ min: 11, max: 18 })
  .chain((n) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n }))
  .map((partial) => partial + luhnCheckDigit(partial));

describe('parseStrictJson properties', () => {
  it('only ever returns a value or throws a SchemaError, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        try {
          parseStrictJson(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SchemaError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only what JSON.parse accepts, with the same meaning', () => {
    const jsonish = fc.oneof(fc.json({ maxDepth: 4 }).chain(mutatedText), fc.json({ maxDepth: 4 }));
    fc.assert(
      fc.property(jsonish, (text) => {
        let strict: unknown;
        try {
          strict = parseStrictJson(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SchemaError);
          return;
        }
        expect(strict).toEqual(JSON.parse(text));
      }),
      { numRuns: 1500 },
    );
  });

  it('parses every JSON document without duplicate or forbidden keys like JSON.parse', () => {
    const safe = fc.jsonValue({ maxDepth: 6 }).filter((value) => !/"(?:__proto__|constructor|prototype)":/.test(JSON.stringify(value)));
    fc.assert(
      fc.property(safe, (value) => {
        const text = JSON.stringify(value);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('message parsers never throw anything but ProvisioningError', () => {
  it.each(MESSAGE_CASES)('$name: arbitrary values', ({ parse }) => {
    fc.assert(fc.property(fc.anything({ maxDepth: 3 }), (value) => onlyProvisioningErrors(() => parse(value))), { numRuns: 300 });
  });

  it.each(MESSAGE_CASES)('$name: mutated JSON text of a valid message', ({ parse, sample }) => {
    fc.assert(fc.property(mutatedText(JSON.stringify(sample())), (text) => onlyProvisioningErrors(() => parse(text))), { numRuns: 300 });
  });

  it.each(MESSAGE_CASES)('$name: valid shape with arbitrary field values', ({ parse, sample }) => {
    const fields = Object.fromEntries(Object.keys(sample()).map((key) => [key, fc.oneof(fc.constant(sample()[key]), fc.anything({ maxDepth: 2 }))]));
    fc.assert(fc.property(fc.record(fields), (value) => onlyProvisioningErrors(() => parse(value))), { numRuns: 300 });
  });
});

describe('card numbers', () => {
  it('a PAN with any non-ASCII digit is card_invalid, and never echoed', () => {
    const scripts = ['٠١٢٣٤٥٦٧٨٩', '۰۱۲۳۴۵۶۷۸۹', '０１２３４５６７８９', '०१२३४५६७८९', '০১২৩৪৫৬৭৮৯', '๐๑๒๓๔๕๖๗๘๙'];
    fc.assert(
      fc.property(panArb, fc.constantFrom(...scripts), fc.nat(), (pan, digits, position) => {
        const at = position % pan.length;
        const foreign = pan.slice(0, at) + digits[Number(pan[at])]! + pan.slice(at + 1);
        try {
          parseRequestClaims(JSON.stringify({ ...sampleClaims(), card: { ...sampleClaims().card, pan: foreign } }));
          return false;
        } catch (error) {
          expect(error).toMatchObject({ code: 'card_invalid' });
          expect(String(error) + JSON.stringify(error)).not.toContain(foreign);
          return true;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('redactPans leaves no run of 12 or more digits, so no PAN survives', () => {
    const noise = fc.string({ unit: fc.constantFrom(...'ab -:/.0123456789٤４'), maxLength: 30 });
    fc.assert(
      fc.property(panArb, noise, noise, (pan, before, after) => {
        const out = redactPans(`${before}${pan}${after}`);
        expect(out).not.toContain(pan);
        expect(out).not.toMatch(/\p{Nd}(?:[ -]?\p{Nd}){11}/u);
      }),
      { numRuns: 2000 },
    );
  });

  it('no error of any code shows a PAN put in its message or details', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ERROR_CODES), panArb, fc.string({ maxLength: 20 }), async (code, pan, text) => {
        const error = createError(code, `${text}${pan}${text}`, { details: { value: pan, list: [text, pan] }, cause: new Error(pan) });
        expect(await exposedText(error)).not.toContain(pan);
      }),
      { numRuns: 300 },
    );
  });
});

describe('URL decoding', () => {
  const WALLET = 'https://wallet.example/push';

  it('turns any string into a message or a ProvisioningError', () => {
    const urls = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.string({ unit: 'binary-ascii', maxLength: 100 }).map((s) => `${WALLET}#${s}`),
      fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_=&p'), maxLength: 200 }).map((s) => `${WALLET}#pp=${s}`),
      fc.json({ maxDepth: 3 }).map((json) => `${WALLET}#pp=${toBase64Url(new TextEncoder().encode(json))}`),
    );
    fc.assert(fc.property(urls, (url) => onlyProvisioningErrors(() => decodeMessageUrl(url, { allowedUrls: [WALLET] }))), { numRuns: 1500 });
  });
});

describe('JOSE inputs', () => {
  let f: Fixture;
  let jwe: string;

  beforeAll(async () => {
    f = await createFixture();
    jwe = await f.seal();
  });

  it('a mutated request is refused with a ProvisioningError, never opened', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedText(jwe), async (mutated) => {
        fc.pre(mutated !== jwe);
        const code = await onlyProvisioningErrorsAsync(() => openProvisioningRequest(mutated, f.options));
        expect(code).not.toBe('ok');
      }),
      { numRuns: 250 },
    );
  });

  it('a request with any protected header but the real one is refused', async () => {
    const header = fc.dictionary(
      fc.constantFrom('alg', 'enc', 'kid', 'cty', 'epk', 'zip', 'crit', 'jku', 'jwk', 'x5u', 'typ', 'p2c'),
      fc.oneof(fc.constantFrom('ECDH-ES+A256KW', 'A256GCM', 'ts-1', 'JWT', 'DEF'), fc.jsonValue({ maxDepth: 2 })),
      { maxKeys: 8 },
    );
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const code = await onlyProvisioningErrorsAsync(() => openProvisioningRequest(replaceSegment(jwe, 0, b64uJson(h)), f.options));
        expect(code).not.toBe('ok');
      }),
      { numRuns: 250 },
    );
  });

  it('access data decryption turns any string into a ProvisioningError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mutatedText(jwe)), async (text) => {
        expect(await onlyProvisioningErrorsAsync(() => decryptAccessData(text, f.service.privateJwk))).not.toBe('ok');
      }),
      { numRuns: 250 },
    );
  });
});
