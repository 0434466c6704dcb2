import { describe, expect, it } from 'vitest';
import {
  PROTOCOL_VERSION,
  ProvisioningError,
  SchemaError,
  parseAccessData,
  parseAppMessage,
  parseIdentifiers,
  parseInvocation,
  parseProblemDetails,
  parseProvisioningRequestMessage,
  parseProvisioningResponse,
  parseRequestClaims,
  parseResult,
  parseSubmission,
  zDisplayText,
  zHttpsUrl,
  zInvocation,
} from '../src/index.js';
import { parseWith } from '../src/internal.js';
import { PAN, exposedText } from './helpers/fixture.js';
import {
  MESSAGE_CASES,
  SAMPLE_EC_JWK,
  SAMPLE_JWE,
  sampleAccessData,
  sampleClaims,
  sampleIdentifiersMessage,
  sampleInvocation,
  sampleProblem,
  sampleRequestMessage,
  sampleResponse,
  sampleResult,
  sampleSubmission,
} from './helpers/samples.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

/** Sets a (dotted) path on a deep copy of `value`. */
function withPath(value: Record<string, unknown>, path: string, replacement: unknown): Record<string, unknown> {
  const copy = structuredClone(value);
  const keys = path.split('.');
  let target = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (replacement === undefined) delete target[last];
  else target[last] = replacement;
  return copy;
}

const claimsWithCard = (path: string, value: unknown) => withPath(sampleClaims() as unknown as Record<string, unknown>, path, value);

describe.each(MESSAGE_CASES)('$name', ({ name, schema, parse, sample, schemaCode, versioned, maxLength }) => {
  it('accepts the valid sample as a value and as JSON text', () => {
    expect(parse(sample())).toEqual(sample());
    expect(parse(JSON.stringify(sample()))).toEqual(sample());
  });

  it('refuses an unknown top-level field', () => {
    const code = codeOf(() => parse({ ...sample(), extra: 1 }));
    // problem details allow extension members (RFC 9457 §3.2); nothing else does
    expect(code).toBe(name === 'problem-details' ? undefined : schemaCode);
  });

  it('refuses the sample without any one of its required fields', () => {
    const shape = schema._zod.def.shape as Record<string, { _zod: { optin?: string } }>;
    const required = Object.keys(shape).filter((key) => shape[key]!._zod.optin !== 'optional');
    expect(required.length).toBeGreaterThan(2);
    for (const key of required) {
      const copy = sample();
      delete copy[key];
      expect(codeOf(() => parse(copy)), key).toBe(schemaCode);
    }
  });

  if (versioned) it('refuses any other version with unsupported_version', () => {
    for (const version of [2, 0, '1', 1.0000001, null, -1, PROTOCOL_VERSION + 1]) {
      expect(codeOf(() => parse({ ...sample(), version })), String(version)).toBe('unsupported_version');
      expect(codeOf(() => parse(JSON.stringify({ ...sample(), version }))), String(version)).toBe('unsupported_version');
    }
    // the version is checked before anything else
    expect(codeOf(() => parse({ version: 2, junk: true }))).toBe('unsupported_version');
  });

  if (versioned) it('refuses a missing version', () => {
    const copy = sample();
    delete copy.version;
    expect(codeOf(() => parse(copy))).toBe(schemaCode);
  });

  it('refuses duplicate keys and __proto__ keys in JSON text', () => {
    const text = JSON.stringify(sample());
    const firstKey = Object.keys(sample())[0]!;
    const duplicated = `{${JSON.stringify(firstKey)}:${JSON.stringify(sample()[firstKey])},${text.slice(1)}`;
    expect(codeOf(() => parse(duplicated))).toBe('invalid_json');
    expect(codeOf(() => parse(`{"__proto__":{"admin":true},${text.slice(1)}`))).toBe('invalid_json');
    expect(codeOf(() => parse(`{"constructor":{},${text.slice(1)}`))).toBe('invalid_json');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses an own __proto__ member of a value', () => {
    const value = JSON.parse(`{"__proto__":{"admin":true},${JSON.stringify(sample()).slice(1)}`) as unknown;
    expect(codeOf(() => parse(value))).toBeDefined();
  });

  it('refuses JSON text longer than its limit with payload_too_large, and accepts it at the limit', () => {
    const text = JSON.stringify(sample());
    const padded = text + ' '.repeat(maxLength - text.length);
    expect(padded).toHaveLength(maxLength);
    expect(parse(padded)).toEqual(sample());
    expect(codeOf(() => parse(`${padded} `))).toBe('payload_too_large');
  });

  it('refuses input that is not an object', () => {
    for (const input of [null, undefined, 1, true, [], [sample()], 'not json', '[]', '"text"', '1']) {
      const code = codeOf(() => parse(input));
      expect(['invalid_json', schemaCode]).toContain(code);
    }
  });
});

