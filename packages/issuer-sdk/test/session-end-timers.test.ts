import { type AppChannel, type AppMessage, type ChannelErrorListener, type MessageListener, createNonce } from '@pushprov/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACCOUNT, CARD, setup } from './support/fixtures.js';

/**
 * A wallet channel that answers at exact points of the event loop: identifiers
 * right after the invocation, and the result after the delivery's send has
 * settled but before the session's code after `await send` runs.
 */
function racingWallet(): AppChannel {
  let listener: MessageListener | undefined;
  const answer = (message: AppMessage) => listener?.(message);
  return {
    closed: false,
    subscribe(message: MessageListener, _onError?: ChannelErrorListener) {
      listener = message;
      return () => {
        listener = undefined;
      };
    },
    onClose: () => () => {},
    close() {},
    send(message: AppMessage): Promise<void> {
      const sent = Promise.resolve();
      const sessionId = 'sessionId' in message ? message.sessionId : '';
      if (message.type === 'invocation') {
        void sent.then(() =>
          answer({ type: 'identifiers', version: 1, sessionId, walletProviderId: 'wallet-co', walletAccountId: 'user-42', deviceId: 'device-7', nonce: createNonce() }),
        );
      }
      if (message.type === 'provisioning-request') {
        // Runs before the session's own `.then` on `sent`; the answer lands one turn later, between it and the continuation.
        void sent.then(() => queueMicrotask(() => answer({ type: 'result', version: 1, sessionId, status: 'provisioned', tokenReferenceId: 'tok_1' })));
      }
      return sent;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a session that has ended arms no timer', () => {
  it('a result arriving between the delivery send settling and the code after it: completed, and no result timer left behind', async () => {
    const { issuer } = await setup();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const session = issuer.createSession({ account: ACCOUNT, card: CARD, wallet: racingWallet() });
    const outcome = await session.run();
    expect(outcome).toMatchObject({ state: 'completed', status: 'provisioned', tokenReferenceId: 'tok_1' });
    // Let the session's step function finish what it does after the await.
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    expect(session.state).toBe('completed');
    expect(vi.getTimerCount()).toBe(0);
  });
});
