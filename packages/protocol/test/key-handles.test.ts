import { createPrivateKey } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DecryptionKeyHandle,
  type KeyJwk,
  type SigningKeyHandle,
  createClientAssertion,
  decryptAccessData,
  decryptionKeyFromCryptoKey,
  decryptionKeyFromJwk,
  encryptAccessData,
  generateEncryptionKey,
  manualClock,
  openProvisioningRequest,
  sealProvisioningRequest,
  signInvocation,
  signingKeyFromCryptoKey,
  signingKeyFromJwk,
  toPublicJwk,
  verifyClientAssertion,
  verifyInvocationSignature,
} from '../src/index.js';
import { isKeyHandle, toDecryptionKeyHandle, toSigningKeyHandle } from '../src/internal.js';
import { type Fixture, NOW_MS, createFixture, expectCode, exposedText } from './helpers/fixture.js';
import { sampleAccessData, sampleInvocation } from './helpers/samples.js';

/** Expects the key to refuse every export WebCrypto offers. */
async function expectNotExportable(key: CryptoKey): Promise<void> {
  expect(key.extractable).toBe(false);
  for (const format of ['jwk', 'pkcs8'] as const) {
    await expect(crypto.subtle.exportKey(format, key)).rejects.toThrow();
  }
  await expect(exportJWK(key)).rejects.toThrow();
}

/** A non-extractable ES256 signing handle, generated in WebCrypto (the private key never existed as a JWK). */
async function generatedSigningHandle(kid: string): Promise<{ handle: SigningKeyHandle; privateKey: CryptoKey; publicJwk: KeyJwk }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: false });
  const handle = signingKeyFromCryptoKey(privateKey, { kid, alg: 'ES256', publicJwk: await exportJWK(publicKey) });
  return { handle, privateKey, publicJwk: handle.publicJwk };
}

/** A non-extractable ECDH-ES+A256KW decryption handle. */
async function generatedDecryptionHandle(kid: string): Promise<{ handle: DecryptionKeyHandle; privateKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { extractable: false });
  return { handle: decryptionKeyFromCryptoKey(privateKey, { kid, publicJwk: await exportJWK(publicKey) }), privateKey };
}

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});

