import { describe, expect, it } from 'vitest';
import { CryptoError } from '../src/index.js';
import { checkEpk, checkHeader, decodeHeaderStrict } from '../src/internal.js';
import { b64u, b64uJson } from '../scripts/lib/jose-craft.js';

const EPK = { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) };

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
}

describe('decodeHeaderStrict', () => {
  it('decodes the first segment of a compact serialisation', () => {
    expect(decodeHeaderStrict(`${b64uJson({ alg: 'ES256' })}.e30.sig`, 'jws_header_rejected')).toEqual({ alg: 'ES256' });
    expect(decodeHeaderStrict(b64uJson({ a: 1 }), 'jws_header_rejected')).toEqual({ a: 1 });
  });

  it('throws the given code for anything but a strict JSON object of at most 16 members', () => {
    const bad = [
      '',
      '.x.y',
      `${b64u('[]')}.x`,
      `${b64u('null')}.x`,
      `${b64u('{"a":1,"a":2}')}.x`,
      `${b64u('{"__proto__":{}}')}.x`,
      `${b64u(new Uint8Array([0x7b, 0x80, 0x7d]))}.x`,
      'e30+.x',
      `${b64uJson(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])))}.x`,
      `${'A'.repeat(4097)}.x`,
    ];
    for (const compact of bad) expect(code(() => decodeHeaderStrict(compact, 'unauthenticated')), compact.slice(0, 30)).toBe('unauthenticated');
    expect(code(() => decodeHeaderStrict(`${b64uJson(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])))}.x`, 'unauthenticated'))).toBe('ok');
  });
});

describe('checkHeader', () => {
  const rules = { allowed: ['alg', 'kid', 'typ'], required: ['alg', 'typ'], equals: { typ: 'x+jwt' }, algorithms: ['ES256'] };

  it('accepts exactly what the rules allow', () => {
    expect(code(() => checkHeader({ alg: 'ES256', typ: 'x+jwt' }, rules, 'jws_header_rejected'))).toBe('ok');
    expect(code(() => checkHeader({ alg: 'ES256', typ: 'x+jwt', kid: 'k.1:2-3_4' }, rules, 'jws_header_rejected'))).toBe('ok');
  });

  it('refuses unknown members, missing members, other values, other algorithms and malformed kids', () => {
    for (const header of [
      { alg: 'ES256', typ: 'x+jwt', jwk: {} },
      { alg: 'ES256', typ: 'x+jwt', toString: 'x' },
      { alg: 'ES256' },
      { typ: 'x+jwt' },
      { alg: 'ES256', typ: 'X+JWT' },
      { alg: 'ES384', typ: 'x+jwt' },
      { alg: 'ES256', typ: 'x+jwt', kid: '' },
      { alg: 'ES256', typ: 'x+jwt', kid: 'a b' },
      { alg: 'ES256', typ: 'x+jwt', kid: 7 },
      { alg: ['ES256'], typ: 'x+jwt' },
    ]) {
      expect(code(() => checkHeader(header, rules, 'jws_header_rejected')), JSON.stringify(header)).toBe('jws_header_rejected');
    }
  });

  it('never repeats more than 32 characters of a member name', () => {
    const name = `x${'4111111111111111'.repeat(4)}`;
    try {
      checkHeader({ [name]: 1 }, rules, 'jws_header_rejected');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('4111111111111111');
    }
  });
});

describe('checkEpk', () => {
  it('accepts exactly kty, crv, x and y of a P-256 key', () => {
    expect(code(() => checkEpk(EPK, 'jwe_header_rejected'))).toBe('ok');
    expect(code(() => checkEpk({ y: EPK.y, x: EPK.x, crv: 'P-256', kty: 'EC' }, 'jwe_header_rejected'))).toBe('ok');
  });

  it('refuses anything else', () => {
    for (const epk of [
      undefined,
      null,
      'EC',
      [EPK],
      { ...EPK, d: 'd'.repeat(43) },
      { ...EPK, kid: 'k' },
      { kty: 'EC', crv: 'P-256', x: EPK.x },
      { ...EPK, crv: 'P-384' },
      { ...EPK, kty: 'OKP' },
      { ...EPK, x: 'x'.repeat(44) },
      { ...EPK, y: `${'y'.repeat(42)}=` },
      { ...EPK, x: 12 },
    ]) {
      expect(code(() => checkEpk(epk, 'jwe_header_rejected')), JSON.stringify(epk)).toBe('jwe_header_rejected');
    }
  });
});
