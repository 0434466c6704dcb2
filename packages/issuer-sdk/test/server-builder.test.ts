import { createHash } from 'node:crypto';
import {
  type Invocation,
  type ProvisioningError,
  checkDeviceKeyBinding,
  createSessionId,
  deviceKeyThumbprint,
  generateEncryptionKey,
  isProvisioningError,
  manualClock,
  openProvisioningRequest,
  toPublicJwk,
  verifyInvocationSignature,
} from '@pushprov/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createProvisioningRequestBuilder, createRemoteJwks, type ProvisioningRequestBuilderOptions } from '../src/server.js';
import { AUDIENCE, CARD, ISSUER_ID, NOW, identifiers, keys } from './support/fixtures.js';
import { type JwksServer, closedLoopbackPort, startJwksServer } from './support/jwks-server.js';
import { TEST_PAN, expectNoPan } from './support/pan-guard.js';

type User = { id: string };
const ALICE: User = { id: 'alice' };

async function failure(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(
    () => {
      throw new Error('resolved');
    },
    (e: unknown) => e,
  );
  expect(isProvisioningError(error)).toBe(true);
  expectNoPan(error);
  return error as ProvisioningError;
}

const servers: JwksServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function makeBuilder(overrides: Partial<ProvisioningRequestBuilderOptions<User>> = {}, tokenService: Partial<ProvisioningRequestBuilderOptions<User>['tokenService']> = {}) {
  const k = await keys();
  const server = await startJwksServer(k.servicePublic);
  servers.push(server);
  const clock = manualClock(NOW);
  const builder = createProvisioningRequestBuilder<User>({
    issuerId: ISSUER_ID,
    signingKey: k.issuer.privateJwk,
    tokenService: { audience: AUDIENCE, jwksUrl: server.url, cacheTtlMs: 60_000, minRefreshIntervalMs: 10_000, ...tokenService },
    walletProviders: ['wallet-co'],
    lookupCard: (accountRef, user) => (user.id === 'alice' && accountRef === 'acc_1' ? CARD : null),
    clock,
    ...overrides,
  });
  return { k, server, clock, builder };
}

async function openWith(encryptedRequest: string, decryptionKeys: { keys: ReturnType<typeof toPublicJwk>[] }, clock: ReturnType<typeof manualClock>) {
  const k = await keys();
  return openProvisioningRequest(encryptedRequest, {
    decryptionKeys,
    issuerKeys: (_iss, kid) => (kid === k.issuer.publicJwk.kid ? k.issuer.publicJwk : undefined),
    audience: AUDIENCE,
    clock,
  });
}