describe('signing key handles', () => {
  it('from a private JWK: kid, alg and the public half, and nothing private in the handle', () => {
    const handle = signingKeyFromJwk(fx.issuer.privateJwk);
    expect(isKeyHandle(handle)).toBe(true);
    expect(handle).toMatchObject({ kid: 'bank-a-1', alg: 'ES256', publicJwk: fx.issuer.publicJwk });
    expect(Object.isFrozen(handle)).toBe(true);
    expect(JSON.stringify(handle)).not.toContain(fx.issuer.privateJwk.d!);
    expect(Object.values(handle).some((v) => typeof v === 'string' && v === fx.issuer.privateJwk.d)).toBe(false);
    expect(signingKeyFromJwk(fx.issuerEd.privateJwk)).toMatchObject({ kid: 'bank-a-ed', alg: 'EdDSA', publicJwk: fx.issuerEd.publicJwk });
  });

  it('from a JWK: refuses a public key, another algorithm and a bad kid with unknown_key, never repeating the key', async () => {
    await expectCode(() => signingKeyFromJwk(fx.issuer.publicJwk), 'unknown_key');
    await expectCode(() => signingKeyFromJwk(fx.service.privateJwk), 'unknown_key');
    const error = await expectCode(() => signingKeyFromJwk({ ...fx.issuer.privateJwk, kid: 'a b' }), 'unknown_key');
    expect(await exposedText(error)).not.toContain(fx.issuer.privateJwk.d!);
  });

  it('from a non-extractable CryptoKey: nothing exports it, and a sealed request opens', async () => {
    const { handle, privateKey, publicJwk } = await generatedSigningHandle('bank-a-hsm');
    await expectNotExportable(privateKey);
    expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'bank-a-hsm', alg: 'ES256' });
    const jwe = await sealProvisioningRequest({ claims: fx.claims, signingKey: handle, encryptionKey: fx.service.publicJwk });
    const opened = await openProvisioningRequest(jwe, { ...fx.options, issuerKeys: (iss, kid) => (iss === 'bank-a' && kid === 'bank-a-hsm' ? publicJwk : undefined) });
    expect(opened).toMatchObject({ claims: fx.claims, signingKid: 'bank-a-hsm', encryptionKid: 'ts-1' });
  });

  it('from a non-extractable EdDSA key imported from a JWK (extractable: false)', async () => {
    const privateKey = (await importJWK(fx.issuerEd.privateJwk, 'EdDSA', { extractable: false })) as CryptoKey;
    await expectNotExportable(privateKey);
    const handle = signingKeyFromCryptoKey(privateKey, { kid: 'bank-a-ed', alg: 'EdDSA', publicJwk: fx.issuerEd.publicJwk });
    const jwe = await sealProvisioningRequest({ claims: fx.claims, signingKey: handle, encryptionKey: fx.service.publicJwk });
    expect((await openProvisioningRequest(jwe, fx.options)).signingKid).toBe('bank-a-ed');
  });

  it('from a Node.js KeyObject', async () => {
    const keyObject = createPrivateKey({ key: fx.issuer.privateJwk as never, format: 'jwk' });
    const handle = signingKeyFromCryptoKey(keyObject, { kid: 'bank-a-1', alg: 'ES256', publicJwk: fx.issuer.publicJwk });
    const jwe = await sealProvisioningRequest({ claims: fx.claims, signingKey: handle, encryptionKey: fx.service.publicJwk });
    expect((await openProvisioningRequest(jwe, fx.options)).claims).toEqual(fx.claims);
  });

  it('from a CryptoKey: refuses a public key, a key of another algorithm or without sign, and a public JWK that is not its kid, alg or public', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: false });
    const publicJwk = await exportJWK(publicKey);
    await expectCode(() => signingKeyFromCryptoKey(publicKey, { kid: 'k', alg: 'ES256', publicJwk }), 'unknown_key');
    await expectCode(() => signingKeyFromCryptoKey(privateKey, { kid: 'k', alg: 'EdDSA', publicJwk }), 'unknown_key');
    const ecdh = await generateKeyPair('ECDH-ES+A256KW', { extractable: false });
    await expectCode(() => signingKeyFromCryptoKey(ecdh.privateKey, { kid: 'k', alg: 'ES256', publicJwk }), 'unknown_key');
    await expectCode(() => signingKeyFromCryptoKey(privateKey, { kid: 'k', alg: 'ES256', publicJwk: { ...publicJwk, kid: 'other' } }), 'unknown_key');
    await expectCode(() => signingKeyFromCryptoKey(privateKey, { kid: 'k', alg: 'ES256', publicJwk: fx.issuer.privateJwk }), 'unknown_key');
    await expectCode(() => signingKeyFromCryptoKey(privateKey, { kid: 'k', alg: 'ES256', publicJwk: fx.service.publicJwk }), 'unknown_key');
    expect(signingKeyFromCryptoKey(privateKey, { kid: 'k', alg: 'ES256', publicJwk }).publicJwk).toEqual({ ...toPublicJwk({ ...publicJwk, kid: 'k', alg: 'ES256' } as KeyJwk) });
  });

  it('toSigningKeyHandle checks a handle, and turns a JWK into one', async () => {
    const { handle } = await generatedSigningHandle('k-1');
    expect(toSigningKeyHandle(handle)).toBe(handle);
    expect(toSigningKeyHandle(fx.issuer.privateJwk)).toMatchObject({ kid: 'bank-a-1', alg: 'ES256' });
    await expectCode(() => toSigningKeyHandle({ ...handle, alg: 'RS256' } as never), 'unknown_key');
    await expectCode(() => toSigningKeyHandle({ ...handle, publicJwk: { ...handle.publicJwk, kid: 'k-2' } }), 'unknown_key');
    await expectCode(() => toSigningKeyHandle({ ...handle, kid: '' }), 'unknown_key');
  });

  it('a handle whose key cannot be had, or is not a key of the runtime WebCrypto, is unknown_key', async () => {
    const { handle } = await generatedSigningHandle('k-1');
    const unavailable: SigningKeyHandle = { ...handle, key: () => Promise.reject(new Error('HSM session closed')) };
    await expectCode(() => sealProvisioningRequest({ claims: fx.claims, signingKey: unavailable, encryptionKey: fx.service.publicJwk }), 'unknown_key');
    // jose takes an object tagged CryptoKey, but signs with globalThis.crypto.subtle, which refuses a key it did not make.
    const foreign = { [Symbol.toStringTag]: 'CryptoKey', type: 'private', extractable: false, algorithm: { name: 'ECDSA', namedCurve: 'P-256' }, usages: ['sign'] };
    const remote: SigningKeyHandle = { ...handle, key: () => foreign as unknown as CryptoKey };
    await expectCode(() => signInvocation(sampleInvocation(), remote), 'unknown_key');
    // a key of the wrong algorithm behind a handle
    const ecdh = await generateKeyPair('ECDH-ES+A256KW', { extractable: false });
    await expectCode(() => signInvocation(sampleInvocation(), { ...handle, key: () => ecdh.privateKey }), 'unknown_key');
  });

  it('signs invocations and client assertions with a non-extractable key', async () => {
    const { handle, publicJwk } = await generatedSigningHandle('bank-a-1');
    const signed = await signInvocation(sampleInvocation(), handle);
    await expect(verifyInvocationSignature(signed, { keys: [publicJwk] })).resolves.toBeUndefined();
    await expectCode(() => verifyInvocationSignature(signed, { keys: [fx.issuer.publicJwk] }), 'signature_invalid');

    const clock = manualClock(NOW_MS);
    const wallet = await generatedSigningHandle('wallet-co-1');
    const assertion = await createClientAssertion({ walletProviderId: 'wallet-co', audience: 'token-service', signingKey: wallet.handle, clock });
    const verified = await verifyClientAssertion(assertion, { walletProviderId: 'wallet-co', keys: { keys: [wallet.publicJwk] }, audience: 'token-service', clock });
    expect(verified.walletProviderId).toBe('wallet-co');
  });

  it('the JWK path is unchanged: private JWKs sign, public ones are unknown_key', async () => {
    const jwe = await sealProvisioningRequest({ claims: fx.claims, signingKey: fx.issuer.privateJwk, encryptionKey: fx.service.publicJwk });
    expect((await openProvisioningRequest(jwe, fx.options)).claims).toEqual(fx.claims);
    await expectCode(() => sealProvisioningRequest({ claims: fx.claims, signingKey: fx.issuer.publicJwk, encryptionKey: fx.service.publicJwk }), 'unknown_key');
    await expect(verifyInvocationSignature(await signInvocation(sampleInvocation(), fx.issuer.privateJwk), { keys: [fx.issuer.publicJwk] })).resolves.toBeUndefined();
  });
});

