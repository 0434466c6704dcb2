// Fuzzing every parser of the protocol with fast-check: random text, random
// values, and mutations of valid messages (text edits and structural edits,
// with prototype keys, controls, bidi, lone surrogates, foreign digits and
// the canary PAN among the hostile strings). The only outcomes allowed are a
// value the schema accepts again, or a typed error with a catalog code that
// carries no canary. Seeded and bounded (see security/src/fuzz.ts).
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type AppMessage,
  URL_MESSAGE_PARAM,
  createNonce,
  decodeMessageUrl,
  generateEncryptionKey,
  luhnCheckDigit,
  parseAccessData,
  parseAppMessage,
  parseIdentifiers,
  parseInvocation,
  parseProblemDetails,
  parseProvisioningRequestMessage,
  parseProvisioningResponse,
  parsePublicJwks,
  parseRequestClaims,
  parseResult,
  parseStrictJson,
  parseSubmission,
  parseTokenQuery,
  parseTokenQueryResponse,
  parseTokenStatusResponse,
  toBase64Url,
  toPublicJwk,
} from '@pushprov/protocol';
import { CANARY_CARD, NOW_SECONDS, createIdentifiers } from '../src/sandbox.js';
import { fuzzParameters, guardUnhandled, hostileJson, hostileString, mutatedJson, mutatedText, typedOutcome } from '../src/fuzz.js';

// Bounded runs, each with its own time limit; the whole test may take longer on a busy CI machine.
vi.setConfig({ testTimeout: 90_000 });

const guard = guardUnhandled();
beforeAll(() => guard.install());
afterAll(() => {
  guard.uninstall();
  expect(guard.seen).toEqual([]);
});

const sessionId = createNonce();
const jwe = `${'e'.repeat(40)}.${'k'.repeat(54)}.${'i'.repeat(16)}.${'c'.repeat(300)}.${'t'.repeat(22)}`;
const identifiers = { ...createIdentifiers({ sessionId }) };
const accessData = {
  tokenReferenceId: 'tok_abc',
  tokenNumber: `489537000000000${luhnCheckDigit('489537000000000')}`,
  tokenExpiry: { month: 11, year: 2030 },
  status: 'active',
  panLast4: '8290',
  issuerId: 'bank-sec',
  network: 'visa',
  issuedAt: NOW_SECONDS,
};

/**
 * Every parser, with a valid sample of what it parses. `loose`: problem details allow unknown extension
 * members (RFC 9457) and unchecked text, so a value it accepts need not survive a strict JSON round trip.
 */
const PARSERS: Array<{ name: string; parse: (input: unknown) => unknown; sample: unknown; loose?: boolean }> = [
  {
    name: 'parseInvocation',
    parse: parseInvocation,
    sample: { type: 'invocation', version: 1, sessionId, issuerId: 'bank-sec', account: { last4: '8290', network: 'visa', issuerName: 'Bank' }, iat: NOW_SECONDS, exp: NOW_SECONDS + 300 },
  },
  { name: 'parseIdentifiers', parse: parseIdentifiers, sample: identifiers },
  { name: 'parseProvisioningRequestMessage', parse: parseProvisioningRequestMessage, sample: { type: 'provisioning-request', version: 1, sessionId, encryptedRequest: jwe } },
  { name: 'parseResult', parse: parseResult, sample: { type: 'result', version: 1, sessionId, status: 'declined', errorCode: 'declined' } },
  { name: 'parseAppMessage', parse: parseAppMessage, sample: { type: 'result', version: 1, sessionId, status: 'provisioned', tokenReferenceId: 'tok_1' } },
  {
    name: 'parseSubmission',
    parse: parseSubmission,
    sample: { type: 'submission', version: 1, sessionId, walletAccountId: 'user-7', deviceId: 'device-1', nonce: createNonce(), encryptedRequest: jwe },
  },
  {
    name: 'parseProvisioningResponse',
    parse: parseProvisioningResponse,
    sample: { type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_abc', status: 'active', accessData },
  },
  { name: 'parseAccessData', parse: parseAccessData, sample: accessData },
  {
    name: 'parseTokenStatusResponse',
    parse: parseTokenStatusResponse,
    sample: { type: 'token-status', version: 1, tokenReferenceId: 'tok_abc', status: 'active', tokenLast4: '0003', tokenExpiry: { month: 1, year: 2030 }, updatedAt: NOW_SECONDS },
  },
  {
    name: 'parseProblemDetails',
    parse: parseProblemDetails,
    sample: { type: 'https://pushprov.dev/problems/replayed', title: 'x', status: 409, code: 'replayed', retryable: false, requestId: 'req_1' },
    loose: true,
  },
  {
    name: 'parseRequestClaims',
    parse: parseRequestClaims,
    sample: {
      iss: 'bank-sec',
      aud: 'ts-security',
      iat: NOW_SECONDS,
      exp: NOW_SECONDS + 300,
      jti: createNonce(),
      sid: sessionId,
      walletProviderId: 'wallet-sec',
      walletAccountId: 'user-7',
      deviceId: 'device-1',
      nonce: createNonce(),
      card: CANARY_CARD,
    },
  },
  { name: 'parseTokenQuery', parse: parseTokenQuery, sample: { type: 'token-query', version: 1, walletAccountId: 'user-7', issuerId: 'bank-sec', accountIds: ['acc-1', 'acc-2'] } },
  {
    name: 'parseTokenQueryResponse',
    parse: parseTokenQueryResponse,
    sample: { tokens: [{ tokenReferenceId: 'tok_1', accountId: 'acc-1', deviceId: 'device-1', status: 'pending_activation', activationStarted: true }] },
  },
];

describe.each(PARSERS)('$name', ({ parse, sample, loose }) => {
  it('accepts its valid sample (the baseline the mutations start from)', () => {
    expect(parse(sample)).toEqual(sample);
    expect(parse(JSON.stringify(sample))).toEqual(sample);
  });

  it('random text: a value or a typed error, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.string({ unit: 'grapheme', maxLength: 200 }), fc.json()), (text) => {
        typedOutcome(() => parse(text));
      }),
      fuzzParameters(300),
    );
  });

  it('random values (not text): a value or a typed error', () => {
    fc.assert(
      fc.property(hostileJson, (value) => {
        typedOutcome(() => parse(value));
      }),
      fuzzParameters(300),
    );
  });

  it('text edits of the valid JSON: a value that parses again to itself, or a typed error', () => {
    fc.assert(
      fc.property(mutatedText(JSON.stringify(sample)), (text) => {
        const outcome = typedOutcome(() => parse(text));
        if (outcome.ok) expect(parse(JSON.stringify(outcome.value))).toEqual(JSON.parse(JSON.stringify(outcome.value)));
      }),
      fuzzParameters(300),
    );
  });

  it('structural edits of the valid value (hostile members, prototype keys, wrong types): a value or a typed error', () => {
    fc.assert(
      fc.property(mutatedJson(sample), (value) => {
        const outcome = typedOutcome(() => parse(value));
        if (outcome.ok && !loose) expect(parse(JSON.stringify(outcome.value))).toEqual(JSON.parse(JSON.stringify(outcome.value)));
      }),
      fuzzParameters(300),
    );
  });
});

