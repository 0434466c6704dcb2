import { beforeAll, describe, expect, it } from 'vitest';
import {
  INVOCATION_JWS_TYP,
  type Invocation,
  type JwkPair,
  ProvisioningError,
  REQUEST_JWS_TYP,
  canonicalJson,
  generateSigningKey,
  parseInvocation,
  signInvocation,
  verifyInvocationSignature,
} from '../src/index.js';
import { craftJws, headerOf } from '../scripts/lib/jose-craft.js';
import { sampleInvocation } from './helpers/samples.js';

let issuer: JwkPair;
let issuerEd: JwkPair;
let impostor: JwkPair;

beforeAll(async () => {
  [issuer, issuerEd, impostor] = await Promise.all([
    generateSigningKey({ kid: 'bank-a-1' }),
    generateSigningKey({ alg: 'EdDSA', kid: 'bank-a-ed' }),
    generateSigningKey({ kid: 'bank-a-1' }),
  ]);
});

const keys = () => ({ keys: [issuer.publicJwk, issuerEd.publicJwk] });

async function verify(invocation: Invocation, issuerKeys = keys()): Promise<string> {
  try {
    await verifyInvocationSignature(invocation, issuerKeys);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

const unsignedPayload = (invocation: Invocation) => {
  const { signature: _s, ...rest } = invocation;
  return canonicalJson(rest);
};

describe('invocation signatures', () => {
  it.each(['ES256', 'EdDSA'] as const)('sign and verify with %s', async (alg) => {
    const key = alg === 'ES256' ? issuer : issuerEd;
    const signed = await signInvocation(sampleInvocation(), key.privateJwk);
    expect(headerOf(signed.signature!)).toEqual({ alg, kid: key.privateJwk.kid, typ: INVOCATION_JWS_TYP });
    expect(parseInvocation(JSON.stringify(signed))).toEqual(signed);
    expect(await verify(signed)).toBe('ok');
  });

  it('does not depend on member order (canonical JSON)', async () => {
    const signed = await signInvocation(sampleInvocation(), issuer.privateJwk);
    const reordered = Object.fromEntries(Object.entries(signed).reverse()) as Invocation;
    expect(await verify(reordered)).toBe('ok');
  });

  it.each([
    ['sessionId', (i: Invocation) => ({ ...i, sessionId: 'Z'.repeat(22) })],
    ['issuerId', (i: Invocation) => ({ ...i, issuerId: 'bank-b' })],
    ['last4', (i: Invocation) => ({ ...i, account: { ...i.account, last4: '9999' } })],
    ['product name', (i: Invocation) => ({ ...i, account: { ...i.account, productName: 'Gold' } })],
    ['replyTo', (i: Invocation) => ({ ...i, replyTo: 'https://evil.example/steal' })],
    ['a removed replyTo', (i: Invocation) => ({ ...i, replyTo: undefined })],
    ['exp', (i: Invocation) => ({ ...i, exp: i.exp + 3600 })],
  ])('covers %s', async (_name, change) => {
    const signed = await signInvocation(sampleInvocation(), issuer.privateJwk);
    expect(await verify(change(signed) as Invocation)).toBe('signature_invalid');
  });

  it('refuses an unsigned invocation', async () => {
    expect(await verify(sampleInvocation())).toBe('signature_invalid');
  });

  it('refuses a kid the issuer does not have, or a key of another algorithm', async () => {
    const signed = await signInvocation(sampleInvocation(), issuer.privateJwk);
    expect(await verify(signed, { keys: [issuerEd.publicJwk] })).toBe('unknown_issuer');
    expect(await verify(signed, { keys: [{ ...issuerEd.publicJwk, kid: 'bank-a-1' }] })).toBe('unknown_issuer');
  });

  it('refuses a signature by another key under the same kid', async () => {
    const forged = await signInvocation(sampleInvocation(), impostor.privateJwk);
    expect(await verify(forged)).toBe('signature_invalid');
  });

  it.each([
    ['alg none', { alg: 'none', kid: 'bank-a-1', typ: INVOCATION_JWS_TYP }],
    ['HS256', { alg: 'HS256', kid: 'bank-a-1', typ: INVOCATION_JWS_TYP }],
    ['the request typ', { alg: 'ES256', kid: 'bank-a-1', typ: REQUEST_JWS_TYP }],
    ['no typ', { alg: 'ES256', kid: 'bank-a-1' }],
    ['an embedded jwk', { alg: 'ES256', kid: 'bank-a-1', typ: INVOCATION_JWS_TYP, jwk: { kty: 'EC' } }],
    ['jku', { alg: 'ES256', kid: 'bank-a-1', typ: INVOCATION_JWS_TYP, jku: 'https://evil.example/' }],
  ])('refuses a header with %s', async (_name, header) => {
    const invocation = sampleInvocation();
    const signature = await craftJws({ header, payload: unsignedPayload(invocation), signature: 'c2lnbmF0dXJl' });
    expect(await verify({ ...invocation, signature })).toBe('jws_header_rejected');
  });

  it('refuses a signature whose header is not JSON', async () => {
    expect(await verify({ ...sampleInvocation(), signature: 'bm90IGpzb24.e30.c2ln' })).toBe('jws_header_rejected');
  });
});
