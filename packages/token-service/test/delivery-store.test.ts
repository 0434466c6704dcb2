// The DeliveryStore contract on every store, and on PostgreSQL the claims of
// several instances racing: every due delivery goes to exactly one of them.
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, migratePostgres, openPostgresStore, openSqliteStore } from '../src/index.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { describeDeliveryContract } from './delivery-store-contract.js';
import { createTempDir } from './helpers.js';
import { makeCommit, makeToken, makeVault } from './store-contract.js';

describeDeliveryContract('memory', () => ({ open: () => createMemoryStore() }));

describeDeliveryContract('sqlite', () => {
  const temp = createTempDir('delivery-store-');
  const path = join(temp.dir, 'tokens.db');
  return { open: () => openSqliteStore(path), cleanup: temp.remove };
});

let database: Promise<string> | undefined;
const migrated = (): Promise<string> =>
  (database ??= (async () => {
    const url = await testDatabaseUrl();
    await migratePostgres(url);
    return url;
  })());
const truncate = async (url: string) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('TRUNCATE tokens, vault, replay, idempotency, idempotency_pending, rate_limits, verification_codes, token_history, events, deliveries');
  } finally {
    await client.end();
  }
};

describeDeliveryContract('postgres', () => ({
  async open() {
    const url = await migrated();
    await truncate(url);
    return openPostgresStore(url, { max: 4 });
  },
}));

describe('DeliveryStore on PostgreSQL: claims of several instances', () => {
  it('gives each due delivery to exactly one of four stores claiming at once (FOR UPDATE SKIP LOCKED)', async () => {
    const url = await migrated();
    await truncate(url);
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url, { max: 4 })));
    try {
      for (let i = 0; i < 30; i++) {
        const token = makeToken({ issuerId: 'bank-a', walletProviderId: 'wallet-co', createdAt: 1_000, updatedAt: 1_000 });
        expect(await stores[0]!.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: true });
      }
      const claimed = (
        await Promise.all(
          stores.flatMap((store, s) => [0, 1, 2].map((round) => store.deliveries.claim({ owner: `owner-${s}-${round}`, nowMs: 2_000, leaseMs: 10_000, limit: 7 }))),
        )
      ).flat();
      const keys = claimed.map((d) => `${d.eventId}/${d.receiver}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBe(60);
      expect(await stores[1]!.deliveries.claim({ owner: 'late', nowMs: 2_001, leaseMs: 10_000, limit: 100 })).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
