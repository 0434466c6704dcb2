import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, createMemoryStore, openSqliteStore } from '../src/index.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/sqlite-schema.js';
import { SQLITE_WRITER } from '../src/store/sqlite/sqlite-store.js';
import { createTempDir } from './helpers.js';
import { describeStoreContract, makeCommit, makeIdempotency, makeToken, makeVault, stored } from './store-contract.js';

describeStoreContract('memory', () => ({ open: () => createMemoryStore() }), { durable: false });

describeStoreContract(
  'sqlite',
  () => {
    const temp = createTempDir('store-contract-');
    const path = join(temp.dir, 'tokens.db');
    return { open: () => openSqliteStore(path), cleanup: temp.remove };
  },
  { durable: true },
);

describe('SQLite store specifics', () => {
  it('uses WAL with synchronous FULL and records its schema version', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const store = openSqliteStore(path);
    await store.commit(makeCommit());
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    db.close();
    temp.remove();
  });

  it('refuses a database written by a newer schema version', () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore(path)).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    temp.remove();
  });

  it('refuses an in-memory database: each connection would get its own (createMemoryStore is the store in memory)', () => {
    for (const path of [':memory:', '', 'file::memory:?cache=shared']) {
      expect(() => openSqliteStore(path)).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    }
  });

  it('writes commits in the order they were asked for, also when the writer is busy with an earlier batch', async () => {
    const temp = createTempDir();
    const store = openSqliteStore(join(temp.dir, 'tokens.db'));
    const first = makeCommit();
    const firstDone = store.commit(first);
    // Let the first batch go to the writer, then ask for two more commits with the same key.
    await new Promise((resolve) => setImmediate(resolve));
    const second = store.commit(makeCommit({ idempotency: makeIdempotency({ key: first.idempotency.key }) }));
    const third = store.commit(makeCommit({ idempotency: makeIdempotency({ key: first.idempotency.key }) }));
    expect(await Promise.all([firstDone, second, third])).toEqual([{ ok: true }, { ok: false, conflict: 'idempotency' }, { ok: false, conflict: 'idempotency' }]);
    await store.close();
    await expect(store.commit(makeCommit())).rejects.toMatchObject({ code: 'internal_error' });
    await expect(store.purgeExpired(0)).rejects.toMatchObject({ code: 'internal_error' });
    await expect(store.tokens.count()).rejects.toMatchObject({ code: 'internal_error' });
    await store.close(); // a second close is harmless
    temp.remove();
  });

  it('refuses a path it cannot open with configuration_invalid', () => {
    const temp = createTempDir();
    expect(() => openSqliteStore(join(temp.dir, 'missing-dir', 'tokens.db'))).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    temp.remove();
  });

  it('creates the database file readable by its owner only', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const store = openSqliteStore(path);
    await store.commit(makeCommit());
    await store.close();
    for (const file of [path, `${path}-wal`]) {
      if (existsSync(file)) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    temp.remove();
  });

  it('migrates a version 1 database forward, keeping its rows', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const db = new Database(path);
    db.exec(SQLITE_MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare(
      "INSERT INTO tokens VALUES ('tok_v1', 'h', 's', '1234', 1, 2030, 'active', 'bank-a', 'wallet-co', 'user-1', 'device-1', NULL, 1, 1)",
    ).run();
    db.close();
    const store = openSqliteStore(path);
    expect(await store.tokens.find('tok_v1')).toMatchObject({ tokenReferenceId: 'tok_v1', status: 'active' });
    expect((await store.tokens.find('tok_v1'))?.deviceKeyThumbprint).toBeUndefined();
    expect(await store.idempotency.begin({ scope: 'w', key: 'k', requestHash: 'h', leaseId: 'l', nowMs: 1, leaseMs: 1000 })).toEqual({ state: 'started' });
    await store.close();
    const reopened = new Database(path, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    reopened.close();
    temp.remove();
  });

  it('migrates a version 5 database to 6: tokens gain account_id and pan_last4 (null on old rows), indexed by (issuer_id, account_id)', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const db = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, 5)) db.exec(migration);
    db.pragma('user_version = 5');
    db.prepare(
      "INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status, issuer_id, wallet_provider_id, wallet_account_id, device_id, created_at, updated_at) VALUES ('tok_v5', 'h', 's', '1234', 1, 2030, 'active', 'bank-a', 'wallet-co', 'user-1', 'device-1', 1, 1)",
    ).run();
    db.close();
    const store = openSqliteStore(path);
    const old = await store.tokens.find('tok_v5');
    expect(old).toMatchObject({ tokenReferenceId: 'tok_v5', status: 'active' });
    expect(old).not.toHaveProperty('accountId');
    expect(old).not.toHaveProperty('panLast4');
    await store.close();
    const reopened = new Database(path, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect((reopened.prepare('SELECT name FROM pragma_table_info(?)').all('tokens') as { name: string }[]).map((c) => c.name)).toEqual(expect.arrayContaining(['account_id', 'pan_last4']));
    expect((reopened.prepare('SELECT name FROM pragma_index_info(?)').all('tokens_issuer_account') as { name: string }[]).map((c) => c.name)).toEqual(['issuer_id', 'account_id']);
    reopened.close();
    temp.remove();
  });

  it('shares in-progress requests and claimed assertions between two stores on one file (two processes)', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const a = openSqliteStore(path);
    const b = openSqliteStore(path);
    const begin = { scope: 'wallet-co', key: 'shared', requestHash: 'h', nowMs: 1_000, leaseMs: 30_000 };
    const outcomes = await Promise.all([a.idempotency.begin({ ...begin, leaseId: 'a' }), b.idempotency.begin({ ...begin, leaseId: 'b' })]);
    expect(outcomes.map((o) => o.state).sort()).toEqual(['in_flight', 'started']);
    const claims = await Promise.all([a.replay.claim({ key: 'assertion', expiresAt: 9_000 }), b.replay.claim({ key: 'assertion', expiresAt: 9_000 })]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await a.close();
    await b.close();
    temp.remove();
  });

  it('is not ready once its writer thread is gone, and says so as store_unavailable', async () => {
    const temp = createTempDir();
    const store = openSqliteStore(join(temp.dir, 'tokens.db'));
    await expect(store.ping()).resolves.toBeUndefined();
    // Stop the writer thread, as a crash in it would.
    const writer = (store as unknown as Record<symbol, Worker | undefined>)[SQLITE_WRITER];
    expect(writer).toBeInstanceOf(Worker);
    await writer!.terminate();
    await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.commit(makeCommit())).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
    temp.remove();
  });

  it('enforces the token number hash uniqueness in the database itself', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const store = openSqliteStore(path);
    const first = makeCommit();
    await store.commit(first);
    await store.close();
    const db = new Database(path);
    const row = db.prepare('SELECT * FROM tokens').get() as Record<string, unknown>;
    expect(() =>
      db
        .prepare(
          `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
             issuer_id, wallet_provider_id, wallet_account_id, device_id, created_at, updated_at)
           VALUES (@a, @b, @c, @d, @e, @f, @g, @h, @i, @j, @k, @m, @n)`,
        )
        .run({ a: 'tok_other', b: row.token_number_hash, c: 'x', d: '1234', e: 1, f: 2030, g: 'active', h: 'i', i: 'w', j: 'a', k: 'd', m: 1, n: 1 }),
    ).toThrow(/UNIQUE/);
    db.close();
    temp.remove();
  });
  it('gives each of the commits written together (one transaction) its own outcome, and writes only the ones that succeed', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    const store = openSqliteStore(path);
    const first = makeCommit();
    const sameKey = makeCommit({ idempotency: makeIdempotency({ key: first.idempotency.key }) });
    const twin = makeToken();
    const sameCard = makeCommit({ issuance: { token: twin, vault: makeVault(twin, { panFingerprint: first.issuance!.vault.panFingerprint }) } });
    const sameRef = makeCommit({ issuance: { token: { ...makeToken(), tokenReferenceId: first.issuance!.token.tokenReferenceId }, vault: first.issuance!.vault } });
    const last = makeCommit();
    // Asked for in one turn of the event loop: one shared transaction, one savepoint each.
    const settled = await Promise.allSettled([first, sameKey, sameCard, sameRef, last].map((input) => store.commit(input)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : { rejected: (s.reason as { code: string }).code }))).toEqual([
      { ok: true },
      { ok: false, conflict: 'idempotency' },
      { ok: false, conflict: 'already_provisioned', tokenReferenceId: first.issuance!.token.tokenReferenceId },
      { rejected: 'internal_error' },
      { ok: true },
    ]);
    // A commit asked for just before close is written, not dropped.
    const atClose = makeCommit();
    const closing = store.commit(atClose);
    await store.close();
    expect(await closing).toEqual({ ok: true });
    const reopened = openSqliteStore(path);
    expect(await reopened.tokens.count()).toBe(3);
    expect(await reopened.idempotency.count()).toBe(3);
    expect(await reopened.replay.count()).toBe(3);
    expect(await reopened.idempotency.find(sameKey.idempotency.scope, sameKey.idempotency.key)).toEqual(stored(first.idempotency));
    expect(await reopened.tokens.find(atClose.issuance!.token.tokenReferenceId)).toEqual(atClose.issuance!.token);
    await reopened.close();
    temp.remove();
  });
});
