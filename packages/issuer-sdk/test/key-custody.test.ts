// Issue 17 item 5: the issuer's signing key behind a handle, here a non-extractable WebCrypto key.
import { inspect } from 'node:util';
import {
  type Invocation,
  ProvisioningError,
  type SigningKeyHandle,
  isProvisioningError,
  manualClock,
  openProvisioningRequest,
  signingKeyFromCryptoKey,
  signingKeyFromJwk,
  verifyInvocationSignature,
} from '@pushprov/protocol';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInvocationSigner, createLocalRequestBuilder } from '../src/local.js';
import { createProvisioningRequestBuilder } from '../src/server.js';
import { AUDIENCE, CARD, ISSUER_ID, NOW, identifiers, keys } from './support/fixtures.js';
import { type JwksServer, startJwksServer } from './support/jwks-server.js';

type User = { id: string };
const ALICE: User = { id: 'alice' };

let hsmKey: CryptoKey;
let handle: SigningKeyHandle;

beforeAll(async () => {
  // Generated in WebCrypto, non-extractable: the private key never exists as a JWK.
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: false });
  hsmKey = privateKey;
  handle = signingKeyFromCryptoKey(privateKey, { kid: 'issuer-hsm-1', alg: 'ES256', publicJwk: await exportJWK(publicKey) });
});

const servers: JwksServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serverBuilder(signingKey: Parameters<typeof createProvisioningRequestBuilder<User>>[0]['signingKey']) {
  const k = await keys();
  const server = await startJwksServer(k.servicePublic);
  servers.push(server);
  return createProvisioningRequestBuilder<User>({
    issuerId: ISSUER_ID,
    signingKey,
    tokenService: { audience: AUDIENCE, jwksUrl: server.url },
    walletProviders: ['wallet-co'],
    lookupCard: (accountRef, user) => (user.id === 'alice' && accountRef === 'acc_1' ? CARD : null),
    clock: manualClock(NOW),
  });
}

/** Opens a request as the token service does, trusting `trusted` as the issuer's keys. */
async function open(encryptedRequest: string, trusted: { kid: string }[]) {
  const k = await keys();
  return openProvisioningRequest(encryptedRequest, {
    decryptionKeys: k.servicePrivate,
    issuerKeys: (iss, kid) => (iss === ISSUER_ID ? (trusted.find((key) => key.kid === kid) as never) : undefined),
    audience: AUDIENCE,
    clock: manualClock(NOW),
  });
}

function invocation(): Invocation {
  const iat = Math.floor(NOW / 1000);
  return { type: 'invocation', version: 1, sessionId: identifiers().sessionId, issuerId: ISSUER_ID, account: { last4: '1111', network: 'visa' }, iat, exp: iat + 300 };
}

describe('the backend builder with a non-extractable signing key', () => {
  it('the key cannot be exported', async () => {
    expect(hsmKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', hsmKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', hsmKey)).rejects.toThrow();
  });

  it('builds requests the token service opens with the handle public key, and signs invocations', async () => {
    const builder = await serverBuilder(handle);
    const message = await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    const opened = await open(message.encryptedRequest!, [handle.publicJwk]);
    expect(opened.signingKid).toBe('issuer-hsm-1');
    expect(opened.claims).toMatchObject({ iss: ISSUER_ID, card: CARD });
    const signed = await builder.signInvocation({ accountRef: 'acc_1', invocation: invocation(), user: ALICE });
    await expect(verifyInvocationSignature(signed, { keys: [handle.publicJwk] })).resolves.toBeUndefined();
  });

  it('a handle whose kid the token service does not trust: unknown_issuer, as for a JWK', async () => {
    const k = await keys();
    const builder = await serverBuilder(handle);
    const message = await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    await expect(open(message.encryptedRequest!, [k.issuer.publicJwk])).rejects.toMatchObject({ code: 'unknown_issuer' });
    // the same for the JWK path
    const jwkBuilder = await serverBuilder(k.issuer.privateJwk);
    const jwkMessage = await jwkBuilder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    await expect(open(jwkMessage.encryptedRequest!, [handle.publicJwk])).rejects.toMatchObject({ code: 'unknown_issuer' });
    expect((await open(jwkMessage.encryptedRequest!, [k.issuer.publicJwk])).signingKid).toBe('issuer-1');
  });

  it('a handle of a private JWK, and an imported non-extractable JWK, work alike', async () => {
    const k = await keys();
    const fromJwk = await serverBuilder(signingKeyFromJwk(k.issuer.privateJwk));
    const a = await fromJwk.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect((await open(a.encryptedRequest!, [k.issuer.publicJwk])).signingKid).toBe('issuer-1');
    const imported = (await importJWK(k.issuer.privateJwk, 'ES256', { extractable: false })) as CryptoKey;
    const fromImport = await serverBuilder(signingKeyFromCryptoKey(imported, { kid: 'issuer-1', alg: 'ES256', publicJwk: k.issuer.publicJwk }));
    const b = await fromImport.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect((await open(b.encryptedRequest!, [k.issuer.publicJwk])).signingKid).toBe('issuer-1');
  });

  it('a handle that is not one, or gives no key: configuration_invalid when created, unknown_key when building', async () => {
    const bad = [{ ...handle, alg: 'RS256' }, { ...handle, kid: 'has space' }, { ...handle, publicJwk: { ...handle.publicJwk, kid: 'other' } }];
    for (const signingKey of bad) {
      const error = await serverBuilder(signingKey as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProvisioningError);
      expect(error).toMatchObject({ code: 'configuration_invalid' });
    }
    const down = await serverBuilder({ ...handle, key: () => Promise.reject(new Error('HSM offline')) });
    const error = await down.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }).catch((e: unknown) => e);
    expect(isProvisioningError(error, 'unknown_key')).toBe(true);
  });

  it('a private JWK that is refused says nothing of the key', async () => {
    const k = await keys();
    const d = (k.issuer.privateJwk as { d: string }).d;
    const error = await serverBuilder({ ...k.issuer.privateJwk, alg: 'RS256' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'configuration_invalid' });
    expect(`${JSON.stringify(error)}\n${inspect(error, { depth: 8 })}`).not.toContain(d);
  });
});

describe('the sandbox local builder and invocation signer with a non-extractable key', () => {
  it('still refuses without sandbox: true, and works with it', async () => {
    const k = await keys();
    expect(() =>
      createLocalRequestBuilder({ issuerId: ISSUER_ID, signingKey: handle, tokenService: { audience: AUDIENCE, jwks: k.servicePublic } } as never),
    ).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    expect(() => createInvocationSigner(handle, {} as never)).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));

    const builder = createLocalRequestBuilder({
      sandbox: true,
      issuerId: ISSUER_ID,
      signingKey: handle,
      tokenService: { audience: AUDIENCE, jwks: k.servicePublic },
      clock: manualClock(NOW),
    });
    const message = await builder.buildRequest({ identifiers: identifiers(), card: CARD, accountRef: undefined }, { signal: new AbortController().signal });
    expect((await open(message.encryptedRequest!, [handle.publicJwk])).signingKid).toBe('issuer-hsm-1');

    const signed = await createInvocationSigner(handle, { sandbox: true })(invocation(), { accountRef: undefined, signal: new AbortController().signal });
    await expect(verifyInvocationSignature(signed, { keys: [handle.publicJwk] })).resolves.toBeUndefined();
  });

  it('refuses a bad handle with configuration_invalid', () => {
    expect(() => createInvocationSigner({ ...handle, alg: 'HS256' } as never, { sandbox: true })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });
});