describe('parseStrictJson', () => {
  it('never accepts what JSON.parse refuses, and agrees with it on what it accepts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json({ maxDepth: 6 }), mutatedText('{"a":[1,2,{"b":"c\\u0041"}],"d":-0.5e3,"e":null}'), hostileString), (text) => {
        const outcome = typedOutcome(() => parseStrictJson(text));
        if (outcome.ok) expect(isDeepStrictEqual(outcome.value, JSON.parse(text))).toBe(true);
      }),
      fuzzParameters(1000),
    );
  });

  it('refuses nesting beyond its depth limit at any depth asked, without a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 17, max: 20_000 }), fc.constantFrom('[', '{"a":'), (depth, open) => {
        const close = open === '[' ? ']' : '}';
        const outcome = typedOutcome(() => parseStrictJson(open.repeat(depth) + '1' + close.repeat(depth), { maxLength: 200_000 }));
        expect(outcome.ok).toBe(false);
      }),
      fuzzParameters(50),
    );
  });
});

describe('decodeMessageUrl', () => {
  const OWN = 'https://bank.example/wallet-return';
  const message: AppMessage = { type: 'result', version: 1, sessionId, status: 'cancelled', errorCode: 'consent_denied' };
  const valid = `${OWN}#${URL_MESSAGE_PARAM}=${toBase64Url(new TextEncoder().encode(JSON.stringify(message)))}`;

  it('accepts its valid link', () => {
    expect(decodeMessageUrl(valid, { allowedUrls: [OWN] })).toEqual(message);
  });

  it('random URLs, random text and edits of a valid link: a message from the allowed URL, or a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.webUrl({ withFragments: true, withQueryParameters: true }), hostileString, mutatedText(valid)), (url) => {
        const outcome = typedOutcome(() => decodeMessageUrl(url, { allowedUrls: [OWN] }));
        if (outcome.ok) expect(`${new URL(url).origin}${new URL(url).pathname}`).toBe(OWN);
      }),
      fuzzParameters(1000),
    );
  });
});

describe('parsePublicJwks', () => {
  let jwks: unknown;
  beforeAll(async () => {
    jwks = { keys: [toPublicJwk((await generateEncryptionKey({ kid: 'svc-1' })).privateJwk)] };
  });

  it('structural edits of a valid public set: a set without private members, or a typed error', () => {
    fc.assert(
      fc.property(
        fc.constant(null).chain(() => mutatedJson(jwks)),
        (value) => {
          const outcome = typedOutcome(() => parsePublicJwks(value));
          if (outcome.ok) for (const key of outcome.value.keys) expect('d' in key).toBe(false);
        },
      ),
      fuzzParameters(300),
    );
  });
});