describe('invocation', () => {
  it.each([
    ['sessionId too short', 'sessionId', 'abc'],
    ['sessionId too long', 'sessionId', 'A'.repeat(129)],
    ['sessionId not base64url', 'sessionId', `${'A'.repeat(21)}+`],
    ['issuerId upper case', 'issuerId', 'Bank-A'],
    ['issuerId too long', 'issuerId', 'a'.repeat(65)],
    ['last4 with 5 digits', 'account.last4', '11111'],
    ['last4 Arabic-Indic', 'account.last4', '١١١١'],
    ['last4 of a full PAN', 'account.last4', PAN],
    ['unknown network', 'account.network', 'diners'],
    ['unknown member in account', 'account.pan', PAN],
    ['replyTo over http', 'replyTo', 'http://bank.example/return'],
    ['replyTo javascript:', 'replyTo', 'javascript:alert(1)'],
    ['replyTo with credentials', 'replyTo', 'https://user:pw@bank.example/'],
    ['replyTo too long', 'replyTo', `https://bank.example/${'a'.repeat(2048)}`],
    ['iat not an integer', 'iat', 1.5],
    ['iat negative', 'iat', -1],
    ['exp as a string', 'exp', '4086000000'],
    ['signature not a JWS', 'signature', 'a.b'],
    ['wrong type', 'type', 'identifiers'],
  ])('refuses %s', (_name, path, value) => {
    expect(codeOf(() => parseInvocation(withPath(sampleInvocation(), path, value)))).toBe('invalid_message');
  });

  it('accepts loopback http replyTo addresses', () => {
    for (const replyTo of ['http://127.0.0.1:8080/r', 'http://localhost/r', 'http://[::1]:3000/r']) {
      expect(parseInvocation({ ...sampleInvocation(), replyTo }).replyTo).toBe(replyTo);
    }
  });
});

describe('display names', () => {
  const name = (value: unknown) => codeOf(() => parseRequestClaims(claimsWithCard('card.cardholderName', value)));

  it.each([
    ['Zoë Ångström'],
    ['محمد علي'],
    ['山田 太郎'],
    ['José Ñúñez-O’Brien'],
    ['Ada'],
    ['می\u200cخواهم (Persian, with a zero-width non-joiner)'],
  ])('accepts %s', (value) => {
    expect(name(value)).toBeUndefined();
  });

  it.each([
    ['NUL', 'Ada\u0000Lovelace'],
    ['BEL', 'Ada\u0007'.concat('x')],
    ['newline', 'Ada\nLovelace'],
    ['tab', 'Ada\tLovelace'],
    ['DEL', 'Ada\u007fLovelace'],
    ['C1 NEL', 'Ada\u0085Lovelace'],
    ['RLO override', 'Ada \u202eecalevol'],
    ['LRI isolate', 'Ada \u2066x\u2069'],
    ['RLM mark', 'Ada\u200f'.concat('x')],
    ['Arabic letter mark', 'Ada\u061cx'],
    ['line separator', 'Ada\u2028Lovelace'],
    ['zero-width space', 'Ada\u200bLovelace'],
    ['soft hyphen', 'Ada\u00adLovelace'],
    ['word joiner', 'Ada\u2060Lovelace'],
    ['byte-order mark', 'Ada\ufeffLovelace'],
    ['decomposed (NFD) accent', 'Zoe\u0308'],
    ['decomposed Å', 'A\u030angström'],
    ['lone high surrogate', 'Ada\ud800'],
    ['lone low surrogate', '\udc00Ada'],
    ['leading space', ' Ada'],
    ['trailing space', 'Ada '],
    ['empty', ''],
    ['65 characters', 'a'.repeat(65)],
    ['a number', 42],
  ])('refuses %s', (_label, value) => {
    expect(name(value)).toBe('invalid_claims');
  });

  it('applies the same rules to invocation product names', () => {
    expect(codeOf(() => parseInvocation(withPath(sampleInvocation(), 'account.productName', 'Card\u202e')))).toBe('invalid_message');
    expect(codeOf(() => parseInvocation(withPath(sampleInvocation(), 'account.issuerName', 'Bänk'.normalize('NFD'))))).toBe('invalid_message');
  });

  it('refuses them through zDisplayText directly', () => {
    expect(zDisplayText(10).safeParse('ok').success).toBe(true);
    expect(zDisplayText(10).safeParse('x'.repeat(11)).success).toBe(false);
  });
});

