import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, createMemoryStore, openSqliteStore } from '../src/index.js';
import { SQLITE_MIGRATIONS, SQLITE_NULLABLE_TOKEN_NUMBER_VERSION } from '../src/store/sqlite/sqlite-schema.js';
import { createTempDir } from './helpers.js';
import { describeLifecycleContract } from './lifecycle-store-contract.js';
import { makeCommit, makeToken, makeVault } from './store-contract.js';

describeLifecycleContract('memory', () => ({ open: () => createMemoryStore() }));

describeLifecycleContract('sqlite', () => {
  const temp = createTempDir('lifecycle-store-');
  const path = join(temp.dir, 'tokens.db');
  return { open: () => openSqliteStore(path), cleanup: temp.remove };
});

describe('SQLite migration to the lifecycle schema', () => {
  it('rebuilds tokens of an existing database with a nullable token number, keeping rows, indexes and foreign keys', async () => {
    const temp = createTempDir('lifecycle-migrate-');
    const path = join(temp.dir, 'tokens.db');
    const db = new Database(path);
    const before = SQLITE_NULLABLE_TOKEN_NUMBER_VERSION - 1;
    for (const migration of SQLITE_MIGRATIONS.slice(0, before)) db.exec(migration);
    db.pragma(`user_version = ${before}`);
    db.prepare(
      `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
         issuer_id, wallet_provider_id, wallet_account_id, device_id, created_at, updated_at)
       VALUES ('tok_old', 'h-old', 'sealed-old', '4242', 1, 2030, 'active', 'bank-a', 'wallet-co', 'acct', 'dev', 1000, 1000)`,
    ).run();
    db.prepare("INSERT INTO vault VALUES ('tok_old', 'fp-old', 'wallet-co', 'acct', 'dev', 'card-old', '1111', 1000)").run();
    const indexesBefore = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tokens' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    db.close();

    const store = openSqliteStore(path);
    try {
      expect(await store.tokens.find('tok_old')).toMatchObject({ sealedTokenNumber: 'sealed-old', status: 'active' });
      expect(await store.lifecycle.transition({ tokenReferenceId: 'tok_old', from: ['active'], to: 'deleted', type: 'token.deleted', actor: 'issuer', reason: 'card_closed', nowMs: 2_000 })).toMatchObject({
        ok: true,
        sequence: 1,
      });
      expect(await store.tokens.find('tok_old')).toMatchObject({ sealedTokenNumber: null, status: 'deleted' });
    } finally {
      await store.close();
    }
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    const indexesAfter = (after.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tokens' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    // Every index kept through the rebuild; schema 8 adds the token query's.
    expect(indexesAfter).toEqual([...indexesBefore, 'tokens_wallet_account'].sort());
    expect(after.pragma('foreign_key_list(vault)')).toEqual([expect.objectContaining({ table: 'tokens' })]);
    after.close();
    temp.remove();
  });
});

describe('SQLite: a change that fails inside its transaction', () => {
  it('leaves no status, history, event or delivery of it', async () => {
    const temp = createTempDir('lifecycle-failing-');
    const path = join(temp.dir, 'tokens.db');
    let store = openSqliteStore(path);
    const token = makeToken();
    await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }));
    await store.close();
    // The wallet's delivery of the token's next event is refused: that insert comes last in the change's transaction.
    const db = new Database(path);
    db.exec(`CREATE TRIGGER refuse_delivery BEFORE INSERT ON deliveries WHEN NEW.sequence = 2 AND NEW.receiver LIKE 'wallet:%' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    db.close();
    store = openSqliteStore(path);
    try {
      await expect(
        store.lifecycle.transition({ tokenReferenceId: token.tokenReferenceId, from: ['active'], to: 'deleted', type: 'token.deleted', actor: 'issuer', reason: 'other', nowMs: 9_000 }),
      ).rejects.toMatchObject({ code: 'internal_error' });
      expect(await store.tokens.find(token.tokenReferenceId)).toMatchObject({ status: 'active', sealedTokenNumber: token.sealedTokenNumber });
      expect(await store.vault.find(token.tokenReferenceId)).toBeDefined();
      expect(await store.lifecycle.history(token.tokenReferenceId)).toHaveLength(1);
      const events = await store.events.ofToken(token.tokenReferenceId);
      expect(events.map((e) => e.type)).toEqual(['token.created']);
    } finally {
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM deliveries').get()).toEqual({ n: 2 });
    check.close();
    temp.remove();
  });
});
