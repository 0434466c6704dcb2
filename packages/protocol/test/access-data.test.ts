import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_DATA_CTY,
  type JwkPair,
  type PublicEcJwk,
  BindingError,
  ProvisioningError,
  checkAccessData,
  decryptAccessData,
  encryptAccessData,
  generateEncryptionKey,
} from '../src/index.js';
import { craftJwe, flipByte, headerOf, rewriteProtectedHeader } from '../scripts/lib/jose-craft.js';
import { expectCode, exposedText } from './helpers/fixture.js';
import { sampleAccessData } from './helpers/samples.js';

const CEK = new Uint8Array(32).fill(5);
const HEADER = { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: ACCESS_DATA_CTY, kid: 'device-key' };

let device: JwkPair;
let devicePublic: PublicEcJwk;

beforeAll(async () => {
  device = await generateEncryptionKey({ kid: 'device-key' });
  devicePublic = { kty: 'EC', crv: 'P-256', x: device.publicJwk.x!, y: device.publicJwk.y!, kid: 'device-key' };
});

async function decrypt(jwe: string, key = device.privateJwk): Promise<string> {
  try {
    await decryptAccessData(jwe, key);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(await exposedText(error)).not.toContain(sampleAccessData().tokenNumber);
    return (error as ProvisioningError).code;
  }
}

async function craft(plaintext: string, header: Record<string, unknown> = {}): Promise<string> {
  const base = await craftJwe({ header: HEADER, plaintext, recipient: device.publicJwk, cek: CEK });
  return rewriteProtectedHeader(base, { ...headerOf(base), ...header }, CEK);
}

describe('access data encrypted to the device key', () => {
  it('round-trips, hides the token number, and carries the profile header', async () => {
    const jwe = await encryptAccessData(sampleAccessData(), devicePublic);
    expect(jwe).not.toContain(sampleAccessData().tokenNumber);
    const header = headerOf(jwe);
    expect(Object.keys(header).sort()).toEqual(['alg', 'cty', 'enc', 'epk', 'kid']);
    expect(header).toMatchObject(HEADER);
    expect(await decryptAccessData(jwe, device.privateJwk)).toEqual(sampleAccessData());
  });

  it('leaves kid out when the device key has none', async () => {
    const { kid: _kid, ...anonymous } = devicePublic;
    const jwe = await encryptAccessData(sampleAccessData(), anonymous);
    expect('kid' in headerOf(jwe)).toBe(false);
    expect(await decryptAccessData(jwe, device.privateJwk)).toEqual(sampleAccessData());
  });

  it('refuses access data addressed to another device key by kid, before decrypting', async () => {
    const plaintext = JSON.stringify(sampleAccessData());
    expect(await decrypt(await craft(plaintext, { kid: 'device-key' }))).toBe('ok');
    expect(await decrypt(await craft(plaintext, { kid: 'another-device' }))).toBe('unknown_key');
    // Without a kid in the header, decryption alone decides (a device key without kid leaves it out).
    const base = await craft(plaintext);
    const { kid: _kid, ...noKid } = headerOf(base);
    expect(await decrypt(await rewriteProtectedHeader(base, noKid, CEK))).toBe('ok');
  });

  it('refuses to encrypt access data that does not match its schema', async () => {
    await expect(encryptAccessData({ ...sampleAccessData(), status: 'deleted' } as never, devicePublic)).rejects.toMatchObject({ code: 'invalid_message' });
  });

  it('cannot be read with another device key', async () => {
    const other = await generateEncryptionKey({ kid: 'device-key' });
    expect(await decrypt(await encryptAccessData(sampleAccessData(), devicePublic), other.privateJwk)).toBe('decryption_failed');
  });

  it('refuses tampering with any segment', async () => {
    const jwe = await encryptAccessData(sampleAccessData(), devicePublic);
    for (const segment of [1, 2, 3, 4]) expect(await decrypt(flipByte(jwe, segment, 0))).toBe('decryption_failed');
    expect(['jwe_header_rejected', 'decryption_failed']).toContain(await decrypt(flipByte(jwe, 0, 5)));
  });

  it.each([
    ['zip', { zip: 'DEF' }],
    ['jku', { jku: 'https://evil.example/' }],
    ['crit', { crit: ['x'] }],
    ['the request cty', { cty: 'JWT' }],
    ['alg ECDH-ES', { alg: 'ECDH-ES' }],
    ['enc A128GCM', { enc: 'A128GCM' }],
    ['an epk with a private part', { epk: { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43), d: 'd'.repeat(43) } }],
  ])('refuses a header with %s', async (_name, extra) => {
    expect(await decrypt(await craft(JSON.stringify(sampleAccessData()), extra))).toBe('jwe_header_rejected');
  });

  it('refuses a header without cty', async () => {
    const base = await craft(JSON.stringify(sampleAccessData()));
    const { cty: _cty, ...header } = headerOf(base);
    expect(await decrypt(await rewriteProtectedHeader(base, header, CEK))).toBe('jwe_header_rejected');
  });

  it('schema-checks what it decrypts', async () => {
    expect(await decrypt(await craft(JSON.stringify(sampleAccessData())))).toBe('ok');
    expect(await decrypt(await craft(JSON.stringify({ ...sampleAccessData(), extra: 1 })))).toBe('invalid_message');
    expect(await decrypt(await craft('{"tokenReferenceId":"a","tokenReferenceId":"b"}'))).toBe('invalid_json');
    const { tokenNumber } = sampleAccessData();
    const badLuhn = tokenNumber.slice(0, -1) + String((Number(tokenNumber.slice(-1)) + 1) % 10);
    expect(await decrypt(await craft(JSON.stringify({ ...sampleAccessData(), tokenNumber: badLuhn })))).toBe('card_invalid');
  });
});

describe('checkAccessData', () => {
  const session = { issuerId: 'bank-a', panLast4: '1111', tokenReferenceId: 'tok_1', status: 'active' as const };

  it('accepts access data for the session’s issuer, card and token', () => {
    expect(() => checkAccessData(sampleAccessData(), session)).not.toThrow();
    const { status: _status, ...withoutStatus } = session;
    expect(() => checkAccessData(sampleAccessData(), withoutStatus)).not.toThrow();
  });

  it.each([
    ['issuerId', { issuerId: 'bank-b' }],
    ['panLast4', { panLast4: '4444' }],
    ['tokenReferenceId', { tokenReferenceId: 'tok_2' }],
    ['status', { status: 'pending_activation' }],
  ] as const)('refuses another %s with access_data_mismatch, naming the member and no value', async (member, change) => {
    const accessData = { ...sampleAccessData(), ...change };
    const error = await expectCode(() => checkAccessData(accessData, session), 'access_data_mismatch');
    expect(error).toBeInstanceOf(BindingError);
    expect(error.message).toContain(member);
    const text = await exposedText(error);
    expect(text).not.toContain(accessData.tokenNumber);
    for (const value of Object.values(change)) expect(text).not.toContain(value);
  });

  it('refuses when the session misses what it must know (a JavaScript caller)', async () => {
    await expectCode(() => checkAccessData(sampleAccessData(), { tokenReferenceId: 'tok_1', panLast4: '1111' } as never), 'access_data_mismatch');
  });
});