describe('request claims: the card', () => {
  const panCode = (pan: unknown) => codeOf(() => parseRequestClaims(claimsWithCard('card.pan', pan)));

  it.each([
    ['Arabic-Indic digits', '٤١١١١١١١١١١١١١١١'],
    ['Extended Arabic-Indic digits', '۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱'],
    ['fullwidth digits', '４１１１１１１１１１１１１１１１'],
    ['Devanagari digits', '४१११११११११११११११'],
    ['mixed scripts', '411111111111111١'],
    ['spaces', '4111 1111 1111 1111'],
    ['dashes', '4111-1111-1111-1111'],
    ['a leading plus', '+411111111111111'],
    ['bad Luhn', '4111111111111112'],
    ['11 digits', '41111111113'],
    ['20 digits', '41111111111111111113'],
    ['empty', ''],
    ['a trailing newline', `${PAN}\n`],
  ])('refuses a PAN with %s as card_invalid', (_label, pan) => {
    expect(panCode(pan)).toBe('card_invalid');
  });

  it('refuses a PAN that is not a string as invalid_claims', () => {
    expect(panCode(4111111111111111)).toBe('invalid_claims');
    expect(panCode(null)).toBe('invalid_claims');
  });

  it('accepts 12 to 19 digit Luhn-valid PANs', () => {
    for (const pan of ['378282246310005', '4000000000000000006', '5555555555554444', '123456789007']) {
      expect(panCode(pan), pan).toBeUndefined();
    }
  });

  it.each([
    ['month 0', { month: 0, year: 2101 }],
    ['month 13', { month: 13, year: 2101 }],
    ['month 1.5', { month: 1.5, year: 2101 }],
    ['month -1', { month: -1, year: 2101 }],
    ['two-digit year', { month: 1, year: 99 }],
    ['year 1999', { month: 1, year: 1999 }],
    ['year 2200', { month: 1, year: 2200 }],
  ])('refuses an expiry with %s as card_invalid', (_label, expiry) => {
    expect(codeOf(() => parseRequestClaims(claimsWithCard('card.expiry', expiry)))).toBe('card_invalid');
  });

  it('refuses a malformed expiry object as invalid_claims', () => {
    for (const expiry of [{ month: '12', year: 2101 }, { month: 12 }, { month: 12, year: 2101, day: 1 }, '12/29', null]) {
      expect(codeOf(() => parseRequestClaims(claimsWithCard('card.expiry', expiry))), JSON.stringify(expiry)).toBe('invalid_claims');
    }
  });

  it('refuses a card and an account reference together, or neither', () => {
    expect(codeOf(() => parseRequestClaims({ ...sampleClaims(), accountRef: 'acct-1' }))).toBe('invalid_claims');
    const neither = { ...sampleClaims() } as Record<string, unknown>;
    delete neither.card;
    expect(codeOf(() => parseRequestClaims(neither))).toBe('invalid_claims');
    expect(parseRequestClaims({ ...neither, accountRef: 'acct-1' })).toMatchObject({ accountRef: 'acct-1' });
  });

  it.each([
    ['an unknown card member', 'card.cvv', '123'],
    ['an unknown billing address member', 'card.billingAddress.state', 'CA'],
    ['a lower-case country', 'card.billingAddress.country', 'gb'],
    ['a control character in the address', 'card.billingAddress.line1', '1 Main\u0000Street'],
    ['an oversize postal code', 'card.billingAddress.postalCode', '1'.repeat(17)],
    ['an unknown claim', 'nbf', 1],
    ['iat as a float', 'iat', 1.25],
    ['exp past the year 3000', 'exp', 32503680001],
    ['a non-https card art URL', 'cardArtUrl', 'http://cdn.example/art.png'],
    ['a wallet account id with a space', 'walletAccountId', 'user 42'],
    ['a device id of 129 characters', 'deviceId', 'd'.repeat(129)],
  ])('refuses %s as invalid_claims', (_label, path, value) => {
    expect(codeOf(() => parseRequestClaims(claimsWithCard(path, value)))).toBe('invalid_claims');
  });

  it('never echoes the PAN it refuses', async () => {
    for (const pan of ['4111111111111112', '٤١١١١١١١١١١١١١١١', '４１１１１１１１１１１１１１１１', `${PAN}0`, PAN.slice(0, 11)]) {
      let caught: unknown;
      try {
        parseRequestClaims(JSON.stringify(claimsWithCard('card.pan', pan)));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ProvisioningError);
      expect(await exposedText(caught)).not.toContain(pan);
    }
  });

  it('never echoes a PAN smuggled into a field name', async () => {
    for (const key of [PAN, `${PAN}1234`, '４１１１１１１１１１１１１１１１']) {
      let caught: unknown;
      try {
        parseInvocation(JSON.stringify({ ...sampleInvocation(), [key]: 1 }));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SchemaError);
      expect(await exposedText(caught)).not.toContain(key);
    }
  });
});

