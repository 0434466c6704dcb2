import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProvisioningError, parseResult } from '@pushprov/protocol';
import { generatedDeviceKey } from '../src/device-key.js';
import type { WalletOutcome } from '../src/index.js';
import { CANARY_PAN } from './helpers/issuer-double.js';
import { AUDIENCE, PROVIDER_ID, type Keys, expectNoSecrets, makeKeys, setupFlow } from './helpers/setup.js';
import type { TokenServiceDouble } from './helpers/token-service-double.js';

let keys: Keys;
const services: TokenServiceDouble[] = [];
beforeAll(async () => {
  keys = await makeKeys();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(services.splice(0).map((s) => s.close()));
});

describe('full flow: issuer double → wallet → token service double over HTTP', () => {
  it('provisions a card: identifiers, submission, storage and a result with nothing sensitive', async () => {
    const logs: unknown[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logs.push(args));
    }
    const flow = await setupFlow(keys);
    services.push(flow.service);
    const outcomePromise = flow.wallet.handleInvocation(flow.walletEnd);
    const { invocation, identifiers, result } = await flow.issuer.run(flow.issuerEnd);
    const outcome = await outcomePromise;

    // The wallet answered for that session, with its identity and a fresh nonce.
    expect(identifiers).toMatchObject({ sessionId: invocation.sessionId, walletProviderId: PROVIDER_ID, walletAccountId: 'user-42', deviceId: 'device-7' });
    expect(identifiers.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(identifiers.devicePublicKey).toBeUndefined();
    expect(flow.consentPrompts).toEqual([
      {
        sessionId: invocation.sessionId,
        issuerId: 'bank-a',
        issuerName: 'Bank A',
        verified: true,
        account: { last4: '1111', network: 'visa', productName: 'Everyday Debit' },
        accounts: [{ last4: '1111', network: 'visa', productName: 'Everyday Debit' }],
      },
    ]);

    // One token issued, submitted once with an idempotency key and the API key.
    expect(flow.service.issued).toHaveLength(1);
    const [issued] = flow.service.issued;
    expect(flow.service.calls).toHaveLength(1);
    expect(flow.service.calls[0]).toMatchObject({
      method: 'POST',
      path: '/v1/provisioning-requests',
      contentType: 'application/json',
      authorization: 'Bearer sk_test_wallet_co_0123456789',
      status: 201,
    });
    expect(flow.service.calls[0]!.idempotencyKey).toMatch(/^idem_[A-Za-z0-9_-]{22}$/);

    // The outcome and the result carry the reference and last four only.
    expect(outcome).toEqual({
      status: 'provisioned',
      sessionId: invocation.sessionId,
      issuerId: 'bank-a',
      // The invocation had no correlation id: the wallet made one, and sent it in the result too.
      correlationId: expect.stringMatching(/^cor_[A-Za-z0-9_-]{22}$/),
      resultSent: true,
      token: {
        tokenReferenceId: issued!.tokenReferenceId,
        status: 'active',
        tokenLast4: issued!.tokenNumber.slice(-4),
        panLast4: '1111',
        tokenExpiry: { month: 12, year: 2030 },
        network: 'visa',
      },
      // One account, one entry: the same token.
      accounts: [{ status: 'provisioned', token: expect.objectContaining({ tokenReferenceId: issued!.tokenReferenceId }) }],
    });
    expect(parseResult(result)).toEqual({
      type: 'result',
      version: 1,
      sessionId: invocation.sessionId,
      status: 'provisioned',
      tokenReferenceId: issued!.tokenReferenceId,
      correlationId: outcome.status === 'provisioned' ? outcome.correlationId : 'none',
    });

    // The token store holds the access data with the token number.
    const stored = await flow.tokenStore.get(issued!.tokenReferenceId);
    expect(stored).toMatchObject({ issuerId: 'bank-a', sessionId: invocation.sessionId, accessData: { tokenNumber: issued!.tokenNumber, panLast4: '1111' } });

    // Every step was observed, in order.
    const states = flow.events.filter((e) => e.type === 'state').map((e) => e.state);
    expect(states).toEqual([
      'waiting_for_invocation',
      'verifying_invocation',
      'awaiting_consent',
      'sending_identifiers',
      'waiting_for_request',
      'submitting',
      'storing',
      'sending_result',
      'provisioned',
    ]);
    expect(flow.events.at(-1)).toEqual({ type: 'outcome', outcome });

    // Nothing emitted, returned, sent back or logged holds the PAN or the token number.
    expectNoSecrets(flow.service, outcome, flow.events, result, identifiers, logs, flow.service.log);
    expect(logs).toEqual([]);
  });

  it('with a device key, the access data comes back encrypted to the device and is decrypted', async () => {
    const flow = await setupFlow(keys, { wallet: { deviceKey: generatedDeviceKey() }, tokenStatus: 'pending_activation' });
    services.push(flow.service);
    const outcomePromise = flow.wallet.handleInvocation(flow.walletEnd);
    const { identifiers, result } = await flow.issuer.run(flow.issuerEnd);
    const outcome = await outcomePromise;

    expect(identifiers.devicePublicKey).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW' });
    expect(identifiers.devicePublicKey).not.toHaveProperty('d');
    expect(flow.service.issued).toEqual([expect.objectContaining({ encrypted: true })]);
    expect(outcome.status).toBe('pending_activation');
    expect(result.status).toBe('pending_activation');
    const [stored] = await flow.tokenStore.list();
    expect(stored!.accessData.tokenNumber).toBe(flow.service.issued[0]!.tokenNumber);
    expect(stored!.accessData.status).toBe('pending_activation');
    // The methods travel in the outcome and stay with the stored token, for a resume after a restart.
    expect(outcome).toMatchObject({ verification: { methods: [{ id: 'sms-1', type: 'otp_sms', destination: '•••• 0199' }] } });
    expect(stored!.activation).toEqual({ verification: (outcome as { verification: unknown }).verification });
    expectNoSecrets(flow.service, outcome, flow.events, result);
  });

  it('authenticates as the wallet provider with a fresh client assertion, and reads the token status', async () => {
    const flow = await setupFlow(keys, {
      client: { auth: { walletProviderId: PROVIDER_ID, audience: AUDIENCE, signingKey: keys.provider.privateJwk } },
    });
    services.push(flow.service);
    const outcomePromise = flow.wallet.handleInvocation(flow.walletEnd);
    await flow.issuer.run(flow.issuerEnd);
    const outcome = (await outcomePromise) as Extract<WalletOutcome, { token: unknown }>;
    expect(outcome.status).toBe('provisioned');
    expect(flow.service.calls[0]!.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);

    const { createHttpTokenServiceClient } = await import('../src/http.js');
    const client = createHttpTokenServiceClient({
      baseUrl: flow.service.url,
      auth: { walletProviderId: PROVIDER_ID, audience: AUDIENCE, signingKey: keys.provider.privateJwk },
      clock: flow.clock,
    });
    const status = await client.getTokenStatus(outcome.token.tokenReferenceId);
    expect(status).toMatchObject({ type: 'token-status', tokenReferenceId: outcome.token.tokenReferenceId, status: 'active', tokenLast4: outcome.token.tokenLast4 });
    // Each request carried its own assertion (the double refuses a replayed jti).
    expect(new Set(flow.service.calls.map((c) => c.authorization)).size).toBe(2);
    const missing = await client.getTokenStatus('tok_9999').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ProvisioningError);
    expect(missing).toMatchObject({ code: 'not_found', status: 404 });
    expect(JSON.stringify(status)).not.toContain(CANARY_PAN);
  });
});
