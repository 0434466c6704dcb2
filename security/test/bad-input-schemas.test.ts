// Bad input, schema layer, end to end over loopback HTTP with SQLite: the
// submission body (clear) and the signed claims (inside the JWE), bent one
// way at a time. Each must be refused with its exact code, every table
// unchanged, no canary in the answer or the logs.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type ErrorCode, type RequestClaims, toBase64Url } from '@pushprov/protocol';
import { CANARY_PAN } from '../src/canary.js';
import { expectRefused } from '../src/expectations.js';
import { type Harness, startHarness } from '../src/harness.js';
import { postSubmission } from '../src/http.js';
import { offCurvePoint } from '../src/jose-craft.js';
import { type BuildRequestOptions, CANARY_CARD, type Sandbox, buildRequest, createSandbox } from '../src/sandbox.js';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

/** Builds a request bent by `options` and asserts its refusal with `code`. */
async function refuse(code: ErrorCode, options: BuildRequestOptions) {
  const { body } = await buildRequest(sb, options);
  await expectRefused(h, () => postSubmission(h.url, typeof body === 'string' ? body : JSON.stringify(body)), code);
}

/** Bends the card inside the signed claims. */
const card = (change: (card: Record<string, unknown>) => Record<string, unknown>) => ({
  claims: (claims: RequestClaims) => ({ ...claims, card: change({ ...CANARY_CARD, expiry: { ...CANARY_CARD.expiry } }) }),
});

/** The submission JSON text, changed textually. */
const text = (change: (json: string) => string) => ({ submission: (s: object) => change(JSON.stringify(s)) });

describe('the submission body (clear)', () => {
  it('an unknown member naming the wallet provider (it must come from authentication): invalid_message', async () => {
    await refuse('invalid_message', { submission: (s) => ({ ...s, walletProviderId: 'wallet-rival' }) });
  });

  it('a message of another type posted as a submission: invalid_message', async () => {
    await refuse('invalid_message', { submission: (s) => ({ ...s, type: 'identifiers' }) });
  });

  it('version "1" as a string: unsupported_version', async () => {
    await refuse('unsupported_version', { submission: (s) => ({ ...s, version: '1' }) });
  });

  it('a wallet account id with fullwidth digits: invalid_message', async () => {
    await refuse('invalid_message', { submission: (s) => ({ ...s, walletAccountId: 'user-７' }) });
  });

  it('a device id with a Cyrillic lookalike letter: invalid_message', async () => {
    await refuse('invalid_message', { submission: (s) => ({ ...s, deviceId: s.deviceId.replace('e', 'е') }) });
  });

  it('a device id with a trailing space: invalid_message', async () => {
    await refuse('invalid_message', { submission: (s) => ({ ...s, deviceId: `${s.deviceId} ` }) });
  });

  it('the same member twice, once spelled with an escape ("nonce" and "\\u006eonce"): invalid_json', async () => {
    await refuse('invalid_json', text((json) => json.replace('{', `{"\\u006eonce":"${toBase64Url(new Uint8Array(16).fill(3))}",`)));
  });

  it('a "__proto__" member: invalid_json', async () => {
    await refuse('invalid_json', text((json) => json.replace('{', '{"__proto__":{"isAdmin":true},')));
  });

  it('a "constructor" member inside the device key: invalid_json', async () => {
    await refuse(
      'invalid_json',
      text((json) => json.replace(/}$/, ',"devicePublicKey":{"kty":"EC","crv":"P-256","constructor":{"prototype":{}}}}')),
    );
  });

  it('nesting 40 levels deep: invalid_json', async () => {
    await refuse('invalid_json', text((json) => json.replace(/}$/, `,"x":${'['.repeat(40)}${']'.repeat(40)}}`)));
  });

  it('an escaped lone surrogate in a string: invalid_json', async () => {
    await refuse('invalid_json', text((json) => json.replace(/"deviceId":"/, '"deviceId":"\\ud800')));
  });

  it('a byte-order mark before the JSON: invalid_json', async () => {
    await refuse('invalid_json', text((json) => `\ufeff${json}`));
  });

  it('a trailing comma: invalid_json', async () => {
    await refuse('invalid_json', text((json) => json.replace(/}$/, ',}')));
  });

  it('a JSON array holding the submission: invalid_message', async () => {
    await refuse('invalid_message', text((json) => `[${json}]`));
  });

  it('a device key with a private member (d): invalid_message', async () => {
    await refuse('invalid_message', {
      submission: (s) => ({ ...s, devicePublicKey: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43), d: 'A'.repeat(43) } }),
    });
  });

  it('a device key whose point is not on P-256 (no access data could be encrypted to it): invalid_message', async () => {
    await refuse('invalid_message', { devicePublicKey: { kty: 'EC', crv: 'P-256', ...offCurvePoint() } });
  });

  it('the canary PAN smuggled into the clear session id is refused without being echoed: session_mismatch', async () => {
    await refuse('session_mismatch', { submission: (s) => ({ ...s, sessionId: `AAAAAAAA${CANARY_PAN}` }) });
  });
});