describe('identifiers and submission', () => {
  it('refuses a device key with private or foreign members', () => {
    for (const key of [
      { ...SAMPLE_EC_JWK, d: 'd'.repeat(43) },
      { ...SAMPLE_EC_JWK, crv: 'P-384' },
      { ...SAMPLE_EC_JWK, kty: 'OKP' },
      { ...SAMPLE_EC_JWK, x: 'x'.repeat(42) },
      { ...SAMPLE_EC_JWK, alg: 'ES256' },
      { ...SAMPLE_EC_JWK, use: 'sig' },
      { ...SAMPLE_EC_JWK, x5u: 'https://evil.example/' },
    ]) {
      expect(codeOf(() => parseIdentifiers({ ...sampleIdentifiersMessage(), devicePublicKey: key }))).toBe('invalid_message');
    }
  });

  it('takes no wallet provider id in a submission body: it comes from the caller', () => {
    expect(codeOf(() => parseSubmission({ ...sampleSubmission(), walletProviderId: 'wallet-co' }))).toBe('invalid_message');
  });

  it('refuses a JSON-serialised JWE, a JWS or an oversize JWE as the encrypted request of a provisioning request message', () => {
    const json = JSON.stringify({ protected: 'e30', encrypted_key: 'a', iv: 'b', ciphertext: 'c', tag: 'd' });
    for (const encryptedRequest of [json, 'a.b.c', `${SAMPLE_JWE}.x`, SAMPLE_JWE.replace('.', '..'), `${SAMPLE_JWE} `, `a.b.c.d.${'e'.repeat(16_384)}`]) {
      expect(codeOf(() => parseProvisioningRequestMessage({ ...sampleRequestMessage(), encryptedRequest }))).toBe('invalid_message');
    }
  });

  it('leaves the encrypted request of a submission to the token service step 4 (jwe_header_rejected), not the body schema', () => {
    const json = JSON.stringify({ protected: 'e30', encrypted_key: 'a', iv: 'b', ciphertext: 'c', tag: 'd' });
    for (const encryptedRequest of [json, 'a.b.c', '', `a.b.c.d.${'e'.repeat(16_384)}`]) {
      expect(parseSubmission({ ...sampleSubmission(), encryptedRequest }).encryptedRequest).toBe(encryptedRequest);
    }
    expect(codeOf(() => parseSubmission({ ...sampleSubmission(), encryptedRequest: 42 }))).toBe('invalid_message');
  });
});

