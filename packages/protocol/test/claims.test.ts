import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BindingError,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_LIFETIME_SECONDS,
  DEFAULT_REQUEST_LIFETIME_SECONDS,
  ExpiryError,
  type SubmissionContext,
  checkBinding,
  checkDeviceKeyBinding,
  checkTimeClaims,
  createRequestClaims,
  deviceKeyThumbprint,
  generateEncryptionKey,
  epochSeconds,
  manualClock,
  parseRequestClaims,
  sequenceRandom,
  toBase64Url,
} from '../src/index.js';
import { NOW, NOW_MS, expectCode, exposedText, sampleCard, sampleIdentifiers } from './helpers/fixture.js';
import { sampleClaims } from './helpers/samples.js';

const AUD = 'token-service';
const IAT = NOW;
const EXP = NOW + 300;

/** Runs checkTimeClaims at `nowSeconds` (plus `extraMs`) and returns the code or 'ok'. */
function timeCheck(nowSeconds: number, claims: { aud?: string; iat?: number; exp?: number } = {}, options: Record<string, number> = {}, extraMs = 0): string {
  try {
    checkTimeClaims(
      { aud: claims.aud ?? AUD, iat: claims.iat ?? IAT, exp: claims.exp ?? EXP },
      { audience: AUD, clock: manualClock(nowSeconds * 1000 + extraMs), ...options },
    );
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ExpiryError);
    return (error as ExpiryError).code;
  }
}

describe('checkTimeClaims at the exact boundaries (skew 60 s by default)', () => {
  it('uses the documented defaults', () => {
    expect(DEFAULT_CLOCK_SKEW_SECONDS).toBe(60);
    expect(DEFAULT_MAX_LIFETIME_SECONDS).toBe(900);
    expect(DEFAULT_REQUEST_LIFETIME_SECONDS).toBe(300);
  });

  it('accepts from iat - skew and refuses one second earlier', () => {
    expect(timeCheck(IAT - 60)).toBe('ok');
    expect(timeCheck(IAT - 61)).toBe('not_yet_valid');
    expect(timeCheck(IAT - 61, {}, {}, 999)).toBe('not_yet_valid');
  });

  it('accepts until exp + skew - 1 and refuses at exp + skew', () => {
    expect(timeCheck(EXP + 59)).toBe('ok');
    expect(timeCheck(EXP + 59, {}, {}, 999)).toBe('ok');
    expect(timeCheck(EXP + 60)).toBe('expired');
  });

  it('with no skew: valid while iat <= now < exp', () => {
    const noSkew = { clockSkewSeconds: 0 };
    expect(timeCheck(IAT, {}, noSkew)).toBe('ok');
    expect(timeCheck(IAT - 1, {}, noSkew)).toBe('not_yet_valid');
    expect(timeCheck(EXP - 1, {}, noSkew)).toBe('ok');
    expect(timeCheck(EXP, {}, noSkew)).toBe('expired');
  });

  it('accepts a lifetime of exactly the maximum and refuses one second more', () => {
    expect(timeCheck(IAT, { exp: IAT + 900 })).toBe('ok');
    expect(timeCheck(IAT, { exp: IAT + 901 })).toBe('lifetime_exceeded');
    expect(timeCheck(IAT, { exp: IAT + 120 }, { maxLifetimeSeconds: 120 })).toBe('ok');
    expect(timeCheck(IAT, { exp: IAT + 121 }, { maxLifetimeSeconds: 120 })).toBe('lifetime_exceeded');
  });

  it('refuses an empty or negative lifetime', () => {
    expect(timeCheck(IAT, { exp: IAT })).toBe('lifetime_exceeded');
    expect(timeCheck(IAT, { exp: IAT - 10 })).toBe('lifetime_exceeded');
    expect(timeCheck(IAT, { exp: IAT + 1 })).toBe('ok');
  });

  it('checks the audience first, then the lifetime, then iat, then exp', () => {
    expect(timeCheck(EXP + 1000, { aud: 'other-service', exp: IAT + 5000 })).toBe('audience_mismatch');
    expect(timeCheck(EXP + 10_000, { exp: IAT + 5000 })).toBe('lifetime_exceeded');
    expect(timeCheck(IAT - 1000)).toBe('not_yet_valid');
  });

  it('compares the audience exactly', () => {
    expect(timeCheck(IAT, { aud: 'Token-Service' })).toBe('audience_mismatch');
    expect(timeCheck(IAT, { aud: 'token-service ' })).toBe('audience_mismatch');
  });

  it('follows a moving manual clock', () => {
    const clock = manualClock(IAT * 1000);
    const claims = { aud: AUD, iat: IAT, exp: EXP };
    expect(() => checkTimeClaims(claims, { audience: AUD, clock })).not.toThrow();
    clock.advance((300 + 60) * 1000 - 1);
    expect(() => checkTimeClaims(claims, { audience: AUD, clock })).not.toThrow();
    clock.advance(1);
    expect(() => checkTimeClaims(claims, { audience: AUD, clock })).toThrow(ExpiryError);
    clock.set(IAT * 1000);
    expect(() => checkTimeClaims(claims, { audience: AUD, clock })).not.toThrow();
  });
});

