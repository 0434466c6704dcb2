// The wallet side of app-to-app activation (spec section 4.17): choosing an
// issuer_app method sends the activation invocation over the issuer channel
// and (or) hands it to the host's opener; the configuration is checked first.
// The whole path over real HTTP is in examples/demo/test/yellow-path.test.ts.
import { describe, expect, it } from 'vitest';
import { type AppMessage, type TokenStatusResponse, createMemoryChannelPair, manualClock, parseAppMessage } from '@pushprov/protocol';
import { type StoredToken, type TokenServiceClient, createMemoryTokenStore } from '../src/index.js';
import { type ActivationEvent, type IssuerAppOpener, createActivations } from '../src/activation.js';

const NOW = Date.UTC(2026, 11, 2, 12);
const METHODS = [
  { id: 'sms', type: 'otp_sms' as const, destination: '•••• 0199' },
  { id: 'app', type: 'issuer_app' as const },
];

async function pendingToken(extra: Partial<StoredToken> = {}) {
  const tokenStore = createMemoryTokenStore();
  const token: StoredToken = {
    ...extra,
    accessData: { tokenReferenceId: 'tok_1', tokenNumber: '4000000000000010', tokenExpiry: { month: 12, year: 2030 }, status: 'pending_activation', panLast4: '0069', issuerId: 'bank-a', issuedAt: NOW / 1000 },
    issuerId: 'bank-a',
    sessionId: 'c2Vzc2lvbi0wMDAxLi4uLg',
    storedAt: NOW,
    activation: { verification: { methods: METHODS, expiresAt: NOW / 1000 + 3600 } },
  };
  await tokenStore.save(token);
  const status: TokenStatusResponse = { type: 'token-status', version: 1, tokenReferenceId: 'tok_1', status: 'pending_activation', tokenLast4: '0010', tokenExpiry: { month: 12, year: 2030 }, updatedAt: NOW / 1000, verification: { methods: METHODS, expiresAt: NOW / 1000 + 3600 } };
  const tokenService: TokenServiceClient = { submit: async () => Promise.reject(new Error('not used')), getTokenStatus: async () => status };
  return { tokenStore, tokenService, clock: manualClock(NOW) };
}

describe('createActivations: the activation invocation of an issuer_app method', () => {
  it('sends it over the issuer channel: the token, the method, the issuer, the wallet provider, a fresh nonce and the correlation id', async () => {
    const { tokenStore, tokenService, clock } = await pendingToken();
    const link = createMemoryChannelPair();
    const received: AppMessage[] = [];
    link.issuer.subscribe((message) => received.push(message));
    const activation = await createActivations({ tokenService, tokenStore, clock, walletProviderId: 'wallet-co', issuerChannel: link.wallet }).resume('tok_1');
    expect(await activation.chooseMethod('app', { correlationId: 'cor_abc' })).toMatchObject({ state: 'awaiting_issuer', methodId: 'app' });
    await activation.openIssuerApp();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(received).toHaveLength(2);
    const [first, second] = received.map((m) => parseAppMessage(JSON.stringify(m)));
    expect(first).toEqual({
      type: 'activation-invocation',
      version: 1,
      tokenReferenceId: 'tok_1',
      methodId: 'app',
      issuerId: 'bank-a',
      walletProviderId: 'wallet-co',
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      correlationId: 'cor_abc',
    });
    // A second invocation: a new nonce, a fresh correlation id when none is given.
    expect(second).toMatchObject({ type: 'activation-invocation', tokenReferenceId: 'tok_1', correlationId: expect.stringMatching(/^cor_/) });
    expect((second as { nonce: string }).nonce).not.toBe((first as { nonce: string }).nonce);
    link.issuer.close();
  });

  it('gives the host’s opener the invocation with walletProviderId, and the request without it', async () => {
    const { tokenStore, tokenService, clock } = await pendingToken();
    const opened: Array<Parameters<IssuerAppOpener>[0]> = [];
    const openIssuerApp: IssuerAppOpener = (request) => void opened.push(request);
    await (await createActivations({ tokenService, tokenStore, clock, walletProviderId: 'wallet-co', openIssuerApp }).resume('tok_1')).chooseMethod('app');
    expect(opened[0]).toMatchObject({ issuerId: 'bank-a', tokenReferenceId: 'tok_1', methodId: 'app', invocation: { type: 'activation-invocation', walletProviderId: 'wallet-co' } });
    const { tokenStore: store2, tokenService: service2 } = await pendingToken();
    await (await createActivations({ tokenService: service2, tokenStore: store2, clock, openIssuerApp }).resume('tok_1')).chooseMethod('app');
    expect(opened[1]).toEqual({ issuerId: 'bank-a', tokenReferenceId: 'tok_1', methodId: 'app' });
  });

  it('refuses a channel without walletProviderId, a bad channel and a bad correlation id, and an issuer_app method with no way to reach the bank', async () => {
    const { tokenStore, tokenService, clock } = await pendingToken();
    const link = createMemoryChannelPair();
    expect(() => createActivations({ tokenService, tokenStore, issuerChannel: link.wallet })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    expect(() => createActivations({ tokenService, tokenStore, walletProviderId: 'Wallet Co', issuerChannel: link.wallet })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    expect(() => createActivations({ tokenService, tokenStore, walletProviderId: 'wallet-co', issuerChannel: {} as never })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    const withChannel = await createActivations({ tokenService, tokenStore, clock, walletProviderId: 'wallet-co', issuerChannel: link.wallet }).resume('tok_1');
    await expect(withChannel.chooseMethod('app', { correlationId: '4111111111111111' })).rejects.toMatchObject({ code: 'invalid_message' });
    expect(withChannel.state).toBe('choosing_method');
    const nowhere = await createActivations({ tokenService, tokenStore, clock }).resume('tok_1');
    await expect(nowhere.chooseMethod('app')).rejects.toMatchObject({ code: 'configuration_invalid' });
    link.issuer.close();
  });

  it('carries the provisioning attempt’s correlation id: in the invocation by default, and on every error the activation reports and throws', async () => {
    const { tokenStore, tokenService, clock } = await pendingToken({ correlationId: 'cor_provisioning-7' });
    const link = createMemoryChannelPair();
    const received: AppMessage[] = [];
    link.issuer.subscribe((message) => received.push(message));
    const events: ActivationEvent[] = [];
    const activation = await createActivations({ tokenService, tokenStore, clock, walletProviderId: 'wallet-co', issuerChannel: link.wallet, onEvent: (e) => events.push(e) }).resume('tok_1');
    const refused = await activation.chooseMethod('nope').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'verification_method_unavailable', correlationId: 'cor_provisioning-7' });
    expect(events.filter((e) => e.error).map((e) => [e.error!.code, e.error!.correlationId])).toEqual([['verification_method_unavailable', 'cor_provisioning-7']]);
    await activation.chooseMethod('app');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(received[0]).toMatchObject({ type: 'activation-invocation', correlationId: 'cor_provisioning-7' });
    link.issuer.close();
  });
});
