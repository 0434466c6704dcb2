import { describe, expect, it } from 'vitest';
import { createClientAssertion } from '@pushprov/protocol';
import { join } from 'node:path';
import { createAuthenticator, openSqliteStore, parseConfig } from '../src/index.js';
import { SERVICE_ID, WALLET, createFixture, createTempDir } from './helpers.js';

describe('createAuthenticator: client assertions', () => {
  it('lets one of many concurrent requests carrying the same assertion through, across two authenticators sharing one SQLite file', async () => {
    const fx = await createFixture();
    const config = parseConfig(fx.config);
    const temp = createTempDir();
    // Two stores on one file: two service processes, with no memory in common.
    const stores = [openSqliteStore(join(temp.dir, 'tokens.db')), openSqliteStore(join(temp.dir, 'tokens.db'))];
    const authenticators = stores.map((store) => createAuthenticator(config, { replay: store.replay, clock: fx.clock }));
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: fx.clock });
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => authenticators[i % 2]!(`Bearer ${assertion}`)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'unauthenticated' });
    // Used up when presented, durably: a process started later refuses it too.
    await Promise.all(stores.map((s) => s.close()));
    const later = openSqliteStore(join(temp.dir, 'tokens.db'));
    await expect(createAuthenticator(config, { replay: later.replay, clock: fx.clock })(`Bearer ${assertion}`)).rejects.toMatchObject({ code: 'unauthenticated' });
    await later.close();
    temp.remove();
  });

  it('keeps no per-process memory of used assertions: the store alone decides', async () => {
    const fx = await createFixture();
    const config = parseConfig(fx.config);
    const claimed: string[] = [];
    const replay = { has: async () => false, count: async () => 0, claim: async (r: { key: string }) => (claimed.push(r.key), true) };
    const authenticate = createAuthenticator(config, { replay, clock: fx.clock });
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: fx.clock });
    // A store that (wrongly) says yes twice is believed twice: nothing in the process second-guesses it.
    await authenticate(`Bearer ${assertion}`);
    await authenticate(`Bearer ${assertion}`);
    expect(claimed).toHaveLength(2);
    expect(claimed[0]).toBe(claimed[1]);
  });
});

describe('createAuthenticator: API keys', () => {
  it('hashes a raw key that merely starts with "sha256:", so it still authenticates', async () => {
    const fx = await createFixture();
    const rawKey = 'sha256:not-a-hash-but-a-raw-key-of-enough-length';
    const input = { ...fx.config, walletProviders: fx.config.walletProviders.map((p) => (p.id === WALLET ? { ...p, apiKeys: [rawKey] } : p)) };
    const authenticate = createAuthenticator(parseConfig(input), { replay: { has: async () => false, count: async () => 0, claim: async () => true }, clock: fx.clock });
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
