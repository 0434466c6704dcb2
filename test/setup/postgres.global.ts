// Vitest global setup: one throwaway PostgreSQL cluster per run (or the server
// of TEST_DATABASE_URL), for every test file that calls testDatabaseUrl()
// from test/support/postgres.ts. Registered in vitest.config.ts and
// security/vitest.load.config.ts.
//
// The cluster starts in the background so that a run whose files never use
// it waits for nothing: test files learn its state (starting, ready with its
// admin URL, or failed with the reason) from a small JSON file whose path is
// provided to them (`inject('pushprovPg')`, and PUSHPROV_PG_STATE for the
// processes they spawn). At the end of the run the cluster is destroyed (with
// TEST_DATABASE_URL: the run's databases, all named with its prefix, are dropped).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPgCluster, type PgServer } from '../../scripts/lib/pg-cluster.mjs';

export interface PgRunInfo {
  /** JSON file holding a PgRunState. */
  stateFile: string;
  /** Prefix of the names of the run's databases. */
  databasePrefix: string;
}

export type PgRunState = { state: 'starting' } | { state: 'ready'; adminUrl: string; external: boolean } | { state: 'failed'; error: string };

declare module 'vitest' {
  interface ProvidedContext {
    pushprovPg: PgRunInfo;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'pushprov-vitest-pg-'));
  const stateFile = join(stateDir, 'state.json');
  const databasePrefix = `pushprov_${randomBytes(4).toString('hex')}_`;
  const write = (state: PgRunState): void => {
    // Written whole, then renamed: a reader never sees half a file.
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state));
    renameSync(`${stateFile}.tmp`, stateFile);
  };
  write({ state: 'starting' });
  const starting: Promise<PgServer | undefined> = startPgCluster({ databasePrefix }).then(
    (cluster) => {
      write({ state: 'ready', adminUrl: cluster.adminUrl, external: cluster.external });
      return cluster;
    },
    (error: unknown) => {
      write({ state: 'failed', error: error instanceof Error ? error.message : String(error) });
      return undefined;
    },
  );
  project.provide('pushprovPg', { stateFile, databasePrefix });
  process.env.PUSHPROV_PG_STATE = stateFile;
  process.env.PUSHPROV_PG_DATABASE_PREFIX = databasePrefix;

  return async () => {
    try {
      const cluster = await starting;
      await cluster?.destroy();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  };
}
