// TokenRecordStore.findLive on PostgreSQL (the run's cluster, one migrated
// database for the file), and migration 8 (its index) on a database at
// version 7.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { POSTGRES_SCHEMA_VERSION, migratePostgres, openPostgresStore } from '../src/index.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { testDatabaseUrl } from '../../../test/support/postgres';
import { describeTokenQueryContract } from './token-query-store-contract.js';

async function sql(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let database: Promise<string> | undefined;
const migrated = (): Promise<string> =>
  (database ??= (async () => {
    const url = await testDatabaseUrl();
    await migratePostgres(url);
    return url;
  })());

describeTokenQueryContract('postgres', () => ({ open: async () => openPostgresStore(await migrated(), { max: 4 }) }));

describe('PostgreSQL migration 8', () => {
  it('brings a version 7 schema to 8 with the (wallet provider, wallet account, issuer, account) index; old tokens are found', async () => {
    expect(POSTGRES_SCHEMA_VERSION).toBe(8);
    expect(POSTGRES_MIGRATIONS.at(-1)?.version).toBe(8);
    const url = await testDatabaseUrl();
    await sql(url, 'CREATE TABLE pushprov_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const migration of POSTGRES_MIGRATIONS.slice(0, 7)) {
      await sql(url, migration.sql);
      await sql(url, `INSERT INTO pushprov_schema_migrations (version) VALUES (${migration.version})`);
    }
    await sql(
      url,
      `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
         issuer_id, wallet_provider_id, wallet_account_id, device_id, account_id, created_at, updated_at)
       VALUES ('tok_v7', 'h-v7', 'sealed-v7', '4242', 1, 2030, 'active', 'bank-a', 'wallet-co', 'user-7', 'device-7', 'acc-7', 1000, 1000)`,
    );
    expect(await migratePostgres(url)).toEqual({ from: 7, to: 8 });
    expect(await sql(url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'tokens' AND indexname = 'tokens_wallet_account'")).toEqual([
      { indexdef: expect.stringContaining('(wallet_provider_id, wallet_account_id, issuer_id, account_id) WHERE (account_id IS NOT NULL)') },
    ]);
    const store = await openPostgresStore(url);
    try {
      const query = { walletProviderId: 'wallet-co', walletAccountId: 'user-7', issuerId: 'bank-a', accountIds: ['acc-7'], nowMs: Date.UTC(2027, 0, 1), limit: 10 };
      expect(await store.tokens.findLive(query)).toEqual([
        { tokenReferenceId: 'tok_v7', accountId: 'acc-7', deviceId: 'device-7', status: 'active', tokenExpiry: { month: 1, year: 2030 }, createdAt: 1000, activationStarted: false },
      ]);
    } finally {
      await store.close();
    }
  });
});