describe('createProvisioningRequestBuilder: the bound request', () => {
  it('binds the claims to every identifier, carries the card, and encrypts to the service key by kid', async () => {
    const { k, clock, builder } = await makeBuilder();
    const ids = identifiers();
    const message = await builder.buildRequest({ accountRef: 'acc_1', identifiers: ids, user: ALICE });
    expect(Object.keys(message).sort()).toEqual(['encryptedRequest', 'sessionId', 'type', 'version']);
    expect(message.sessionId).toBe(ids.sessionId);
    expect(message.encryptedRequest).not.toContain(TEST_PAN);
    const opened = await openWith(message.encryptedRequest!, k.servicePrivate, clock);
    expect(opened.encryptionKid).toBe('svc-1');
    expect(opened.signingKid).toBe('issuer-1');
    expect(opened.claims).toMatchObject({
      iss: ISSUER_ID,
      aud: AUDIENCE,
      sid: ids.sessionId,
      walletProviderId: ids.walletProviderId,
      walletAccountId: ids.walletAccountId,
      deviceId: ids.deviceId,
      nonce: ids.nonce,
      card: CARD,
      iat: NOW / 1000,
      exp: NOW / 1000 + 300,
    });
  });

  it('puts no card art in the encrypted request (the wallet cannot read it): cardArtUrl goes in the signed invocation', async () => {
    const { k, clock, builder } = await makeBuilder({ cardArtUrl: 'https://cdn.bank.example/art/everyday-debit.png' });
    const message = await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect('cardArtUrl' in (await openWith(message.encryptedRequest!, k.servicePrivate, clock)).claims).toBe(false);
  });

  it('binds the wallet’s device key by its RFC 7638 thumbprint (cnf.jkt), and names none when the wallet sent none', async () => {
    const { k, clock, builder } = await makeBuilder();
    const device = await generateEncryptionKey({ kid: 'device-1' });
    const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: device.publicJwk.x!, y: device.publicJwk.y!, kid: 'device-1' };
    const keyed = await builder.buildRequest({ accountRef: 'acc_1', identifiers: { ...identifiers(), devicePublicKey }, user: ALICE });
    const opened = await openWith(keyed.encryptedRequest!, k.servicePrivate, clock);
    // RFC 7638 computed here without jose: the required members in lexicographic order, no whitespace.
    const jkt = createHash('sha256').update(`{"crv":"P-256","kty":"EC","x":"${devicePublicKey.x}","y":"${devicePublicKey.y}"}`).digest('base64url');
    expect(opened.claims.cnf).toEqual({ jkt });
    expect(await deviceKeyThumbprint(devicePublicKey)).toBe(jkt);
    await expect(checkDeviceKeyBinding(opened.claims, devicePublicKey)).resolves.toBeUndefined();
    const unkeyed = await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect('cnf' in (await openWith(unkeyed.encryptedRequest!, k.servicePrivate, clock)).claims).toBe(false);
  });

  it('puts the accountId the lookup returns with the card in the claims, and none when it returns none', async () => {
    const { k, clock, builder } = await makeBuilder({ lookupCard: (accountRef) => (accountRef === 'acc_1' ? { ...CARD, accountId: 'acct-7f3a' } : CARD) });
    const withId = await openWith((await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE })).encryptedRequest!, k.servicePrivate, clock);
    expect(withId.claims).toMatchObject({ accountId: 'acct-7f3a', card: CARD });
    expect('accountId' in withId.claims.card!).toBe(false);
    const without = await openWith((await builder.buildRequest({ accountRef: 'acc_2', identifiers: identifiers(), user: ALICE })).encryptedRequest!, k.servicePrivate, clock);
    expect('accountId' in without.claims).toBe(false);
    const { builder: bad } = await makeBuilder({ lookupCard: () => ({ ...CARD, accountId: 'not an id' }) });
    const error = await failure(bad.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }));
    expect(error.code).toBe('internal_error');
    expect(error.message).not.toContain(TEST_PAN);
  });

  it('no such account for this user: not_found, and the lookup gets the authenticated user', async () => {
    const { builder } = await makeBuilder();
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: { id: 'mallory' } }))).code).toBe('not_found');
  });

  it.each([
    ['an expired card', { ...CARD, expiry: { month: 10, year: 2026 } }, 'card_expired'],
    ['a card number failing Luhn', { ...CARD, pan: '4111111111111112' }, 'card_invalid'],
    ['a record that is not a card', { number: TEST_PAN }, 'internal_error'],
  ])('%s from the lookup: %s, no PAN in the error', async (_name, card, code) => {
    const { builder } = await makeBuilder({ lookupCard: () => card as typeof CARD });
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe(code);
  });

  it('a lookup that throws: internal_error without its message', async () => {
    const { builder } = await makeBuilder({
      lookupCard: () => {
        throw new Error(`db row ${TEST_PAN} locked`);
      },
    });
    const error = await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }));
    expect(error.code).toBe('internal_error');
    expect(error.message).not.toContain('locked');
  });

  it.each([
    ['a bad accountRef', { accountRef: 'acc 1' }],
    ['identifiers with an unknown member', { identifiers: { ...identifiers(), pan: TEST_PAN } }],
    ['identifiers with a short nonce', { identifiers: { ...identifiers(), nonce: 'abc' } }],
  ])('%s: invalid_message', async (_name, input) => {
    const { builder } = await makeBuilder();
    const error = await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE, ...(input as object) }));
    expect(error.code).toBe('invalid_message');
  });
});

