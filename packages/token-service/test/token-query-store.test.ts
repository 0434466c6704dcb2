// TokenRecordStore.findLive on the memory store and on a real SQLite file,
// and SQLite schema 8 (its index) on a database migrated from version 7.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, createMemoryStore, openSqliteStore } from '../src/index.js';
import { SQLITE_MIGRATIONS, SQLITE_NULLABLE_TOKEN_NUMBER_VERSION, rebuildTokensWithNullableNumber } from '../src/store/sqlite/sqlite-schema.js';
import { createTempDir } from './helpers.js';
import { describeTokenQueryContract } from './token-query-store-contract.js';

describeTokenQueryContract('memory', () => ({ open: () => createMemoryStore() }));

describeTokenQueryContract('sqlite', () => {
  const temp = createTempDir('token-query-store-');
  const path = join(temp.dir, 'tokens.db');
  return { open: () => openSqliteStore(path), cleanup: temp.remove };
});

describe('SQLite schema 8', () => {
  it('migrates a version 7 database: its tokens are found through the new (wallet provider, wallet account, issuer, account) index', async () => {
    expect(SQLITE_SCHEMA_VERSION).toBe(8);
    const temp = createTempDir('token-query-migrate-');
    const path = join(temp.dir, 'tokens.db');
    const db = new Database(path);
    db.transaction(() => {
      for (let v = 0; v < 7; v++) {
        if (v + 1 === SQLITE_NULLABLE_TOKEN_NUMBER_VERSION) rebuildTokensWithNullableNumber(db);
        db.exec(SQLITE_MIGRATIONS[v]!);
      }
    })();
    db.pragma('user_version = 7');
    db.prepare(
      `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
         issuer_id, wallet_provider_id, wallet_account_id, device_id, account_id, created_at, updated_at)
       VALUES ('tok_v7', 'h-v7', 'sealed-v7', '4242', 1, 2030, 'active', 'bank-a', 'wallet-co', 'user-7', 'device-7', 'acc-7', 1000, 1000)`,
    ).run();
    db.close();

    const store = openSqliteStore(path);
    try {
      const query = { walletProviderId: 'wallet-co', walletAccountId: 'user-7', issuerId: 'bank-a', accountIds: ['acc-7'], nowMs: Date.UTC(2027, 0, 1), limit: 10 };
      expect((await store.tokens.findLive(query)).map((t) => t.tokenReferenceId)).toEqual(['tok_v7']);
    } finally {
      await store.close();
    }
    const after = new Database(path, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      expect((after.prepare('SELECT name FROM pragma_index_info(?)').all('tokens_wallet_account') as { name: string }[]).map((c) => c.name)).toEqual([
        'wallet_provider_id',
        'wallet_account_id',
        'issuer_id',
        'account_id',
      ]);
      // The query of findLive uses it.
      const plan = after
        .prepare(
          `EXPLAIN QUERY PLAN SELECT token_reference_id FROM tokens t WHERE t.wallet_provider_id = ? AND t.wallet_account_id = ? AND t.issuer_id = ?
             AND t.account_id IS NOT NULL AND t.account_id IN (SELECT value FROM json_each(?))`,
        )
        .all('wallet-co', 'user-7', 'bank-a', '["acc-7"]') as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain('tokens_wallet_account');
    } finally {
      after.close();
      temp.remove();
    }
  });
});
