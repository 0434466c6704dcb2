import { describe, expect, it } from 'vitest';
import { createClientAssertion } from '@pushprov/protocol';
import { createAuthenticator, parseConfig } from '../src/index.js';
import { SERVICE_ID, WALLET, createFixture } from './helpers.js';

describe('createAuthenticator: client assertions', () => {
  it('lets one of many concurrent requests carrying the same assertion through, even with a slow durable store', async () => {
    const fx = await createFixture();
    const config = parseConfig(fx.config);
    // A replay cache whose lookups really are asynchronous (as a remote store's would be).
    const slowReplay = {
      has: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5)),
      count: async () => 0,
    };
    const authenticate = createAuthenticator(config, { replay: slowReplay, clock: fx.clock });
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: fx.clock });
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => authenticate(`Bearer ${assertion}`)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'unauthenticated' });
  });
});