describe('token service keys: fetched, cached, rotated', () => {
  it('key rotated: after the cache lifetime the new kid is used, without a restart', async () => {
    const { k, server, clock, builder } = await makeBuilder();
    const first = await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect((await openWith(first.encryptedRequest!, k.servicePrivate, clock)).encryptionKid).toBe('svc-1');

    const next = await generateEncryptionKey({ kid: 'svc-2' });
    server.setKeys({ keys: [toPublicJwk(next.publicJwk)] });
    // Still cached: no fetch.
    await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect(server.hits).toBe(1);

    clock.advance(60_000);
    const rotated = await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect(server.hits).toBe(2);
    const opened = await openWith(rotated.encryptedRequest!, { keys: [next.privateJwk] }, clock);
    expect(opened.encryptionKid).toBe('svc-2');
    await expect(openWith(rotated.encryptedRequest!, k.servicePrivate, clock)).rejects.toMatchObject({ code: 'unknown_key' });
  });

  it('a pinned kid the set lacks: unknown_key; refetched at most once per interval; works once published', async () => {
    const { k, server, clock, builder } = await makeBuilder({}, { kid: 'svc-3' });
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe('unknown_key');
    expect(server.hits).toBe(1);
    clock.advance(5_000);
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe('unknown_key');
    expect(server.hits).toBe(1);

    const next = await generateEncryptionKey({ kid: 'svc-3' });
    server.setKeys({ keys: [toPublicJwk(next.publicJwk), ...k.servicePublic.keys] });
    clock.advance(5_000);
    const message = await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect(server.hits).toBe(2);
    expect((await openWith(message.encryptedRequest!, { keys: [next.privateJwk] }, clock)).encryptionKid).toBe('svc-3');
  });

  it('a set without encryption keys: unknown_key', async () => {
    const { k, server, builder } = await makeBuilder();
    server.setKeys({ keys: [toPublicJwk(k.issuer.publicJwk)] });
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe('unknown_key');
  });

  it.each([
    ['private key members', (pub: object) => JSON.stringify({ keys: [{ ...pub, d: 'x'.repeat(43) }] }), 'application/json'],
    ['duplicate kids', (pub: object) => JSON.stringify({ keys: [pub, pub] }), 'application/json'],
    ['an unknown algorithm', (pub: object) => JSON.stringify({ keys: [{ ...pub, alg: 'RSA-OAEP' }] }), 'application/json'],
    ['duplicate JSON keys', () => '{"keys":[],"keys":[]}', 'application/json'],
    ['HTML', () => '<html></html>', 'text/html'],
    ['not JSON', () => 'keys', 'application/json'],
  ])('a key set with %s: unknown_key', async (_name, body, type) => {
    const { k, server, builder } = await makeBuilder();
    server.setBody(200, body(k.servicePublic.keys[0]!), type);
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe('unknown_key');
  });

  it('key set server down (connection refused): network_error', async () => {
    const port = await closedLoopbackPort();
    const { builder } = await makeBuilder({}, { jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
    const error = await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }));
    expect(error).toMatchObject({ code: 'network_error', retryable: true });
  });

  it('key set server failing: network_error, not retried within the interval, recovers after it', async () => {
    const { k, server, clock, builder } = await makeBuilder();
    server.setBody(503, 'busy', 'text/plain');
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe('network_error');
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe('network_error');
    expect(server.hits).toBe(1);
    server.setKeys(k.servicePublic);
    clock.advance(10_000);
    await builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE });
    expect(server.hits).toBe(2);
  });

  it('a key set server that never answers: timeout', async () => {
    const { builder } = await makeBuilder({}, { jwksUrl: 'https://ts.example/jwks.json', timeoutMs: 30, fetch: () => new Promise(() => {}) });
    expect((await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: identifiers(), user: ALICE }))).code).toBe('timeout');
  });

  it('concurrent lookups share one fetch', async () => {
    const k = await keys();
    const server = await startJwksServer(k.servicePublic);
    servers.push(server);
    const jwks = createRemoteJwks({ url: server.url });
    const found = await Promise.all([jwks.getEncryptionKey(), jwks.getEncryptionKey(), jwks.getKeys()]);
    expect(found[0].kid).toBe('svc-1');
    expect(server.hits).toBe(1);
  });

  it.each(['http://ts.example/jwks.json', 'https://u:p@ts.example/jwks.json', 'file:///etc/jwks.json', 'not a url'])(
    'refuses the key set URL %j (configuration_invalid)',
    (url) => {
      expect(() => createRemoteJwks({ url })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    },
  );

  it('allows http on localhost and 127.0.0.1 only', () => {
    expect(() => createRemoteJwks({ url: 'http://localhost:8080/jwks.json' })).not.toThrow();
    expect(() => createRemoteJwks({ url: 'http://127.0.0.1:8080/jwks.json' })).not.toThrow();
  });
});

