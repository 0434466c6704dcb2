import { calculateJwkThumbprint } from 'jose';
import { type AccessData, decryptAccessData, encryptAccessData, parsePublicJwks, toPublicJwk } from '@pushprov/protocol';
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../src/device-key/generate-device-key.js';

const accessData: AccessData = {
  tokenReferenceId: 'tok_device_key_test',
  tokenNumber: '4895370000000007',
  tokenExpiry: { month: 12, year: 2030 },
  status: 'active',
  panLast4: '1111',
  issuerId: 'bank-a',
  issuedAt: 1_800_000_000,
};

describe('generateDeviceKey (WebCrypto)', () => {
  it('makes a P-256 ECDH-ES+A256KW pair whose kid is its RFC 7638 thumbprint', async () => {
    const { publicJwk, privateJwk } = await generateDeviceKey();
    expect(parsePublicJwks({ keys: [publicJwk] }).keys[0]).toEqual(publicJwk);
    expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', use: 'enc' });
    expect(publicJwk).not.toHaveProperty('d');
    expect(privateJwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(publicJwk.kid).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));
    expect(privateJwk).toEqual({ ...publicJwk, d: privateJwk.d });
  });

  it('opens access data encrypted to its public half, and only its own', async () => {
    const mine = await generateDeviceKey();
    const other = await generateDeviceKey();
    expect(other.publicJwk.kid).not.toBe(mine.publicJwk.kid);
    const { kty, crv, x, y } = toPublicJwk(mine.publicJwk);
    const jwe = await encryptAccessData(accessData, { kty: kty as 'EC', crv: crv as 'P-256', x: x!, y: y! });
    await expect(decryptAccessData(jwe, mine.privateJwk)).resolves.toEqual(accessData);
    await expect(decryptAccessData(jwe, other.privateJwk)).rejects.toMatchObject({ code: 'decryption_failed' });
  });
});
