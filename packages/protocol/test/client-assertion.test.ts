import { beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  CLIENT_ASSERTION_TYP,
  type JwkPair,
  MAX_CLIENT_ASSERTION_LIFETIME_SECONDS,
  REQUEST_JWS_TYP,
  createClientAssertion,
  generateSigningKey,
  manualClock,
  sequenceRandom,
  toBase64Url,
  verifyClientAssertion,
} from '../src/index.js';
import { peekClientAssertionIssuer } from '../src/internal.js';
import { craftJws, headerOf, textOfSegment } from '../scripts/lib/jose-craft.js';
import { NOW, NOW_MS, fixedId } from './helpers/fixture.js';

let provider: JwkPair;
let providerEd: JwkPair;
let impostor: JwkPair;

beforeAll(async () => {
  [provider, providerEd, impostor] = await Promise.all([
    generateSigningKey({ kid: 'wallet-co-1' }),
    generateSigningKey({ alg: 'EdDSA', kid: 'wallet-co-ed' }),
    generateSigningKey({ kid: 'wallet-co-1' }),
  ]);
});

const verifyOptions = (overrides: Record<string, unknown> = {}) => ({
  walletProviderId: 'wallet-co',
  keys: { keys: [provider.publicJwk, providerEd.publicJwk] },
  audience: 'token-service',
  clock: manualClock(NOW_MS),
  ...overrides,
});

async function verify(assertion: string, overrides: Record<string, unknown> = {}): Promise<string> {
  try {
    await verifyClientAssertion(assertion, verifyOptions(overrides));
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return (error as AuthError).code;
  }
}

const create = (overrides: Record<string, unknown> = {}) =>
  createClientAssertion({
    walletProviderId: 'wallet-co',
    audience: 'token-service',
    signingKey: provider.privateJwk,
    clock: manualClock(NOW_MS),
    random: sequenceRandom(new Uint8Array([4])),
    ...overrides,
  });

const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: 'wallet-co',
  sub: 'wallet-co',
  aud: 'token-service',
  iat: NOW,
  exp: NOW + 60,
  jti: fixedId(4),
  ...overrides,
});

const craft = (payload: unknown, header: Record<string, unknown> = { alg: 'ES256', kid: 'wallet-co-1', typ: CLIENT_ASSERTION_TYP }, key = provider.privateJwk) =>
  craftJws({ header, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), key });

describe('client assertions', () => {
  it('have the documented header and claims', async () => {
    const assertion = await create();
    expect(headerOf(assertion)).toEqual({ alg: 'ES256', kid: 'wallet-co-1', typ: CLIENT_ASSERTION_TYP });
    expect(JSON.parse(textOfSegment(assertion.split('.')[1]!))).toEqual(claims({ jti: toBase64Url(new Uint8Array(16).fill(4)) }));
    expect(await verifyClientAssertion(assertion, verifyOptions())).toEqual({
      walletProviderId: 'wallet-co',
      jti: toBase64Url(new Uint8Array(16).fill(4)),
      exp: NOW + 60,
    });
  });

  it('verify with EdDSA', async () => {
    expect(await verify(await create({ signingKey: providerEd.privateJwk }))).toBe('ok');
  });

  it('cap the lifetime at 300 seconds', async () => {
    expect(MAX_CLIENT_ASSERTION_LIFETIME_SECONDS).toBe(300);
    const assertion = await create({ lifetimeSeconds: 3600 });
    const { iat, exp } = JSON.parse(textOfSegment(assertion.split('.')[1]!)) as { iat: number; exp: number };
    expect(exp - iat).toBe(300);
  });

  it('are accepted until exp + skew - 1 and from iat - skew', async () => {
    const assertion = await create();
    expect(await verify(assertion, { clock: manualClock((NOW + 60 + 59) * 1000) })).toBe('ok');
    expect(await verify(assertion, { clock: manualClock((NOW + 60 + 60) * 1000) })).toBe('unauthenticated');
    expect(await verify(assertion, { clock: manualClock((NOW - 60) * 1000) })).toBe('ok');
    expect(await verify(assertion, { clock: manualClock((NOW - 61) * 1000) })).toBe('unauthenticated');
    expect(await verify(assertion, { clock: manualClock((NOW + 60) * 1000), clockSkewSeconds: 0 })).toBe('unauthenticated');
  });

  it('are refused, always as unauthenticated, for any wrong detail', async () => {
    const good = await create();
    const cases: [string, Promise<string>][] = [
      ['another provider', verify(good, { walletProviderId: 'other-wallet' })],
      ['another audience', verify(good, { audience: 'other-service' })],
      ['an unknown kid', verify(good, { keys: { keys: [providerEd.publicJwk] } })],
      ['a key of another algorithm', verify(good, { keys: { keys: [{ ...providerEd.publicJwk, kid: 'wallet-co-1' }] } })],
      ['another key under the kid', verify(await create({ signingKey: impostor.privateJwk }))],
      ['garbage', verify('not.an.assertion')],
      ['an empty string', verify('')],
      ['the request typ', verify(await craft(claims(), { alg: 'ES256', kid: 'wallet-co-1', typ: REQUEST_JWS_TYP }))],
      ['alg none', verify(await craftJws({ header: { alg: 'none', kid: 'wallet-co-1', typ: CLIENT_ASSERTION_TYP }, payload: JSON.stringify(claims()) }))],
      ['HS256', verify(await craftJws({ header: { alg: 'HS256', kid: 'wallet-co-1', typ: CLIENT_ASSERTION_TYP }, payload: JSON.stringify(claims()), key: new TextEncoder().encode(JSON.stringify(provider.publicJwk)) }))],
      ['an embedded jwk', verify(await craft(claims(), { alg: 'ES256', kid: 'wallet-co-1', typ: CLIENT_ASSERTION_TYP, jwk: impostor.publicJwk }, impostor.privateJwk))],
      ['sub differing from iss', verify(await craft(claims({ sub: 'other' })))],
      ['an extra claim', verify(await craft(claims({ scope: 'admin' })))],
      ['a missing jti', verify(await craft(claims({ jti: undefined })))],
      ['a short jti', verify(await craft(claims({ jti: 'abc' })))],
      ['a lifetime over 300 s', verify(await craft(claims({ exp: NOW + 301 })))],
      ['a zero lifetime', verify(await craft(claims({ exp: NOW })))],
      ['string times', verify(await craft(claims({ iat: String(NOW) })))],
      ['a null payload', verify(await craft('null'))],
      ['an array payload', verify(await craft('[]'))],
      ['a number payload', verify(await craft('42'))],
      ['duplicate claims', verify(await craft('{"iss":"wallet-co","iss":"wallet-co"}'))],
    ];
    for (const [name, result] of cases) expect(await result, name).toBe('unauthenticated');
  });

  it('accept exactly 300 seconds of lifetime', async () => {
    expect(await verify(await craft(claims({ exp: NOW + 300 })))).toBe('ok');
  });
});

describe('peekClientAssertionIssuer', () => {
  it('reads the unverified issuer to find its keys', async () => {
    expect(peekClientAssertionIssuer(await create())).toBe('wallet-co');
  });

  it('returns undefined for anything unreadable', async () => {
    for (const text of ['', 'a', 'a.b', 'a.!!!.c', `x.${toBase64Url(new TextEncoder().encode('{"iss":"Not A Slug"}'))}.y`, `x.${toBase64Url(new TextEncoder().encode('null'))}.y`]) {
      expect(peekClientAssertionIssuer(text), text).toBeUndefined();
    }
  });
});