describe('signInvocation on the backend', () => {
  const invocation = (overrides: Partial<Invocation> = {}): Invocation => ({
    type: 'invocation',
    version: 1,
    sessionId: createSessionId(),
    issuerId: ISSUER_ID,
    account: { last4: '1111', network: 'visa' },
    iat: NOW / 1000,
    exp: NOW / 1000 + 300,
    ...overrides,
  });

  it('signs an invocation that shows the account, verifiable with the issuer keys', async () => {
    const { k, builder } = await makeBuilder();
    const unsigned = invocation({ signature: 'a.b.c' });
    const signed = await builder.signInvocation({ accountRef: 'acc_1', invocation: unsigned, user: ALICE });
    expect(signed.signature).not.toBe('a.b.c');
    await expect(verifyInvocationSignature(signed, k.issuerPublic)).resolves.toBeUndefined();
  });

  it('with allowedReplyTo: signs an allowed replyTo, refuses another (forbidden)', async () => {
    const { builder } = await makeBuilder({ allowedReplyTo: ['https://bank.example/wallet-return'] });
    const ok = await builder.signInvocation({ accountRef: 'acc_1', invocation: invocation({ replyTo: 'https://bank.example/wallet-return' }), user: ALICE });
    expect(ok.signature).toBeDefined();
    const error = await failure(builder.signInvocation({ accountRef: 'acc_1', invocation: invocation({ replyTo: 'https://evil.example/collect' }), user: ALICE }));
    expect(error.code).toBe('forbidden');
  });

  it('signs card art only when it is the configured cardArtUrl (forbidden otherwise); the art is covered by the signature', async () => {
    const ART = 'https://cdn.bank.example/art/everyday-debit.png';
    const { k, builder } = await makeBuilder({ cardArtUrl: ART });
    const signed = await builder.signInvocation({ accountRef: 'acc_1', invocation: invocation({ account: { last4: '1111', network: 'visa', cardArtUrl: ART } }), user: ALICE });
    await expect(verifyInvocationSignature(signed, k.issuerPublic)).resolves.toBeUndefined();
    await expect(verifyInvocationSignature({ ...signed, account: { ...signed.account!, cardArtUrl: 'https://evil.example/art.png' } }, k.issuerPublic)).rejects.toMatchObject({
      code: 'signature_invalid',
    });
    const other = invocation({ account: { last4: '1111', network: 'visa', cardArtUrl: 'https://evil.example/art.png' } });
    expect((await failure(builder.signInvocation({ accountRef: 'acc_1', invocation: other, user: ALICE }))).code).toBe('forbidden');
    const { builder: plain } = await makeBuilder();
    expect((await failure(plain.signInvocation({ accountRef: 'acc_1', invocation: invocation({ account: { last4: '1111', network: 'visa', cardArtUrl: ART } }), user: ALICE }))).code).toBe('forbidden');
  });

  it.each([
    ['another account’s last4', invocation({ account: { last4: '4242', network: 'visa' } }), 'acc_1', 'forbidden'],
    ['another user’s account', invocation(), 'acc_2', 'not_found'],
    ['another issuer', invocation({ issuerId: 'bank-b' }), 'acc_1', 'invalid_message'],
    ['an expired invocation', invocation({ iat: NOW / 1000 - 400, exp: NOW / 1000 - 100 }), 'acc_1', 'expired'],
    ['a lifetime over 15 minutes', invocation({ exp: NOW / 1000 + 901 }), 'acc_1', 'lifetime_exceeded'],
    ['an invocation from the future', invocation({ iat: NOW / 1000 + 120, exp: NOW / 1000 + 300 }), 'acc_1', 'not_yet_valid'],
  ])('refuses %s: %s', async (_name, input, accountRef, code) => {
    const { builder } = await makeBuilder();
    expect((await failure(builder.signInvocation({ accountRef: accountRef as string, invocation: input as Invocation, user: ALICE }))).code).toBe(code);
  });
});

