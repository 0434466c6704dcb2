import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintPan, luhnValid } from '@pushprov/protocol';
import { computeTokenExpiry, createTokenNumber, createVaultCipher, deriveFingerprintKey, readBodyWithLimit, runWithTimeout } from '../src/index.js';
import { DEFAULT_TOKEN_CAPACITY, TOKEN_RANGE_HEADROOM, randomDigitsNeeded, randomDigitsOf } from '../src/issuance/create-token-number.js';
import { PAN, seededRandom } from './helpers.js';

const key = (fill: number) => new Uint8Array(32).fill(fill);

describe('vault cipher', () => {
  const cipher = createVaultCipher({ keys: [{ id: 'kek-1', key: key(1) }], fingerprintKey: key(7) });

  it('seals with AES-256-GCM and opens only for the same purpose and context', () => {
    const sealed = cipher.seal(PAN, 'card', 'tok_1');
    expect(sealed).toMatch(/^v1\.kek-1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain(PAN);
    expect(cipher.open(sealed, 'card', 'tok_1')).toBe(PAN);
    expect(() => cipher.open(sealed, 'card', 'tok_2')).toThrow(expect.objectContaining({ code: 'internal_error' }));
    expect(() => cipher.open(sealed, 'token-number', 'tok_1')).toThrow(expect.objectContaining({ code: 'internal_error' }));
  });

  it('uses a fresh IV for every seal', () => {
    expect(cipher.seal(PAN, 'card', 'x')).not.toBe(cipher.seal(PAN, 'card', 'x'));
  });

  it('refuses tampered ciphertexts, tags and unknown key ids without echoing them', () => {
    const sealed = cipher.seal(PAN, 'card', 'tok_1');
    const parts = sealed.split('.');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const index of [2, 3, 4]) {
      const bad = parts.map((p, i) => (i === index ? flip(p) : p)).join('.');
      expect(() => cipher.open(bad, 'card', 'tok_1')).toThrow(expect.objectContaining({ code: 'internal_error' }));
    }
    expect(() => cipher.open(sealed.replace('kek-1', 'kek-9'), 'card', 'tok_1')).toThrow(/could not be opened/);
    expect(() => cipher.open('garbage', 'card', 'tok_1')).toThrow(expect.objectContaining({ code: 'internal_error' }));
    const shortIv = parts.map((p, i) => (i === 2 ? p.slice(0, 8) : p)).join('.');
    expect(() => cipher.open(shortIv, 'card', 'tok_1')).toThrow(expect.objectContaining({ code: 'internal_error' }));
  });

  it('opens a value sealed by the documented format, and only in its exact base64url spelling', () => {
    // v1.<keyId>.<iv>.<ciphertext>.<tag>, AES-256-GCM, AAD "pushprov/vault/v1\0<keyId>\0<purpose>\0<context>",
    // built here with node:crypto directly, independent of the cipher under test.
    const iv = new Uint8Array(12).fill(9);
    const gcm = createCipheriv('aes-256-gcm', key(1), iv);
    gcm.setAAD(Buffer.from('pushprov/vault/v1\u0000kek-1\u0000card\u0000tok_1', 'utf8'));
    const ciphertext = Buffer.concat([gcm.update(PAN, 'utf8'), gcm.final()]);
    const tag = gcm.getAuthTag();
    const parts = ['v1', 'kek-1', Buffer.from(iv).toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')];
    expect(cipher.open(parts.join('.'), 'card', 'tok_1')).toBe(PAN);
    // Node's decoder would read standard base64 or padding as the same bytes; the vault refuses both spellings.
    for (const [index, spelling] of [
      [3, ciphertext.toString('base64')],
      [4, tag.toString('base64')],
      [4, `${tag.toString('base64url')}==`],
    ] as const) {
      const respelled = parts.map((p, i) => (i === index ? spelling : p)).join('.');
      expect(respelled).not.toBe(parts.join('.')); // fixed key, IV and PAN: both have '+' or '/' and padding
      expect(() => cipher.open(respelled, 'card', 'tok_1')).toThrow(expect.objectContaining({ code: 'internal_error' }));
    }
  });

  it('rotates: the first key seals, older keys still open', () => {
    const old = createVaultCipher({ keys: [{ id: 'kek-1', key: key(1) }], fingerprintKey: key(7) });
    const rotated = createVaultCipher({ keys: [{ id: 'kek-2', key: key(2) }, { id: 'kek-1', key: key(1) }], fingerprintKey: key(7) });
    const sealedBefore = old.seal(PAN, 'card', 't');
    expect(rotated.open(sealedBefore, 'card', 't')).toBe(PAN);
    expect(rotated.seal(PAN, 'card', 't').split('.')[1]).toBe('kek-2');
    expect(rotated.fingerprintPan(PAN)).toBe(old.fingerprintPan(PAN));
  });

  it('fingerprints PANs with the protocol HMAC and hashes token numbers under a separate key', () => {
    expect(cipher.fingerprintPan(PAN)).toBe(fingerprintPan(PAN, key(7)));
    expect(cipher.hashTokenNumber(PAN)).not.toBe(cipher.fingerprintPan(PAN));
    expect(cipher.hashTokenNumber('4895370000000000')).toBe(cipher.hashTokenNumber('4895370000000000'));
    expect(deriveFingerprintKey(key(1))).toEqual(deriveFingerprintKey(key(1)));
    expect(deriveFingerprintKey(key(1))).not.toEqual(key(1));
  });

  it('refuses bad keys with configuration_invalid', () => {
    expect(() => createVaultCipher({ keys: [], fingerprintKey: key(7) })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    expect(() => createVaultCipher({ keys: [{ id: 'k', key: new Uint8Array(16) }], fingerprintKey: key(7) })).toThrow(/32 bytes/);
    expect(() => createVaultCipher({ keys: [{ id: 'a.b', key: key(1) }], fingerprintKey: key(7) })).toThrow(/key id/);
    expect(() => createVaultCipher({ keys: [{ id: 'k', key: key(1) }], fingerprintKey: new Uint8Array(8) })).toThrow(/fingerprint key/);
  });
});

describe('token numbers', () => {
  it('draws Luhn-valid numbers of the configured bin and length', () => {
    const random = seededRandom('numbers');
    for (const length of [13, 16, 19]) {
      const number = createTokenNumber({ bin: '489537', length }, random);
      expect(number).toHaveLength(length);
      expect(number.startsWith('489537')).toBe(true);
      expect(luhnValid(number)).toBe(true);
    }
  });

  it('is deterministic for a given random source and spreads its digits evenly', () => {
    expect(createTokenNumber({ bin: '489537', length: 16 }, seededRandom('s'))).toBe(createTokenNumber({ bin: '489537', length: 16 }, seededRandom('s')));
    const random = seededRandom('spread');
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) {
      for (const d of createTokenNumber({ bin: '489537', length: 16 }, random).slice(6, 15)) counts[Number(d)]!++;
    }
    // 18 000 digits: each should be close to 1 800.
    for (const c of counts) expect(Math.abs(c - 1800)).toBeLessThan(200);
  });

  it('refuses impossible ranges', () => {
    expect(() => createTokenNumber({ bin: '48953', length: 16 })).toThrow(RangeError);
    expect(() => createTokenNumber({ bin: '489537000000', length: 15 })).toThrow(RangeError);
    expect(() => createTokenNumber({ bin: '489537', length: 20 })).toThrow(RangeError);
  });

  it('counts the random digits of a range and the digits a capacity needs (1000 × the capacity)', () => {
    expect(randomDigitsOf({ bin: '489537', length: 16 })).toBe(9);
    expect(randomDigitsOf({ bin: '489537000000', length: 16 })).toBe(3);
    expect(TOKEN_RANGE_HEADROOM).toBe(1000);
    expect(DEFAULT_TOKEN_CAPACITY).toBe(1_000_000);
    expect([1, 2, 10, 1000, 1001, 1_000_000, 10_000_000, 1_000_000_000].map(randomDigitsNeeded)).toEqual([3, 4, 4, 6, 7, 9, 10, 12]);
  });

  it('runs out with 3 random digits after a few hundred tokens, with the 8 draws an issuance makes', () => {
    // What the service does: draw, and draw again on a collision, 8 times at most (MAX_COMMIT_ATTEMPTS).
    const random = seededRandom('crowded');
    const range = { bin: '489537000000', length: 16 };
    const issued = new Set<string>();
    let firstFailure: number | undefined;
    while (firstFailure === undefined) {
      let number: string | undefined;
      for (let attempt = 0; attempt < 8 && number === undefined; attempt++) {
        const drawn = createTokenNumber(range, random);
        if (!issued.has(drawn)) number = drawn;
      }
      if (number === undefined) firstFailure = issued.size;
      else issued.add(number);
    }
    expect(firstFailure).toBeGreaterThan(200);
    expect(firstFailure).toBeLessThan(1000);
  });

  it('computes token expiry months in UTC', () => {
    expect(computeTokenExpiry(Date.UTC(2026, 10, 28), 36)).toEqual({ month: 11, year: 2029 });
    expect(computeTokenExpiry(Date.UTC(2026, 11, 31, 23, 59), 1)).toEqual({ month: 1, year: 2027 });
    expect(computeTokenExpiry(Date.UTC(2026, 0, 1), 12)).toEqual({ month: 1, year: 2027 });
  });
});

describe('readBodyWithLimit', () => {
  const request = (body: BodyInit, headers: Record<string, string> = {}) => new Request('http://x/', { method: 'POST', body, headers });

  it('accepts a body of exactly the limit and refuses one byte more', async () => {
    expect(await readBodyWithLimit(request('x'.repeat(1024)), 1024)).toHaveLength(1024);
    await expect(readBodyWithLimit(request('x'.repeat(1025)), 1024)).rejects.toMatchObject({ code: 'payload_too_large' });
  });

  it('refuses by Content-Length before reading', async () => {
    await expect(readBodyWithLimit(request('{}', { 'content-length': '999999' }), 1024)).rejects.toMatchObject({ code: 'payload_too_large' });
  });

  it('refuses invalid UTF-8 as invalid_json', async () => {
    await expect(readBodyWithLimit(request(new Uint8Array([0x7b, 0xff, 0x7d])), 1024)).rejects.toMatchObject({ code: 'invalid_json' });
  });
});

describe('runWithTimeout', () => {
  it('returns the result of a task that finishes in time', async () => {
    expect(await runWithTimeout(async () => 'ok', 1000)).toBe('ok');
  });

  it('fails with timeout and aborts the task signal when the task takes too long', async () => {
    let seen: AbortSignal | undefined;
    await expect(
      runWithTimeout((signal) => {
        seen = signal;
        return new Promise(() => undefined);
      }, 20),
    ).rejects.toMatchObject({ code: 'timeout' });
    expect(seen?.aborted).toBe(true);
  });

  it('fails with aborted when the outer signal aborts, before or during the task', async () => {
    await expect(runWithTimeout(async () => 'never', 1000, AbortSignal.abort())).rejects.toMatchObject({ code: 'aborted' });
    const controller = new AbortController();
    const pending = runWithTimeout(() => new Promise(() => undefined), 5000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });
});
