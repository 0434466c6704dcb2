import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisioningResponse } from '@pushprov/protocol';
import { abortError } from '@pushprov/protocol/internal';
import type { TokenServiceClient, WalletEvent } from '../src/index.js';
import { type Keys, makeKeys, setupFlow } from './helpers/setup.js';
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

/** Records every unhandled rejection while `run` and a few turns of the event loop after it go by. */
async function collectUnhandled(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await run();
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return seen;
}

describe('a session cancelled as a step starts', () => {
  it('cancel() from the awaiting_consent state event: the consent prompt is never shown', async () => {
    let prompts = 0;
    const flow = await flowWith({
      wallet: {
        consent: () => {
          prompts += 1;
          return true;
        },
      },
    });
    const unhandled = await collectUnhandled(async () => {
      let cancel = () => {};
      const onEvent = (event: WalletEvent) => {
        if (event.type === 'state' && event.state === 'awaiting_consent') cancel();
      };
      const session = flow.wallet.startSession(flow.walletEnd, { onEvent });
      cancel = session.cancel;
      const invocation = await flow.issuer.invocation();
      const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
      await flow.issuerEnd.send(invocation);
      expect(await session.outcome).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      expect(await resultPromise).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
    });
    expect(prompts).toBe(0);
    expect(unhandled).toEqual([]);
  });

  it('cancel() from the submitting state event: nothing is submitted and no rejection is left unhandled', async () => {
    const submitted: unknown[] = [];
    // Like a real client: it starts the request, then rejects because the signal is aborted.
    const tokenService: TokenServiceClient = {
      submit: (submission, { signal }) => {
        submitted.push(submission.sessionId);
        return new Promise<ProvisioningResponse>((_resolve, reject) => {
          setTimeout(() => reject(signal ? abortError(signal) : new Error('no signal')), 0);
        });
      },
      getTokenStatus: () => Promise.reject(new Error('unused')),
    };
    const flow = await flowWith({ wallet: { tokenService } });
    const unhandled = await collectUnhandled(async () => {
      let cancel = () => {};
      const onEvent = (event: WalletEvent) => {
        if (event.type === 'state' && event.state === 'submitting') cancel();
      };
      const session = flow.wallet.startSession(flow.walletEnd, { onEvent });
      cancel = session.cancel;
      const { result } = await flow.issuer.run(flow.issuerEnd);
      expect(await session.outcome).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      expect(result).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
    });
    expect(unhandled).toEqual([]);
    expect(submitted).toEqual([]);
  });
});