describe('checkBinding', () => {
  const claims = sampleClaims();
  const context: SubmissionContext = {
    sessionId: claims.sid,
    walletProviderId: claims.walletProviderId,
    walletAccountId: claims.walletAccountId,
    deviceId: claims.deviceId,
    nonce: claims.nonce,
  };

  it('accepts a submission equal to the claims', () => {
    expect(() => checkBinding(claims, context)).not.toThrow();
  });

  it.each([
    ['sessionId', 'session_mismatch'],
    ['walletProviderId', 'wallet_provider_mismatch'],
    ['walletAccountId', 'wallet_account_mismatch'],
    ['deviceId', 'device_mismatch'],
    ['nonce', 'nonce_mismatch'],
  ] as const)('refuses a different %s with %s', async (field, code) => {
    for (const value of [`${context[field]}x`, context[field].slice(0, -1), context[field].toUpperCase(), '']) {
      if (value === context[field]) continue;
      const error = await expectCode(() => checkBinding(claims, { ...context, [field]: value }), code);
      expect(error).toBeInstanceOf(BindingError);
      if (value.length > 3) expect(await exposedText(error)).not.toContain(value);
    }
  });

  it('reports the first mismatch in the order session, provider, account, device, nonce', async () => {
    const allWrong = { sessionId: 'a'.repeat(22), walletProviderId: 'x', walletAccountId: 'y', deviceId: 'z', nonce: 'b'.repeat(22) };
    await expectCode(() => checkBinding(claims, allWrong), 'session_mismatch');
    await expectCode(() => checkBinding(claims, { ...allWrong, sessionId: context.sessionId }), 'wallet_provider_mismatch');
    await expectCode(() => checkBinding(claims, { ...allWrong, sessionId: context.sessionId, walletProviderId: context.walletProviderId }), 'wallet_account_mismatch');
    await expectCode(() => checkBinding(claims, { ...context, deviceId: 'z', nonce: 'b'.repeat(22) }), 'device_mismatch');
  });

  it('compares non-ASCII values by their bytes', async () => {
    await expectCode(() => checkBinding({ ...claims, deviceId: 'é' }, { ...context, deviceId: 'e\u0301' }), 'device_mismatch');
  });
});

