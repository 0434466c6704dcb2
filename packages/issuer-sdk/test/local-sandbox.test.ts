// The local entry puts the issuer's private key (and card data) in the app: it runs only when told it is a sandbox.
import { inspect } from 'node:util';
import { ProvisioningError, type Invocation, manualClock, openProvisioningRequest } from '@pushprov/protocol';
import { describe, expect, it } from 'vitest';
import { createInvocationSigner, createLocalRequestBuilder } from '../src/local.js';
import { AUDIENCE, CARD, ISSUER_ID, NOW, identifiers, keys } from './support/fixtures.js';

function thrownBy(make: () => unknown): ProvisioningError {
  let thrown: unknown;
  try {
    make();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ProvisioningError);
  return thrown as ProvisioningError;
}

/** Nothing of the private key may be in the error (message, details, inspect output). */
function expectNoKey(error: ProvisioningError, d: string): void {
  const text = `${JSON.stringify(error)}\n${error.message}\n${inspect(error, { depth: 8 })}`;
  expect(text).not.toContain(d);
}

describe('createLocalRequestBuilder: sandbox only', () => {
  it.each([
    ['no sandbox option', {}],
    ['sandbox: false', { sandbox: false }],
    ['sandbox: "true" (a string)', { sandbox: 'true' }],
    ['sandbox: 1', { sandbox: 1 }],
  ])('refuses to be created with %s (configuration_invalid), before looking at anything else', async (_name, flag) => {
    const k = await keys();
    const options = { issuerId: ISSUER_ID, signingKey: k.issuer.privateJwk, tokenService: { audience: AUDIENCE, jwks: k.servicePublic }, ...flag };
    const error = thrownBy(() => createLocalRequestBuilder(options as unknown as Parameters<typeof createLocalRequestBuilder>[0]));
    expect(error).toMatchObject({ code: 'configuration_invalid' });
    expect(error.message).toContain('sandbox: true');
    expectNoKey(error, (k.issuer.privateJwk as { d: string }).d);
  });

  it('with sandbox: true, builds a request as before', async () => {
    const k = await keys();
    const builder = createLocalRequestBuilder({
      sandbox: true,
      issuerId: ISSUER_ID,
      signingKey: k.issuer.privateJwk,
      tokenService: { audience: AUDIENCE, jwks: k.servicePublic },
    });
    const ids = identifiers();
    const message = await builder.buildRequest({ identifiers: ids, card: CARD, accountRef: undefined }, { signal: new AbortController().signal });
    expect(message).toMatchObject({ type: 'provisioning-request', version: 1, sessionId: ids.sessionId });
  });

  it('puts an accountId it is given in the claims', async () => {
    const k = await keys();
    const clock = manualClock(NOW);
    const builder = createLocalRequestBuilder({ sandbox: true, issuerId: ISSUER_ID, signingKey: k.issuer.privateJwk, tokenService: { audience: AUDIENCE, jwks: k.servicePublic }, clock });
    const message = await builder.buildRequest({ identifiers: identifiers(), card: CARD, accountId: 'acct-7f3a' }, { signal: new AbortController().signal });
    const opened = await openProvisioningRequest(message.encryptedRequest!, {
      decryptionKeys: k.servicePrivate,
      issuerKeys: () => k.issuer.publicJwk,
      audience: AUDIENCE,
      clock,
    });
    expect(opened.claims).toMatchObject({ accountId: 'acct-7f3a', card: CARD });
  });
});

describe('createInvocationSigner: sandbox only', () => {
  it.each([
    ['no options', undefined],
    ['sandbox: false', { sandbox: false }],
    ['an empty object', {}],
  ])('refuses to be created with %s (configuration_invalid)', async (_name, options) => {
    const k = await keys();
    const error = thrownBy(() => createInvocationSigner(k.issuer.privateJwk, options as unknown as { sandbox: true }));
    expect(error).toMatchObject({ code: 'configuration_invalid' });
    expectNoKey(error, (k.issuer.privateJwk as { d: string }).d);
  });

  it('with { sandbox: true }, signs', async () => {
    const k = await keys();
    const iat = Math.floor(NOW / 1000);
    const invocation: Invocation = {
      type: 'invocation',
      version: 1,
      sessionId: identifiers().sessionId,
      issuerId: ISSUER_ID,
      account: { last4: '1111', network: 'visa' },
      iat,
      exp: iat + 300,
    };
    const signed = await createInvocationSigner(k.issuer.privateJwk, { sandbox: true })(invocation, { accountRef: undefined, signal: new AbortController().signal });
    expect(signed.signature).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
