// PostgreSQL for test files.
//
//   const url = await testDatabaseUrl();            // a fresh database on the run's cluster
//   await withPgCluster(async (cluster) => { … });  // a cluster of your own, to kill and restart
//
// The run's cluster comes from test/setup/postgres.global.ts (or is the server
// of TEST_DATABASE_URL); each call of testDatabaseUrl() makes a new, uniquely
// named database, so test files run in parallel without sharing tables.
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { connectPgServer, startPgCluster, type ExternalPgServer, type LocalPgCluster, type PgClusterOptions } from '../../scripts/lib/pg-cluster.mjs';
import type { PgRunInfo, PgRunState } from '../setup/postgres.global';

export type { LocalPgCluster, PgServer } from '../../scripts/lib/pg-cluster.mjs';

const READY_TIMEOUT_MS = 90_000;

function runInfo(): PgRunInfo {
  let provided: PgRunInfo | undefined;
  try {
    provided = inject('pushprovPg');
  } catch {
    // not inside a vitest worker
  }
  if (provided) return provided;
  const stateFile = process.env.PUSHPROV_PG_STATE;
  const databasePrefix = process.env.PUSHPROV_PG_DATABASE_PREFIX;
  if (stateFile && databasePrefix) return { stateFile, databasePrefix };
  throw new Error('No PostgreSQL for this test run: test/setup/postgres.global.ts is not in this vitest configuration (test.globalSetup), and PUSHPROV_PG_STATE is unset.');
}

function readState(stateFile: string): PgRunState {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as PgRunState;
  } catch (error) {
    throw new Error(`The run's PostgreSQL state file ${stateFile} cannot be read (${(error as Error).message}); the global setup may have finished already.`);
  }
}

let server: Promise<ExternalPgServer> | undefined;

/** The run's server, once it accepts connections (bounded wait; its start error if it failed). */
function runServer(): Promise<ExternalPgServer> {
  server ??= (async () => {
    const info = runInfo();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const state = readState(info.stateFile);
      if (state.state === 'ready') return connectPgServer(state.adminUrl, { databasePrefix: info.databasePrefix });
      if (state.state === 'failed') throw new Error(`The run's PostgreSQL cluster did not start:\n${state.error}`);
      if (Date.now() >= deadline) throw new Error(`The run's PostgreSQL cluster was not ready within ${READY_TIMEOUT_MS} ms.`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  // A failure is reported to every caller, not remembered as a rejected promise nobody awaits.
  server.catch(() => {
    server = undefined;
  });
  return server;
}

/** Admin URL of the run's server (the `postgres` database, a role that may CREATE DATABASE). */
export async function pgAdminUrl(): Promise<string> {
  return (await runServer()).adminUrl;
}

/** A fresh, uniquely named database on the run's server; its URL. Dropped at the end of the run. */
export async function testDatabaseUrl(): Promise<string> {
  return (await runServer()).createDatabase();
}

/**
 * Runs `fn` with a throwaway cluster of its own (even with TEST_DATABASE_URL
 * set: a test that kills and restarts its server needs the PostgreSQL
 * binaries), destroyed afterwards whatever happens.
 */
export async function withPgCluster<T>(fn: (cluster: LocalPgCluster) => Promise<T>, options: Omit<PgClusterOptions, 'local'> = {}): Promise<T> {
  const cluster = await startPgCluster({ ...options, local: true });
  try {
    return await fn(cluster);
  } finally {
    await cluster.destroy();
  }
}