describe('decryption key handles', () => {
  it('from a private JWK: the public half, nothing private; a public or signing JWK is unknown_key', async () => {
    const handle = decryptionKeyFromJwk(fx.service.privateJwk);
    expect(handle).toMatchObject({ kid: 'ts-1', alg: 'ECDH-ES+A256KW', publicJwk: fx.service.publicJwk });
    expect(JSON.stringify(handle)).not.toContain(fx.service.privateJwk.d!);
    await expectCode(() => decryptionKeyFromJwk(fx.service.publicJwk), 'unknown_key');
    await expectCode(() => decryptionKeyFromJwk(fx.issuer.privateJwk), 'unknown_key');
    const jwe = await fx.seal();
    expect((await openProvisioningRequest(jwe, { ...fx.options, decryptionKeys: [handle] })).claims).toEqual(fx.claims);
  });

  it('from a non-extractable CryptoKey: nothing exports it, and requests encrypted to its public half open', async () => {
    const { handle, privateKey } = await generatedDecryptionHandle('ts-hsm');
    await expectNotExportable(privateKey);
    const jwe = await sealProvisioningRequest({ claims: fx.claims, signingKey: fx.issuer.privateJwk, encryptionKey: handle.publicJwk });
    const other = await generatedDecryptionHandle('ts-old');
    const opened = await openProvisioningRequest(jwe, { ...fx.options, decryptionKeys: [other.handle, handle] });
    expect(opened).toMatchObject({ claims: fx.claims, encryptionKid: 'ts-hsm' });
  });

  it('a kid no handle has is unknown_key; the wrong private key is decryption_failed', async () => {
    const { handle } = await generatedDecryptionHandle('ts-hsm');
    const jwe = await sealProvisioningRequest({ claims: fx.claims, signingKey: fx.issuer.privateJwk, encryptionKey: handle.publicJwk });
    const stranger = await generatedDecryptionHandle('ts-other');
    await expectCode(() => openProvisioningRequest(jwe, { ...fx.options, decryptionKeys: [stranger.handle] }), 'unknown_key');
    await expectCode(() => openProvisioningRequest(jwe, { ...fx.options, decryptionKeys: [] }), 'unknown_key');
    const impostor = decryptionKeyFromCryptoKey((await generatedDecryptionHandle('x')).privateKey, { kid: 'ts-hsm', publicJwk: handle.publicJwk });
    await expectCode(() => openProvisioningRequest(jwe, { ...fx.options, decryptionKeys: [impostor] }), 'decryption_failed');
  });

  it('a handle that gives no key is internal_error (the service, not the request)', async () => {
    const { handle } = await generatedDecryptionHandle('ts-hsm');
    const jwe = await sealProvisioningRequest({ claims: fx.claims, signingKey: fx.issuer.privateJwk, encryptionKey: handle.publicJwk });
    const down: DecryptionKeyHandle = { ...handle, key: () => Promise.reject(new Error('KMS unreachable')) };
    await expectCode(() => openProvisioningRequest(jwe, { ...fx.options, decryptionKeys: [down] }), 'internal_error');
  });

  it('from a CryptoKey: refuses a public key, a signing key and a private public JWK', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { extractable: false });
    const publicJwk = await exportJWK(publicKey);
    await expectCode(() => decryptionKeyFromCryptoKey(publicKey, { kid: 'k', publicJwk }), 'unknown_key');
    const signing = (await generateKeyPair('ES256')).privateKey;
    await expectCode(() => decryptionKeyFromCryptoKey(signing, { kid: 'k', publicJwk }), 'unknown_key');
    await expectCode(() => decryptionKeyFromCryptoKey(privateKey, { kid: 'k', publicJwk: fx.service.privateJwk }), 'unknown_key');
    await expectCode(() => toDecryptionKeyHandle({ ...decryptionKeyFromCryptoKey(privateKey, { kid: 'k', publicJwk }), alg: 'ECDH-ES' } as never), 'unknown_key');
  });

  it('decrypts access data with a non-extractable device key', async () => {
    const device = await generateEncryptionKey({ kid: 'device-key-1' });
    const privateKey = (await importJWK(device.privateJwk, 'ECDH-ES+A256KW', { extractable: false })) as CryptoKey;
    await expectNotExportable(privateKey);
    const handle = decryptionKeyFromCryptoKey(privateKey, { kid: 'device-key-1', publicJwk: device.publicJwk });
    const jwe = await encryptAccessData(sampleAccessData(), device.publicJwk as never);
    expect(await decryptAccessData(jwe, handle)).toEqual(sampleAccessData());
    expect(await decryptAccessData(jwe, device.privateJwk)).toEqual(sampleAccessData());
    await expectCode(() => decryptAccessData(jwe, { ...handle, kid: 'device-key-2' }), 'unknown_key');
  });
});
