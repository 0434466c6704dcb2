// The key ids in use are found through an index on each sealed column's key
// id expression (migration 3), not by reading every row: the service checks
// them at every start. The expression the stores query must be the one the
// migrations index, or the planner silently falls back to a full scan.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migratePostgres, openSqliteStore } from '../src/index.js';
import { SEALED_COLUMNS, postgresKeyIdExpression, sqliteKeyIdExpression } from '../src/store/sealed.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { createTempDir } from './helpers.js';

const skipQuery = (expr: string, table: string, after: string) => `SELECT ${expr} FROM ${table} WHERE ${expr} > ${after} ORDER BY ${expr} LIMIT 1`;

describe('key id indexes', () => {
  it('SQLite: the key id probe is a search of the key id index, a page a search of the primary key', async () => {
    const temp = createTempDir();
    const path = join(temp.dir, 'tokens.db');
    await openSqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    for (const { table, column, key } of Object.values(SEALED_COLUMNS)) {
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
      expect(plan(skipQuery(sqliteKeyIdExpression(column), table, "'a'"))).toContain(`USING COVERING INDEX ${table}_sealed_key_id`);
      const cursor = key.length === 1 ? `${key[0]} > 'a'` : `(${key.join(', ')}) > ('a', 'b')`;
      expect(plan(`SELECT ${column} FROM ${table} WHERE ${cursor} ORDER BY ${key.join(', ')} LIMIT 10`)).toMatch(/SEARCH .* USING .*INDEX sqlite_autoindex/);
    }
    db.close();
    temp.remove();
  });

  it('PostgreSQL: the key id probe can use the key id index', async () => {
    const url = await testDatabaseUrl();
    await migratePostgres(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // A tiny table would be scanned anyway: forbid that, so only an index matching the expression can serve.
      await client.query('SET enable_seqscan = off');
      for (const { table, column } of Object.values(SEALED_COLUMNS)) {
        const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${skipQuery(postgresKeyIdExpression(column), table, "'a'")}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain(`${table}_sealed_key_id`);
      }
    } finally {
      await client.end();
    }
  });
});