describe('results, responses and problems', () => {
  it('refuses a result with an unknown status or error code', () => {
    const { tokenReferenceId: _issued, ...failed } = { ...sampleResult(), status: 'failed' as const };
    expect(codeOf(() => parseResult({ ...sampleResult(), status: 'done' }))).toBe('invalid_message');
    expect(codeOf(() => parseResult({ ...failed, errorCode: 'nope' }))).toBe('invalid_message');
    expect(codeOf(() => parseResult({ ...failed, errorCode: 'toString' }))).toBe('invalid_message');
    expect(parseResult({ ...failed, errorCode: 'device_mismatch' }).errorCode).toBe('device_mismatch');
  });

  it('ties tokenReferenceId to the statuses that issued a token, and errorCode to the others', () => {
    const { tokenReferenceId: _issued, ...bare } = sampleResult();
    for (const status of ['provisioned', 'pending_activation'] as const) {
      expect(parseResult({ ...bare, status, tokenReferenceId: 'tok_1' }).tokenReferenceId).toBe('tok_1');
      expect(codeOf(() => parseResult({ ...bare, status }))).toBe('invalid_message');
      expect(codeOf(() => parseResult({ ...bare, status, tokenReferenceId: 'tok_1', errorCode: 'internal_error' }))).toBe('invalid_message');
    }
    for (const status of ['declined', 'failed', 'cancelled'] as const) {
      expect(parseResult({ ...bare, status }).status).toBe(status);
      expect(parseResult({ ...bare, status, errorCode: 'declined' }).errorCode).toBe('declined');
      expect(codeOf(() => parseResult({ ...bare, status, tokenReferenceId: 'tok_1' }))).toBe('invalid_message');
    }
  });

  it('requires exactly one of accessData and encryptedAccessData', () => {
    const both = { ...sampleResponse(), encryptedAccessData: SAMPLE_JWE };
    expect(codeOf(() => parseProvisioningResponse(both))).toBe('invalid_message');
    const neither = { ...sampleResponse() } as Record<string, unknown>;
    delete neither.accessData;
    expect(codeOf(() => parseProvisioningResponse(neither))).toBe('invalid_message');
    expect(parseProvisioningResponse({ ...neither, encryptedAccessData: SAMPLE_JWE }).encryptedAccessData).toBe(SAMPLE_JWE);
  });

  it('refuses access data whose token number is not a Luhn-valid number', () => {
    const { tokenNumber } = sampleAccessData();
    const wrongCheckDigit = tokenNumber.slice(0, -1) + String((Number(tokenNumber.slice(-1)) + 1) % 10);
    expect(codeOf(() => parseAccessData({ ...sampleAccessData(), tokenNumber: wrongCheckDigit }))).toBe('card_invalid');
    expect(codeOf(() => parseAccessData({ ...sampleAccessData(), status: 'suspended' }))).toBe('invalid_message');
  });

  it('accepts problem extension members and refuses unknown codes and bad statuses', () => {
    expect(parseProblemDetails({ ...sampleProblem(), traceId: 'abc' })).toMatchObject({ code: 'device_mismatch' });
    expect(codeOf(() => parseProblemDetails({ ...sampleProblem(), code: 'teapot' }))).toBe('invalid_message');
    expect(codeOf(() => parseProblemDetails({ ...sampleProblem(), status: 200 }))).toBe('invalid_message');
    expect(codeOf(() => parseProblemDetails({ ...sampleProblem(), status: 600 }))).toBe('invalid_message');
    expect(codeOf(() => parseProblemDetails({ ...sampleProblem(), retryable: 'no' }))).toBe('invalid_message');
    expect(codeOf(() => parseProblemDetails({ ...sampleProblem(), detail: 'x'.repeat(1025) }))).toBe('invalid_message');
  });
});

describe('app messages', () => {
  it('dispatches on type and refuses unknown types', () => {
    expect(parseAppMessage(sampleResult()).type).toBe('result');
    expect(parseAppMessage(sampleIdentifiersMessage()).type).toBe('identifiers');
    expect(codeOf(() => parseAppMessage({ ...sampleResult(), type: 'submission' }))).toBe('invalid_message');
    expect(codeOf(() => parseAppMessage({ ...sampleResult(), type: undefined }))).toBe('invalid_message');
  });

  it('holds JSON text to the limit of the message type it turns out to be', () => {
    // Whitespace is legal JSON: pad each message to just above its own limit.
    const padded = (message: object, length: number) => {
      const text = JSON.stringify(message);
      return `${text.slice(0, -1)}${' '.repeat(length - text.length)}}`;
    };
    expect(parseAppMessage(padded(sampleIdentifiersMessage(), 8192)).type).toBe('identifiers');
    expect(codeOf(() => parseAppMessage(padded(sampleIdentifiersMessage(), 8193)))).toBe('payload_too_large');
    expect(codeOf(() => parseAppMessage(padded(sampleInvocation(), 8193)))).toBe('payload_too_large');
    expect(codeOf(() => parseAppMessage(padded(sampleResult(), 4097)))).toBe('payload_too_large');
    expect(parseAppMessage(padded(sampleResult(), 4096)).type).toBe('result');
  });
});

describe('parseWith', () => {
  it('uses the given code and name, and lists issue paths without values', () => {
    let caught: ProvisioningError | undefined;
    try {
      parseWith(zInvocation, { ...sampleInvocation(), sessionId: PAN }, { name: 'thing', code: 'invalid_claims' });
    } catch (error) {
      caught = error as ProvisioningError;
    }
    expect(caught?.code).toBe('invalid_claims');
    expect(caught?.message).toMatch(/^Invalid thing: sessionId: /);
    expect(caught?.details?.issues).toEqual([expect.stringMatching(/^sessionId: /)]);
    expect(caught?.message).not.toContain(PAN);
  });

  it('checks https URLs with zHttpsUrl', () => {
    expect(zHttpsUrl.safeParse('https://a.example/x?y#z').success).toBe(true);
    for (const url of ['ftp://a.example/', 'http://a.example/', 'https://u@a.example/', 'not a url', 'data:text/html,x', 'http://127.0.0.2/']) {
      expect(zHttpsUrl.safeParse(url).success, url).toBe(false);
    }
  });
});
