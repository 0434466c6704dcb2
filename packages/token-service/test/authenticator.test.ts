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

describe('createAuthenticator: API keys', () => {
  it('hashes a raw key that merely starts with "sha256:", so it still authenticates', async () => {
    const fx = await createFixture();
    const rawKey = 'sha256:not-a-hash-but-a-raw-key-of-enough-length';
    const input = { ...fx.config, walletProviders: fx.config.walletProviders.map((p) => (p.id === WALLET ? { ...p, apiKeys: [rawKey] } : p)) };
    const authenticate = createAuthenticator(parseConfig(input), { replay: { has: async () => false, count: async () => 0 }, clock: fx.clock });
    await expect(authenticate(`Bearer ${rawKey}`)).resolves.toMatchObject({ walletProviderId: WALLET, method: 'api_key' });
    await expect(authenticate('Bearer sha256:not-a-hash-but-a-raw-key-of-enough-lengtH')).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});

describe('parseConfig: lifetimes', () => {
  it('refuses idempotency records shorter than the replay window of the requests they answer', async () => {
    const fx = await createFixture();
    expect(() => parseConfig({ ...fx.config, lifetimes: { idempotencySeconds: 600 } })).toThrow(/idempotencySeconds/);
    expect(parseConfig({ ...fx.config, lifetimes: { idempotencySeconds: 1020 } }).lifetimes.idempotencySeconds).toBe(1020);
  });
});

describe('parseConfig: issuers', () => {
  it('refuses two issuers whose BIN ranges overlap', async () => {
    const fx = await createFixture();
    const first = fx.config.issuers[0]!;
    const twin = { ...first, id: 'bank-twin', binRanges: [{ start: first.binRanges[0]!.start, end: first.binRanges[0]!.start }] };
    expect(() => parseConfig({ ...fx.config, issuers: [first, twin] })).toThrow(/overlaps a BIN range of issuers\[1\]/);
    const apart = { ...twin, binRanges: [{ start: '522222', end: '522222' }] };
    expect(parseConfig({ ...fx.config, issuers: [first, apart] }).issuers).toHaveLength(2);
  });
});
