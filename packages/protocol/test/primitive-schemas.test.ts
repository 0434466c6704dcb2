import { describe, expect, it } from 'vitest';
import {
  PROTOCOL_VERSION,
  zCompactJwe,
  zCompactJws,
  zEpochSeconds,
  zKid,
  zLast4,
  zNetwork,
  zOpaqueId,
  zPan,
  zPartyId,
  zPublicJwk,
  zRandomId,
  zResultStatus,
  zTokenStatus,
  zVersion,
} from '../src/index.js';

const accepts = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe('primitive schemas at their boundaries', () => {
  it('zVersion is exactly 1', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(accepts(zVersion, 1)).toBe(true);
    for (const v of [2, '1', 1.5, null]) expect(accepts(zVersion, v)).toBe(false);
  });

  it('zRandomId: 22 to 128 base64url characters', () => {
    expect(accepts(zRandomId, 'A'.repeat(22))).toBe(true);
    expect(accepts(zRandomId, '-_'.repeat(64))).toBe(true);
    for (const v of ['A'.repeat(21), 'A'.repeat(129), `${'A'.repeat(21)}=`, `${'A'.repeat(21)}+`, `${'A'.repeat(21)}é`, 22]) expect(accepts(zRandomId, v), String(v)).toBe(false);
  });

  it('zPartyId: a lower-case slug of 1 to 64 characters', () => {
    for (const v of ['a', 'bank-a', 'wallet.co_1', '0', 'a'.repeat(64)]) expect(accepts(zPartyId, v), v).toBe(true);
    for (const v of ['', 'A', '-bank', '.bank', '_x', 'bank a', 'a'.repeat(65), 'bänk', 'client-assertion:x']) expect(accepts(zPartyId, v), v).toBe(false);
  });

  it('zOpaqueId and zKid: printable identifiers of 1 to 128 characters', () => {
    for (const v of ['u', 'user-42', 'a@b.c:d_e', 'x'.repeat(128)]) expect(accepts(zOpaqueId, v), v).toBe(true);
    for (const v of ['', 'x'.repeat(129), 'a b', 'a/b', 'ü', 'a\n']) expect(accepts(zOpaqueId, v), v).toBe(false);
    expect(accepts(zKid, 'ts-2099.01:a_b')).toBe(true);
    for (const v of ['', 'a@b', 'a b', 'k'.repeat(129)]) expect(accepts(zKid, v), v).toBe(false);
  });

  it('zEpochSeconds: integers from 0 to the year 3000', () => {
    for (const v of [0, 1, 32503680000]) expect(accepts(zEpochSeconds, v)).toBe(true);
    for (const v of [-1, 1.5, 32503680001, Number.NaN, Number.POSITIVE_INFINITY, '1']) expect(accepts(zEpochSeconds, v), String(v)).toBe(false);
  });

  it('zCompactJwe and zCompactJws: compact forms of bounded size', () => {
    expect(accepts(zCompactJwe, 'a.b.c.d.e')).toBe(true);
    expect(accepts(zCompactJwe, 'a..c.d.e')).toBe(true);
    for (const v of ['a.b.c.d', 'a.b.c.d.e.f', '.b.c.d.e', 'a.b.c.d.', 'a.b.c.d.e ', `a.b.c.d.${'e'.repeat(16_384)}`]) expect(accepts(zCompactJwe, v)).toBe(false);
    expect(accepts(zCompactJws, 'a.b.c')).toBe(true);
    for (const v of ['a.b.', 'a..c', 'a.b.c.d', `a.b.${'c'.repeat(8_192)}`]) expect(accepts(zCompactJws, v)).toBe(false);
  });

  it('zPan, zLast4 and the enums', () => {
    expect(accepts(zPan, '4111111111111111')).toBe(true);
    expect(accepts(zPan, '4111111111111112')).toBe(false);
    expect(accepts(zLast4, '0000')).toBe(true);
    for (const v of ['000', '00000', '١١١١', 1111]) expect(accepts(zLast4, v)).toBe(false);
    expect(zNetwork.options).toEqual(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'other']);
    expect(zResultStatus.options).toEqual(['provisioned', 'pending_activation', 'declined', 'failed', 'cancelled']);
    expect(zTokenStatus.options).toEqual(['active', 'pending_activation', 'suspended', 'deleted']);
  });

  it('zPublicJwk: protocol public keys only', () => {
    const ec = { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43), kid: 'k', alg: 'ES256' };
    expect(accepts(zPublicJwk, ec)).toBe(true);
    expect(accepts(zPublicJwk, { ...ec, alg: 'ECDH-ES+A256KW', use: 'enc' })).toBe(true);
    expect(accepts(zPublicJwk, { kty: 'OKP', crv: 'Ed25519', x: 'x'.repeat(43), kid: 'k', alg: 'EdDSA' })).toBe(true);
    for (const bad of [{ ...ec, d: 'd'.repeat(43) }, { ...ec, alg: 'ECDH-ES+A256KW', use: 'sig' }, { ...ec, alg: 'EdDSA' }, { kty: 'oct', k: 'abc', kid: 'k', alg: 'HS256' }]) {
      expect(accepts(zPublicJwk, bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
