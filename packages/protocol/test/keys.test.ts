import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_ENCRYPTION_ALGORITHM,
  CryptoError,
  KEY_MANAGEMENT_ALGORITHM,
  SIGNING_ALGORITHMS,
  generateEncryptionKey,
  generateSigningKey,
  parsePublicJwks,
  selectKey,
  toPublicJwk,
} from '../src/index.js';
import { importKeyCached } from '../src/internal.js';
import { expectCode } from './helpers/fixture.js';

describe('the algorithm profile', () => {
  it('is ES256 or EdDSA for signatures and ECDH-ES+A256KW / A256GCM for encryption', () => {
    expect(SIGNING_ALGORITHMS).toEqual(['ES256', 'EdDSA']);
    expect(KEY_MANAGEMENT_ALGORITHM).toBe('ECDH-ES+A256KW');
    expect(CONTENT_ENCRYPTION_ALGORITHM).toBe('A256GCM');
  });
});

describe('key generation', () => {
  it('makes ES256 and EdDSA signing pairs with kid, alg and use', async () => {
    const es = await generateSigningKey({ kid: 'k1' });
    expect(es.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'k1', alg: 'ES256', use: 'sig' });
    expect(typeof es.privateJwk.d).toBe('string');
    expect(es.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: es.privateJwk.x, y: es.privateJwk.y, kid: 'k1', alg: 'ES256', use: 'sig' });
    const ed = await generateSigningKey({ alg: 'EdDSA', kid: 'k2' });
    expect(ed.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: ed.privateJwk.x, kid: 'k2', alg: 'EdDSA', use: 'sig' });
  });

  it('makes P-256 encryption pairs', async () => {
    const { privateJwk, publicJwk } = await generateEncryptionKey({ kid: 'e1' });
    expect(publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: privateJwk.x, y: privateJwk.y, kid: 'e1', alg: 'ECDH-ES+A256KW', use: 'enc' });
  });

  it('defaults the kid to the RFC 7638 thumbprint, and makes a fresh key each time', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    expect(a.publicJwk.kid).toBe(await calculateJwkThumbprint(a.publicJwk, 'sha256'));
    expect(a.publicJwk.kid).not.toBe(b.publicJwk.kid);
  });
});

describe('public keys and key sets', () => {
  it('toPublicJwk keeps only public members', async () => {
    const { privateJwk } = await generateSigningKey({ kid: 'k1' });
    const extended = { ...privateJwk, key_ops: ['sign'], ext: true };
    const pub = toPublicJwk(extended);
    expect(Object.keys(pub).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it('parsePublicJwks accepts a set of protocol keys', async () => {
    const keys = [(await generateSigningKey({ kid: 'a' })).publicJwk, (await generateSigningKey({ alg: 'EdDSA', kid: 'b' })).publicJwk, (await generateEncryptionKey({ kid: 'c' })).publicJwk];
    expect(parsePublicJwks({ keys })).toEqual({ keys });
  });

  it('parsePublicJwks refuses private members, foreign algorithms, duplicates and malformed sets', async () => {
    const { privateJwk, publicJwk } = await generateSigningKey({ kid: 'a' });
    const bad: unknown[] = [
      { keys: [privateJwk] },
      { keys: [publicJwk, publicJwk] },
      { keys: [] },
      { keys: Array.from({ length: 33 }, (_, i) => ({ ...publicJwk, kid: `k${i}` })) },
      { keys: [{ ...publicJwk, alg: 'RS256' }] },
      { keys: [{ ...publicJwk, alg: undefined }] },
      { keys: [{ ...publicJwk, kid: undefined }] },
      { keys: [{ ...publicJwk, kid: 'has space' }] },
      { keys: [{ ...publicJwk, x5u: 'https://evil.example/' }] },
      { keys: [{ ...publicJwk, use: 'enc' }] },
      { keys: [{ ...publicJwk, crv: 'P-384' }] },
      { keys: [publicJwk], extra: 1 },
      { kty: 'EC' },
      [publicJwk],
      null,
      'jwks',
    ];
    for (const input of bad) await expectCode(() => parsePublicJwks(input), 'invalid_message');
  });

  it('selectKey finds a key by kid, optionally of an algorithm', async () => {
    const a = (await generateSigningKey({ kid: 'a' })).publicJwk;
    const c = (await generateEncryptionKey({ kid: 'c' })).publicJwk;
    const set = { keys: [a, c] };
    expect(selectKey(set, 'a')).toBe(a);
    expect(selectKey(set, 'c', { alg: 'ECDH-ES+A256KW' })).toBe(c);
    const error = await expectCode(() => selectKey(set, 'a', { alg: 'ECDH-ES+A256KW' }), 'unknown_key');
    expect(error).toBeInstanceOf(CryptoError);
    await expectCode(() => selectKey(set, 'z'), 'unknown_key');
  });
});

describe('importKeyCached', () => {
  it('imports once per JWK object and algorithm', async () => {
    const { privateJwk } = await generateSigningKey({ kid: 'a' });
    const first = importKeyCached(privateJwk, 'ES256');
    expect(importKeyCached(privateJwk, 'ES256')).toBe(first);
    expect(await first).toBeDefined();
  });

  it('turns import failures into unknown_key and does not cache them', async () => {
    const broken = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'x', alg: 'ES256' };
    const first = importKeyCached(broken, 'ES256');
    await expect(first).rejects.toMatchObject({ code: 'unknown_key' });
    const retry = importKeyCached(broken, 'ES256');
    expect(retry).not.toBe(first);
    await expect(retry).rejects.toBeInstanceOf(CryptoError);
  });
});