describe('builder configuration', () => {
  it.each([
    ['a public signing key', async () => (await keys()).issuer.publicJwk],
    ['an encryption key as signing key', async () => (await keys()).service.privateJwk],
  ])('refuses %s (configuration_invalid)', async (_name, key) => {
    const signingKey = await key();
    expect(() =>
      createProvisioningRequestBuilder({
        issuerId: ISSUER_ID,
        signingKey,
        tokenService: { audience: AUDIENCE, jwksUrl: 'https://ts.example/jwks.json' },
        walletProviders: ['wallet-co'],
        lookupCard: () => null,
      }),
    ).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });

  it.each([
    ['no walletProviders', undefined],
    ['an empty list', []],
    ['a list with an id that is not a party id', ['wallet-co', 'Wallet Co']],
    ['a single string instead of a list', 'wallet-co'],
  ])('refuses %s (configuration_invalid, naming walletProviders)', async (_name, walletProviders) => {
    const k = await keys();
    let caught: unknown;
    try {
      createProvisioningRequestBuilder({
        issuerId: ISSUER_ID,
        signingKey: k.issuer.privateJwk,
        tokenService: { audience: AUDIENCE, jwksUrl: 'https://ts.example/jwks.json' },
        walletProviders: walletProviders as never,
        lookupCard: () => null,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'configuration_invalid' });
    expect((caught as Error).message).toContain('walletProviders');
  });
});

describe('createProvisioningRequestBuilder: the wallet providers it allows', () => {
  it('refuses a wallet provider outside walletProviders with wallet_provider_not_allowed, before looking the card up', async () => {
    const lookups: string[] = [];
    const { builder } = await makeBuilder({
      walletProviders: ['wallet-co', 'other-wallet'],
      lookupCard: (accountRef) => {
        lookups.push(accountRef);
        return CARD;
      },
    });
    const error = await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: { ...identifiers(), walletProviderId: 'wallet-evil' }, user: ALICE }));
    expect(error).toMatchObject({ code: 'wallet_provider_not_allowed', status: 403, retryable: false });
    expect(lookups).toEqual([]);
    await builder.buildRequest({ accountRef: 'acc_1', identifiers: { ...identifiers(), walletProviderId: 'other-wallet' }, user: ALICE });
    expect(lookups).toEqual(['acc_1']);
  });

  it('keeps the list it was given: changing the array afterwards allows nothing more', async () => {
    const walletProviders = ['wallet-co'];
    const { builder } = await makeBuilder({ walletProviders });
    walletProviders.push('wallet-evil');
    const error = await failure(builder.buildRequest({ accountRef: 'acc_1', identifiers: { ...identifiers(), walletProviderId: 'wallet-evil' }, user: ALICE }));
    expect(error.code).toBe('wallet_provider_not_allowed');
  });
});
