// The bank's app side of app-to-app activation (spec section 4.17) at its
// edges: a scripted activation source, an in-memory channel. The whole path
// over real HTTP is in examples/demo/test/yellow-path.test.ts.
import { describe, expect, it } from 'vitest';
import { type ActivationInvocation, type TokenStatusResponse, createMemoryChannelPair, createNonce } from '@pushprov/protocol';
import { receiveActivationInvocation } from '../src/activation.js';

const ACTIVE: TokenStatusResponse = { type: 'token-status', version: 1, tokenReferenceId: 'tok_1', status: 'active', tokenLast4: '0003', tokenExpiry: { month: 12, year: 2030 }, updatedAt: 1 };
const invocation = (overrides: Partial<ActivationInvocation> = {}): ActivationInvocation => ({
  type: 'activation-invocation',
  version: 1,
  tokenReferenceId: 'tok_1',
  methodId: 'app',
  issuerId: 'bank-a',
  walletProviderId: 'wallet-co',
  nonce: createNonce(),
  correlationId: 'cor_case-1',
  ...overrides,
});

function source() {
  const calls: Array<{ tokenReferenceId: string; correlationId: string | undefined }> = [];
  return {
    calls,
    activation: {
      activateToken: async (tokenReferenceId: string, context: { correlationId?: string | undefined }) => {
        calls.push({ tokenReferenceId, correlationId: context.correlationId });
        return ACTIVE;
      },
    },
  };
}

describe('receiveActivationInvocation', () => {
  it('acts on the first invocation for this issuer only, with its correlation id; the rest is refused input', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const { calls, activation } = source();
    const refused: string[] = [];
    const received = receiveActivationInvocation(issuer, { issuerId: 'bank-a', activation, onRejected: (e) => refused.push(`${e.code}: ${e.message}`) });
    await wallet.send(invocation({ issuerId: 'bank-b' }));
    wallet.receiveWire('not json');
    issuer.receiveWire('{"type":"activation-invocation"}');
    await wallet.send(invocation());
    const { status, invocation: acted } = await received;
    expect(status).toEqual(ACTIVE);
    expect(acted.issuerId).toBe('bank-a');
    expect(calls).toEqual([{ tokenReferenceId: 'tok_1', correlationId: 'cor_case-1' }]);
    expect(refused).toEqual(['invalid_message: An activation invocation for another issuer was refused', expect.stringMatching(/^invalid_message: /)]);
    issuer.close();
  });

  it('a confirmation that fails is internal_error, without its message; nothing is activated', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const { calls, activation } = source();
    const received = receiveActivationInvocation(issuer, {
      issuerId: 'bank-a',
      activation,
      confirm: () => {
        throw new Error('dialog crashed: secret-ish detail');
      },
    });
    await wallet.send(invocation());
    const error = await received.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'internal_error', correlationId: 'cor_case-1' });
    expect((error as Error).message).not.toContain('secret-ish');
    expect(calls).toEqual([]);
    issuer.close();
  });

  it('stops waiting: timeout, aborted, channel_closed; refuses a bad configuration', async () => {
    const { issuer } = createMemoryChannelPair();
    const { activation } = source();
    await expect(receiveActivationInvocation(issuer, { issuerId: 'bank-a', activation, timeoutMs: 20 })).rejects.toMatchObject({ code: 'timeout' });
    await expect(receiveActivationInvocation(issuer, { issuerId: 'bank-a', activation, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
    const waiting = receiveActivationInvocation(issuer, { issuerId: 'bank-a', activation });
    issuer.close();
    await expect(waiting).rejects.toMatchObject({ code: 'channel_closed' });
    await expect(receiveActivationInvocation(issuer, { issuerId: 'bank-a' } as never)).rejects.toMatchObject({ code: 'configuration_invalid' });
  });
});
