// The throwaway PostgreSQL clusters themselves (scripts/lib/pg-cluster.mjs,
// test/setup/postgres.global.ts, test/support/postgres.ts): real servers.
import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPgCluster } from '../../scripts/lib/pg-cluster.mjs';
import { pgAdminUrl, testDatabaseUrl, withPgCluster } from '../support/postgres';

async function query<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the run's cluster (global setup)", () => {
  it('gives every call a database of its own', async () => {
    const [a, b] = await Promise.all([testDatabaseUrl(), testDatabaseUrl()]);
    expect(a).not.toBe(b);
    const [nameA] = await query<{ db: string }>(a, 'SELECT current_database() AS db');
    const [nameB] = await query<{ db: string }>(b, 'SELECT current_database() AS db');
    expect(nameA!.db).not.toBe(nameB!.db);
    expect(a.endsWith(`/${nameA!.db}`)).toBe(true);

    await query(a, 'CREATE TABLE only_in_a (id int PRIMARY KEY)');
    await query(a, 'INSERT INTO only_in_a VALUES (1)');
    expect(await query(a, "SELECT to_regclass('only_in_a')::text AS t")).toEqual([{ t: 'only_in_a' }]);
    expect(await query(b, "SELECT to_regclass('only_in_a')::text AS t")).toEqual([{ t: null }]);
  });

  it('with TEST_DATABASE_URL, startPgCluster starts nothing: databases are made on that server, stop/kill/start/restart refuse', async () => {
    const adminUrl = await pgAdminUrl();
    const saved = process.env.TEST_DATABASE_URL;
    process.env.TEST_DATABASE_URL = adminUrl;
    try {
      const server = await startPgCluster();
      expect(server.external).toBe(true);
      expect(server.adminUrl).toBe(adminUrl);
      expect(server.pid).toBeUndefined();
      const url = await server.createDatabase();
      expect(new URL(url).port).toBe(new URL(adminUrl).port);
      const [{ db } = { db: '' }] = await query<{ db: string }>(url, 'SELECT current_database() AS db');
      expect(db.startsWith(server.databasePrefix)).toBe(true);
      for (const call of [server.stop, server.kill, server.start, server.restart]) {
        await expect(call()).rejects.toThrow(/not available with TEST_DATABASE_URL/);
      }
      // destroy() drops the databases it named, and only those.
      await server.destroy();
      expect(await query(adminUrl, 'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [db])).toEqual([{ n: 0 }]);
      expect(await query(adminUrl, 'SELECT 1 AS up')).toEqual([{ up: 1 }]);
    } finally {
      if (saved === undefined) delete process.env.TEST_DATABASE_URL;
      else process.env.TEST_DATABASE_URL = saved;
    }
  });
});

describe('a cluster of its own', () => {
  it('listens on 127.0.0.1 only, keeps committed rows across restart() and kill() + start(), and destroy() leaves nothing', async () => {
    let dir = '';
    let pids: number[] = [];
    await withPgCluster(async (cluster) => {
      dir = cluster.dir;
      expect(cluster.external).toBe(false);
      expect(cluster.host).toBe('127.0.0.1');
      expect(cluster.adminUrl).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
      const settings = await query<{ name: string; setting: string }>(
        cluster.adminUrl,
        "SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'max_connections', 'fsync', 'unix_socket_directories', 'data_directory') ORDER BY name",
      );
      expect(Object.fromEntries(settings.map((s) => [s.name, s.setting]))).toEqual({
        data_directory: cluster.dataDir,
        fsync: 'on',
        listen_addresses: '127.0.0.1',
        max_connections: '200',
        unix_socket_directories: `${cluster.dir}/socket`,
      });

      const url = await cluster.createDatabase();
      await query(url, 'CREATE TABLE t (id int PRIMARY KEY)');
      await query(url, 'INSERT INTO t VALUES (1)');

      const firstPid = cluster.pid;
      await cluster.restart();
      expect(running(firstPid)).toBe(false);
      expect(cluster.pid).not.toBe(firstPid);
      expect(await query(url, 'SELECT id FROM t ORDER BY id')).toEqual([{ id: 1 }]);

      // A crash: a client connected at the time loses its connection, the
      // server refuses new ones until start(); the committed row survives.
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      await client.query('INSERT INTO t VALUES (2)');
      const killedPid = cluster.pid;
      const port = cluster.port;
      await cluster.kill();
      expect(running(killedPid)).toBe(false);
      await expect(client.query('SELECT 1')).rejects.toThrow();
      await expect(query(url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
      await cluster.start();
      expect(cluster.port).toBe(port);
      expect(await query(url, 'SELECT id FROM t ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
      await cluster.start(); // running: a no-op
      pids = [firstPid, killedPid, cluster.pid];
    });
    expect(existsSync(dir)).toBe(false);
    expect(pids.filter(running)).toEqual([]);
  });

  it('createDatabase(name) and dropDatabase(name), with names checked before they reach SQL', async () => {
    await withPgCluster(async (cluster) => {
      const url = await cluster.createDatabase('pushprov_named');
      expect(url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/pushprov_named`);
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      await cluster.dropDatabase('pushprov_named'); // closes the open connection
      await expect(client.query('SELECT 1')).rejects.toThrow();
      await expect(query(url, 'SELECT 1')).rejects.toThrow(/does not exist/);
      await expect(cluster.createDatabase('x"; DROP DATABASE postgres; --')).rejects.toThrow(/invalid database name/);
    });
  });
});