describe('deviceKeyThumbprint', () => {
  it('is the RFC 7638 SHA-256 thumbprint over crv, kty, x, y only', async () => {
    const { publicJwk } = await generateEncryptionKey({ kid: 'device-1' });
    // Computed here without jose: the required members in lexicographic order, no whitespace.
    const canonical = `{"crv":"P-256","kty":"EC","x":"${publicJwk.x}","y":"${publicJwk.y}"}`;
    const expected = createHash('sha256').update(canonical).digest('base64url');
    expect(await deviceKeyThumbprint({ kty: 'EC', crv: 'P-256', x: publicJwk.x!, y: publicJwk.y! })).toBe(expected);
    // kid, alg and use do not change it; the generated kid is the same thumbprint.
    expect(await deviceKeyThumbprint({ kty: 'EC', crv: 'P-256', x: publicJwk.x!, y: publicJwk.y!, kid: 'other', alg: 'ECDH-ES+A256KW', use: 'enc' } as never)).toBe(expected);
    expect((await generateEncryptionKey()).publicJwk.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('checkDeviceKeyBinding', () => {
  let key: { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string };
  let other: typeof key;
  let jkt: string;
  beforeAll(async () => {
    const a = (await generateEncryptionKey({ kid: 'device-1' })).publicJwk;
    const b = (await generateEncryptionKey({ kid: 'device-1' })).publicJwk;
    key = { kty: 'EC', crv: 'P-256', x: a.x!, y: a.y!, kid: 'device-1' };
    other = { kty: 'EC', crv: 'P-256', x: b.x!, y: b.y!, kid: 'device-1' };
    jkt = await deviceKeyThumbprint(key);
  });

  it('accepts the key the claims name, with or without kid, and no key when the claims name none', async () => {
    await expect(checkDeviceKeyBinding({ cnf: { jkt } }, key)).resolves.toBeUndefined();
    await expect(checkDeviceKeyBinding({ cnf: { jkt } }, { kty: 'EC', crv: 'P-256', x: key.x, y: key.y })).resolves.toBeUndefined();
    await expect(checkDeviceKeyBinding({}, undefined)).resolves.toBeUndefined();
  });

  it('refuses another key (even under the same kid), a key the claims do not name, and a missing key', async () => {
    for (const [claims, submitted] of [
      [{ cnf: { jkt } }, other],
      [{}, key],
      [{ cnf: { jkt } }, undefined],
      [{ cnf: { jkt: `${jkt.slice(0, -1)}${jkt.endsWith('A') ? 'B' : 'A'}` } }, key],
    ] as const) {
      const error = await checkDeviceKeyBinding(claims, submitted).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BindingError);
      expect(error).toMatchObject({ code: 'device_key_mismatch', status: 422, retryable: false });
      const text = await exposedText(error);
      expect(text).not.toContain(jkt);
      expect(text).not.toContain(key.x);
    }
  });

  it('is in the claims schema: cnf is closed and jkt is 43 base64url characters', async () => {
    const claims = sampleClaims();
    expect(parseRequestClaims({ ...claims, cnf: { jkt } }).cnf).toEqual({ jkt });
    await expectCode(() => parseRequestClaims({ ...claims, cnf: { jkt, jwk: key } }), 'invalid_claims');
    await expectCode(() => parseRequestClaims({ ...claims, cnf: { jkt: jkt.slice(1) } }), 'invalid_claims');
    await expectCode(() => parseRequestClaims({ ...claims, cnf: {} }), 'invalid_claims');
  });
});

describe('createRequestClaims', () => {
  const identifiers = sampleIdentifiers();

  it('binds every identifier, stamps iat from the clock and takes the jti from the random source', () => {
    const claims = createRequestClaims({
      issuerId: 'bank-a',
      audience: AUD,
      identifiers,
      card: sampleCard(),
      clock: manualClock(NOW_MS + 999),
      random: sequenceRandom(new Uint8Array([9])),
    });
    expect(claims).toEqual({
      iss: 'bank-a',
      aud: AUD,
      iat: NOW,
      exp: NOW + DEFAULT_REQUEST_LIFETIME_SECONDS,
      jti: toBase64Url(new Uint8Array(16).fill(9)),
      sid: identifiers.sessionId,
      walletProviderId: identifiers.walletProviderId,
      walletAccountId: identifiers.walletAccountId,
      deviceId: identifiers.deviceId,
      nonce: identifiers.nonce,
      card: sampleCard(),
    });
    expect(parseRequestClaims(claims)).toEqual(claims);
  });

  it('takes a lifetime, an account reference and card art, and leaves absent options out', () => {
    const claims = createRequestClaims({
      issuerId: 'bank-a',
      audience: AUD,
      identifiers,
      accountRef: 'acct-9',
      cardArtUrl: 'https://cdn.bank.example/art.png',
      lifetimeSeconds: 120,
      clock: manualClock(NOW_MS),
    });
    expect(claims.exp - claims.iat).toBe(120);
    expect(claims.accountRef).toBe('acct-9');
    expect(claims.cardArtUrl).toBe('https://cdn.bank.example/art.png');
    expect('card' in claims).toBe(false);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('binds the device key by thumbprint as cnf.jkt when given one, and has no cnf otherwise', async () => {
    const jkt = 'a'.repeat(43);
    const claims = createRequestClaims({ issuerId: 'bank-a', audience: AUD, identifiers, deviceKeyThumbprint: jkt, card: sampleCard() });
    expect(claims.cnf).toEqual({ jkt });
    expect(parseRequestClaims(claims)).toEqual(claims);
    expect('cnf' in createRequestClaims({ issuerId: 'bank-a', audience: AUD, identifiers, card: sampleCard() })).toBe(false);
  });

  it('makes a fresh jti each time with the secure default', () => {
    const a = createRequestClaims({ issuerId: 'bank-a', audience: AUD, identifiers, accountRef: 'x' });
    const b = createRequestClaims({ issuerId: 'bank-a', audience: AUD, identifiers, accountRef: 'x' });
    expect(a.jti).not.toBe(b.jti);
    expect(Math.abs(a.iat - epochSeconds({ now: () => Date.now() }))).toBeLessThanOrEqual(1);
  });
});
