import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessData,
  type AppMessage,
  type ProvisioningResponse,
  type PublicEcJwk,
  createUrlChannel,
  encryptAccessData,
  generateEncryptionKey,
  sequenceRandom,
} from '@pushprov/protocol';
import { deviceKeyFromJwk, generatedDeviceKey } from '../src/device-key.js';
import { type TokenServiceClient, type WalletOptions, createMemoryTokenStore, createWallet } from '../src/index.js';
import { CANARY_PAN } from './helpers/issuer-double.js';
import { ISSUER_ID, type Keys, expectNoSecrets, jwksOf, makeKeys, setupFlow } from './helpers/setup.js';
import type { TokenServiceDouble } from './helpers/token-service-double.js';

let keys: Keys;
const services: TokenServiceDouble[] = [];
beforeAll(async () => {
  keys = await makeKeys();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function flowWith(overrides: Parameters<typeof setupFlow>[1] = {}) {
  const flow = await setupFlow(keys, overrides);
  services.push(flow.service);
  return flow;
}

const ACCESS: AccessData = {
  tokenReferenceId: 'tok_x',
  tokenNumber: '4900000000000003',
  tokenExpiry: { month: 12, year: 2030 },
  status: 'active',
  panLast4: '1111',
  issuerId: 'bank-a',
  issuedAt: 1_795_000_000,
};

/** An in-process token service that answers with whatever `answer` builds from the submission. */
function fakeService(answer: (sessionId: string, devicePublicKey: unknown) => Promise<ProvisioningResponse>): TokenServiceClient {
  return {
    submit: (submission) => answer(submission.sessionId, submission.devicePublicKey),
    getTokenStatus: () => Promise.reject(new Error('unused')),
  };
}

const PUBLIC_SIGNING_JWK = { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43), kid: 'k1', alg: 'ES256' };

const minimal = (): WalletOptions => ({
  identity: () => ({ walletProviderId: 'wallet-co', walletAccountId: 'u', deviceId: 'd' }),
  consent: () => true,
  tokenService: fakeService(() => Promise.reject(new Error('unused'))),
  tokenStore: createMemoryTokenStore(),
});

describe('createWallet configuration', () => {
  it.each<[string, Partial<WalletOptions>]>([
    ['no identity', { identity: undefined as never }],
    ['no consent', { consent: 'yes' as never }],
    ['no token store', { tokenStore: undefined as never }],
    ['signatures required without a trust list', { requireSignedInvocations: true }],
    ['a trust list holding a private key', { trustedIssuers: { 'bank-a': { keys: [{ ...PUBLIC_SIGNING_JWK, d: 'A'.repeat(43) }] } } }],
    ['a trust list that is not a JWK set', { trustedIssuers: { 'bank-a': { keys: [] } } }],
    ['a device key that is not one of @pushprov/wallet-sdk/device-key (the old string form)', { deviceKey: 'generate' as never }],
    ['a bare key pair instead of deviceKeyFromJwk(pair)', { deviceKey: { publicJwk: {}, privateJwk: { d: 'x' } } as never }],
    ['a zero timeout', { timeoutMs: 0 }],
    ['a timeout too long for timers', { timeoutMs: 2 ** 31 }],
  ])('refuses %s with configuration_invalid', (_name, override) => {
    // The same options without the fault are accepted, so the refusal is about the fault.
    expect(() => createWallet({ ...minimal(), trustedIssuers: { 'bank-a': { keys: [PUBLIC_SIGNING_JWK] } } })).not.toThrow();
    const options = { ...minimal(), ...override };
    const make = () => createWallet(options).startSession({} as never);
    expect(make).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });
});

describe('wallet behaviour', () => {
  it('sends a supplied device key (public half only) and decrypts the access data with it', async () => {
    const deviceKey = await generateEncryptionKey({ kid: 'device-key-1' });
    const flow = await flowWith({ wallet: { deviceKey: deviceKeyFromJwk(deviceKey) } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { identifiers } = await flow.issuer.run(flow.issuerEnd);
    expect(identifiers.devicePublicKey).toMatchObject({ kid: 'device-key-1', x: deviceKey.publicJwk.x });
    expect(JSON.stringify(identifiers)).not.toContain(deviceKey.privateJwk.d);
    expect((await outcome).status).toBe('provisioned');
    expect(flow.service.issued[0]!.encrypted).toBe(true);
  });

  it('fails with configuration_invalid when the host identity is not valid, and tells the issuer', async () => {
    const flow = await flowWith({ wallet: { identity: () => ({ walletProviderId: 'Wallet Co!', walletAccountId: 'u', deviceId: 'd' }) } });
    const invocation = await flow.issuer.invocation();
    const result = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuerEnd.send(invocation);
    expect(await outcome).toMatchObject({ status: 'failed', error: { code: 'configuration_invalid' } });
    expect(await result).toMatchObject({ status: 'failed', errorCode: 'configuration_invalid' });
  });

  it.each<[string, (sessionId: string, deviceKey: unknown) => Promise<ProvisioningResponse>, 'generate' | undefined, string]>([
    [
      'an answer for another session',
      async () => ({ type: 'provisioning-response', version: 1, sessionId: 'CCCCCCCCCCCCCCCCCCCCCC', tokenReferenceId: 'tok_x', status: 'active', accessData: ACCESS }),
      undefined,
      'invalid_message',
    ],
    [
      // A downgrade: the submission carried a device key, so anyone between the wallet and the token service would see the token number.
      'clear access data when the submission carried a device key',
      async (sessionId) => ({ type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'active', accessData: ACCESS }),
      'generate',
      'invalid_message',
    ],
    [
      'access data for another token',
      async (sessionId) => ({ type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_y', status: 'active', accessData: ACCESS }),
      undefined,
      'access_data_mismatch',
    ],
    [
      'access data whose status is not the answer’s',
      async (sessionId) => ({ type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'pending_activation', accessData: ACCESS, verification: { methods: [{ id: 'app-1', type: 'issuer_app' }], expiresAt: 2_000_000_000 } }),
      undefined,
      'access_data_mismatch',
    ],
    [
      // The user agreed to add •••• 1111 (the invocation's last 4).
      'access data for another card than the one the user agreed to',
      async (sessionId) => ({ type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'active', accessData: { ...ACCESS, panLast4: '4444' } }),
      undefined,
      'access_data_mismatch',
    ],
    [
      'access data from another issuer than the invocation’s',
      async (sessionId) => ({ type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'active', accessData: { ...ACCESS, issuerId: 'bank-b' } }),
      undefined,
      'access_data_mismatch',
    ],
    [
      'access data encrypted to this device, for another card',
      async (sessionId, devicePublicKey) => {
        const encryptedAccessData = await encryptAccessData({ ...ACCESS, panLast4: '4444' }, devicePublicKey as PublicEcJwk);
        return { type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'active', encryptedAccessData };
      },
      'generate',
      'access_data_mismatch',
    ],
    [
      'encrypted access data when no device key was sent',
      async (sessionId) => {
        const other = await generateEncryptionKey();
        const encryptedAccessData = await encryptAccessData(ACCESS, { kty: 'EC', crv: 'P-256', x: other.publicJwk.x!, y: other.publicJwk.y! });
        return { type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'active', encryptedAccessData };
      },
      undefined,
      'decryption_failed',
    ],
    [
      'access data encrypted to another device',
      async (sessionId) => {
        const other = await generateEncryptionKey();
        const encryptedAccessData = await encryptAccessData(ACCESS, { kty: 'EC', crv: 'P-256', x: other.publicJwk.x!, y: other.publicJwk.y! });
        return { type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'active', encryptedAccessData };
      },
      'generate',
      'decryption_failed',
    ],
    [
      'a response that is not schema-valid',
      async (sessionId) => ({ type: 'provisioning-response', version: 1, sessionId, tokenReferenceId: 'tok_x', status: 'active' }) as ProvisioningResponse,
      undefined,
      'invalid_message',
    ],
  ])('refuses %s from the token service (%s) and stores nothing', async (_name, answer, deviceKey, code) => {
    const tokenStore = createMemoryTokenStore();
    const flow = await flowWith({ wallet: { tokenService: fakeService(answer), tokenStore, ...(deviceKey && { deviceKey: generatedDeviceKey() }) } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { result } = await flow.issuer.run(flow.issuerEnd);
    expect(await outcome).toMatchObject({ status: 'failed', error: { code } });
    expect(result).toMatchObject({ status: 'failed', errorCode: code });
    expect(await tokenStore.list()).toEqual([]);
    expectNoSecrets(undefined, await outcome, flow.events, result);
    expect(JSON.stringify(flow.events)).not.toContain(ACCESS.tokenNumber);
  });

  it.each([
    ['another card’s last 4', (a: AccessData) => ({ ...a, panLast4: '4444' })],
    ['another issuer', (a: AccessData) => ({ ...a, issuerId: 'bank-b' })],
  ])('a token service that encrypts access data naming %s to this device: access_data_mismatch, nothing stored', async (_name, alterAccessData) => {
    const tokenStore = createMemoryTokenStore();
    const flow = await flowWith({ wallet: { tokenStore, deviceKey: generatedDeviceKey() }, alterAccessData });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { result } = await flow.issuer.run(flow.issuerEnd);
    // The double issued a token encrypted to the device key (the request named it as cnf.jkt): the wallet refused it after decrypting.
    expect(flow.service.issued).toHaveLength(1);
    expect(flow.service.issued[0]!.encrypted).toBe(true);
    expect(await outcome).toMatchObject({ status: 'failed', error: { code: 'access_data_mismatch', family: 'binding' } });
    expect(result).toMatchObject({ status: 'failed', errorCode: 'access_data_mismatch' });
    expect(result).not.toHaveProperty('tokenReferenceId');
    expect(await tokenStore.list()).toEqual([]);
    expectNoSecrets(flow.service, await outcome, flow.events, result);
  });

  it('a request that does not name the device key the wallet sent is refused by the token service (device_key_mismatch), nothing issued', async () => {
    const tokenStore = createMemoryTokenStore();
    const flow = await flowWith({ wallet: { tokenStore, deviceKey: generatedDeviceKey() } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const invocation = await flow.issuer.invocation();
    const identifiersArrive = flow.issuer.waitForIdentifiers(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    const { devicePublicKey, ...withoutKey } = await identifiersArrive;
    expect(devicePublicKey).toBeDefined();
    const resultArrives = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    // An issuer that ignores the device key: the claims carry no cnf, the submission carries the key.
    await flow.issuerEnd.send({ type: 'provisioning-request', version: 1, sessionId: invocation.sessionId, encryptedRequest: await flow.issuer.seal(withoutKey) });
    expect(await outcome).toMatchObject({ status: 'failed', error: { code: 'device_key_mismatch', status: 422 } });
    expect(await resultArrives).toMatchObject({ status: 'failed', errorCode: 'device_key_mismatch' });
    expect(flow.service.issued).toEqual([]);
    expect(await tokenStore.list()).toEqual([]);
  });

  it('a token service client that ignores the signal cannot hold a cancelled session', async () => {
    const flow = await flowWith({ wallet: { tokenService: fakeService(() => new Promise(() => {})) } });
    const session = flow.wallet.startSession(flow.walletEnd);
    const run = flow.issuer.run(flow.issuerEnd);
    await expect.poll(() => session.state).toBe('submitting');
    session.cancel();
    session.cancel();
    expect(await session.outcome).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    expect((await run).result).toMatchObject({ status: 'cancelled' });
  });

  it('a token store that fails ends the session failed, with a typed error', async () => {
    const flow = await flowWith({
      wallet: {
        tokenStore: { ...createMemoryTokenStore(), save: () => Promise.reject(new Error(`disk full ${CANARY_PAN}`)) },
      },
    });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const { result } = await flow.issuer.run(flow.issuerEnd);
    const ended = await outcome;
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'internal_error' } });
    expect(result).toMatchObject({ status: 'failed', errorCode: 'internal_error' });
    // The foreign error's message (which could hold anything) is not carried over.
    expect(JSON.stringify(ended)).not.toContain(CANARY_PAN);
    expect('error' in ended && ended.error.message).not.toContain(CANARY_PAN);
  });

  it('a throwing event listener changes nothing', async () => {
    const flow = await flowWith({
      wallet: {
        onEvent: () => {
          throw new Error('host bug');
        },
      },
    });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd, {
      onEvent: () => {
        throw new Error('host bug');
      },
    });
    await flow.issuer.run(flow.issuerEnd);
    expect((await outcome).status).toBe('provisioned');
  });

  it('works over the URL channel, replying to the invocation replyTo', async () => {
    const flow = await flowWith({ wallet: { random: sequenceRandom(new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2, 1])) } });
    const WALLET_URL = 'https://wallet.example/push';
    const BANK_URL = 'https://bank.example/wallet-return';
    const opened: string[] = [];
    // Each app's openUrl hands the link to the other app's handleUrl, as the OS would.
    const walletChannel = createUrlChannel({
      openUrl: (url) => {
        opened.push(url);
        queueMicrotask(() => issuerChannel.handleUrl(url));
      },
      peerUrl: 'https://bank.example/default',
      allowedPeerUrls: ['https://bank.example/default', BANK_URL],
      ownUrls: [WALLET_URL],
    });
    const issuerChannel = createUrlChannel({
      openUrl: (url) => {
        opened.push(url);
        queueMicrotask(() => walletChannel.handleUrl(url));
      },
      peerUrl: WALLET_URL,
      allowedPeerUrls: [WALLET_URL],
      ownUrls: [BANK_URL],
    });
    const outcome = flow.wallet.handleInvocation(walletChannel);
    const invocation = await flow.issuer.invocation({ replyTo: BANK_URL });
    const { result } = await flow.issuer.run(issuerChannel, invocation);
    expect((await outcome).status).toBe('provisioned');
    expect(result.status).toBe('provisioned');
    // invocation, identifiers, request, result
    expect(opened.map((u) => new URL(u).origin + new URL(u).pathname)).toEqual([WALLET_URL, BANK_URL, WALLET_URL, BANK_URL]);
    expectNoSecrets(flow.service, opened.filter((u) => u.startsWith(BANK_URL)), flow.events);
  });

  it('a stray message before the invocation is reported and ignored', async () => {
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const stray: AppMessage = { type: 'result', version: 1, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA', status: 'failed' };
    await flow.issuerEnd.send(stray);
    await flow.issuer.run(flow.issuerEnd);
    expect((await outcome).status).toBe('provisioned');
    expect(flow.events.filter((e) => e.type === 'error').map((e) => e.type === 'error' && e.error.code)).toEqual(['unexpected_message']);
  });

  it('card art signed by the issuer reaches the host: in the consent prompt, the invocation event and the outcome', async () => {
    const ART = 'https://cdn.bank-a.example/art/everyday-debit.png';
    const flow = await flowWith();
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const invocation = await flow.issuer.invocation({ account: { last4: '1111', network: 'visa', cardArtUrl: ART } });
    await flow.issuer.run(flow.issuerEnd, invocation);
    const done = await outcome;
    expect(done.status).toBe('provisioned');
    expect(flow.consentPrompts).toEqual([expect.objectContaining({ verified: true, account: expect.objectContaining({ cardArtUrl: ART }) })]);
    expect(flow.events.find((e) => e.type === 'invocation')).toMatchObject({ prompt: { account: { cardArtUrl: ART } } });
    expect('token' in done && done.token.cardArtUrl).toBe(ART);
  });

  it('card art in an unsigned (unverified) invocation never reaches the host', async () => {
    const flow = await flowWith({ wallet: { trustedIssuers: undefined, requireSignedInvocations: false } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    const invocation = await flow.issuer.invocation({ account: { last4: '1111', network: 'visa', cardArtUrl: 'https://evil.example/art.png' } }, false);
    await flow.issuer.run(flow.issuerEnd, invocation);
    const done = await outcome;
    expect(done.status).toBe('provisioned');
    expect(flow.consentPrompts).toEqual([expect.objectContaining({ verified: false })]);
    expect(JSON.stringify([flow.consentPrompts, flow.events, done])).not.toContain('evil.example');
  });

  it('trusts only its own issuers: a second trusted issuer with its own keys', async () => {
    const flow = await flowWith({ wallet: { trustedIssuers: { 'bank-b': jwksOf(keys.otherIssuer), [ISSUER_ID]: jwksOf(keys.issuer) } } });
    const outcome = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuer.run(flow.issuerEnd);
    expect((await outcome).status).toBe('provisioned');
  });
});

describe('the leak detector used by these tests', () => {
  it('catches a PAN or token number, plain or spaced, in nested output', () => {
    expect(() => expectNoSecrets(undefined, { deep: { message: `x ${CANARY_PAN} y` } })).toThrow();
    expect(() => expectNoSecrets(undefined, ['4111 1111 1111 1111'])).toThrow();
    expect(() => expectNoSecrets(undefined, new Error(`cause ${CANARY_PAN}`))).toThrow();
    expect(() => expectNoSecrets(undefined, { last4: '1111' })).not.toThrow();
  });
});