describe('the signed claims (inside the JWE)', () => {
  it('an unknown claim: invalid_claims', async () => {
    await refuse('invalid_claims', { claims: (c) => ({ ...c, scope: 'admin' }) });
  });

  it('both a card and an account reference: invalid_claims', async () => {
    await refuse('invalid_claims', { claims: (c) => ({ ...c, accountRef: 'acct-1' }) });
  });

  it('the PAN in Arabic-Indic digits: card_invalid', async () => {
    const arabic = [...CANARY_PAN].map((d) => String.fromCharCode(0x0660 + Number(d))).join('');
    await refuse('card_invalid', card((c) => ({ ...c, pan: arabic })));
  });

  it('the PAN in fullwidth digits: card_invalid', async () => {
    const fullwidth = [...CANARY_PAN].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
    await refuse('card_invalid', card((c) => ({ ...c, pan: fullwidth })));
  });

  it('the PAN with its check digit off by one (bad Luhn): card_invalid', async () => {
    await refuse('card_invalid', card((c) => ({ ...c, pan: `${CANARY_PAN.slice(0, -1)}${(Number(CANARY_PAN.at(-1)) + 1) % 10}` })));
  });

  it('the PAN grouped with spaces: card_invalid', async () => {
    await refuse('card_invalid', card((c) => ({ ...c, pan: CANARY_PAN.replace(/(\d{4})(?=\d)/g, '$1 ') })));
  });

  it('a Luhn-valid PAN of 20 digits: card_invalid', async () => {
    await refuse('card_invalid', card((c) => ({ ...c, pan: `${CANARY_PAN}0008` })));
  });

  it('expiry month 13: card_invalid', async () => {
    await refuse('card_invalid', card((c) => ({ ...c, expiry: { month: 13, year: 2031 } })));
  });

  it('expiry month 0: card_invalid', async () => {
    await refuse('card_invalid', card((c) => ({ ...c, expiry: { month: 0, year: 2031 } })));
  });

  it('a two-digit expiry year: card_invalid', async () => {
    await refuse('card_invalid', card((c) => ({ ...c, expiry: { month: 12, year: 31 } })));
  });

  it('a fractional expiry month: card_invalid', async () => {
    await refuse('card_invalid', card((c) => ({ ...c, expiry: { month: 6.5, year: 2031 } })));
  });

  it('a cardholder name with a control character (BEL): invalid_claims', async () => {
    await refuse('invalid_claims', card((c) => ({ ...c, cardholderName: 'Grace\u0007Hopper' })));
  });

  it('a cardholder name with a right-to-left override: invalid_claims', async () => {
    await refuse('invalid_claims', card((c) => ({ ...c, cardholderName: 'Grace \u202eHopper' })));
  });

  it('a cardholder name not in NFC (e + combining acute): invalid_claims', async () => {
    await refuse('invalid_claims', card((c) => ({ ...c, cardholderName: 'Rene\u0301e' })));
  });

  it('a claim repeated with another value (parser differential): unknown_issuer (the payload is not strict JSON, so no issuer is read)', async () => {
    await refuse('unknown_issuer', { claimsText: (c) => JSON.stringify(c).replace('{', '{"walletAccountId":"attacker",') });
  });

  it('a "__proto__" claim: unknown_issuer (the payload is not strict JSON)', async () => {
    await refuse('unknown_issuer', { claimsText: (c) => JSON.stringify(c).replace('{', '{"__proto__":{"walletAccountId":"attacker"},') });
  });

  it('a jti that is not a 128-bit random id: invalid_claims', async () => {
    await refuse('invalid_claims', { claims: (c) => ({ ...c, jti: '1' }) });
  });

  it('card art over plain http: invalid_claims', async () => {
    await refuse('invalid_claims', { claims: (c) => ({ ...c, cardArtUrl: 'http://cdn.evil.test/art.png' }) });
  });
});
