/**
 * Wallet-initiated provisioning (`@pushprov/wallet-sdk/initiate`, spec
 * 4.24) over a memory channel pair, with the issuer double and the token
 * service double over real HTTP.
 */
import { type AccountsRequest, signInvocation, waitForMessage } from '@pushprov/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestAccounts } from '../src/initiate.js';
import type { WalletEvent } from '../src/index.js';
import { type Keys, makeKeys, setupFlow } from './helpers/setup.js';

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function flow() {
  const f = await setupFlow(keys);
  closers.push(() => f.service.close());
  const request = waitForMessage(f.issuerEnd, (m): m is AccountsRequest => m.type === 'accounts-request', { timeoutMs: 5_000 });
  return { ...f, request };
}

const errorCodes = (events: WalletEvent[]) => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []));

describe('requestAccounts', () => {
  it('asks, refuses answers that are not its own (keeps waiting), then runs the session of the signed answer', async () => {
    const f = await flow();
    const session = requestAccounts(f.wallet, f.walletEnd, { issuerId: 'bank-a' });
    const request = await f.request;
    expect(request).toMatchObject({ type: 'accounts-request', version: 1, walletProviderId: 'wallet-co', correlationId: expect.stringMatching(/^cor_/) });

    // Unsigned, another nonce, no nonce: refused input, the flow goes on.
    await f.issuerEnd.send(await f.issuer.invocation({ walletNonce: request.nonce }, false));
    await f.issuerEnd.send(await f.issuer.invocation({ walletNonce: 'AAAAAAAAAAAAAAAAAAAAAA' }));
    await f.issuerEnd.send(await f.issuer.invocation());
    // A signature by another key under bank A's kid.
    const forged = await f.issuer.invocation({ walletNonce: request.nonce }, false);
    await f.issuerEnd.send(await signInvocation(forged, keys.otherIssuer.privateJwk));
    // A refusal for another nonce is ignored.
    await f.issuerEnd.send({ type: 'accounts-refusal', version: 1, nonce: 'BBBBBBBBBBBBBBBBBBBBBB', issuerId: 'bank-a', errorCode: 'not_found' });

    const answer = await f.issuer.invocation({ walletNonce: request.nonce, correlationId: request.correlationId! });
    const [{ result }, outcome] = await Promise.all([f.issuer.run(f.issuerEnd, answer), session.outcome]);
    expect(errorCodes(f.events)).toEqual(['signature_invalid', 'nonce_mismatch', 'nonce_mismatch', 'signature_invalid', 'unexpected_message']);
    expect(outcome.status).toBe('provisioned');
    expect(outcome).toMatchObject({ sessionId: answer.sessionId, correlationId: request.correlationId });
    expect(result.status).toBe('provisioned');
    expect(f.service.issued).toHaveLength(1);
  });

  it('an accounts-refusal with its nonce ends the flow: consent_denied is cancelled, not_found failed; nothing else is sent', async () => {
    for (const [code, status] of [
      ['consent_denied', 'cancelled'],
      ['not_found', 'failed'],
    ] as const) {
      const f = await flow();
      const seen: string[] = [];
      f.issuerEnd.subscribe((m) => seen.push(m.type));
      const session = requestAccounts(f.wallet, f.walletEnd, { issuerId: 'bank-a' });
      const request = await f.request;
      await f.issuerEnd.send({ type: 'accounts-refusal', version: 1, nonce: request.nonce, issuerId: 'bank-a', errorCode: code });
      const outcome = await session.outcome;
      expect(outcome).toMatchObject({ status, issuerId: 'bank-a', correlationId: request.correlationId, resultSent: false, accounts: [], error: { code } });
      expect('error' in outcome && outcome.error.correlationId).toBe(request.correlationId);
      expect('sessionId' in outcome && outcome.sessionId).toBeFalsy();
      expect(seen).toEqual(['accounts-request']);
    }
  });

  it('an issuer outside the trust list ends it failed with configuration_invalid, before anything is sent', async () => {
    const f = await flow();
    const seen: string[] = [];
    f.issuerEnd.subscribe((m) => seen.push(m.type));
    const outcome = await requestAccounts(f.wallet, f.walletEnd, { issuerId: 'bank-z' }).outcome;
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'configuration_invalid' } });
    expect(seen).toEqual([]);
  });

  it('handleInvocation refuses an invocation that answers a request it never sent (nonce_mismatch)', async () => {
    const f = await flow();
    const invocation = await f.issuer.invocation({ walletNonce: 'CCCCCCCCCCCCCCCCCCCCCC' });
    const seen: string[] = [];
    f.issuerEnd.subscribe((m) => seen.push(m.type));
    await f.issuerEnd.send(invocation);
    const outcome = await f.wallet.handleInvocation(f.walletEnd);
    expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'nonce_mismatch' }, accounts: [] });
    expect(seen).toEqual([]);
  });
});
