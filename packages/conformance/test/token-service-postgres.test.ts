// `pushprov-conformance token-service` against the reference token service on
// PostgreSQL: the same CLI, started with `--store postgres://…` on a fresh
// database of the run's throwaway cluster, migrated with `token-service
// migrate` first. Every applicable case passes, as on SQLite.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import type { Report } from '../src/report.js';
import { type ReferenceService, TOKEN_SERVICE_CLI, killChildren, runCli, spawnArgs, startReferenceService, tempDir } from './helpers.js';

const temp = tempDir('conformance-pg-');
let service: ReferenceService;
let profilePath: string;

beforeAll(async () => {
  const url = await testDatabaseUrl();
  const [command, args] = spawnArgs([TOKEN_SERVICE_CLI, 'migrate', '--store', url]);
  const migrated = spawnSync(command, args, { cwd: temp.dir, encoding: 'utf8', timeout: 60_000 });
  expect(migrated.status, migrated.stderr).toBe(0);
  service = await startReferenceService(temp.dir, { store: url });
  profilePath = join(temp.dir, 'profile.json');
  writeFileSync(profilePath, JSON.stringify(service.profile, null, 2));
}, 90_000);
afterAll(async () => {
  await service?.stop();
  killChildren();
  temp.remove();
});

describe('the conformance runner against the reference token service on PostgreSQL', () => {
  it('passes every applicable case', async () => {
    const json = join(temp.dir, 'pg.json');
    const run = await runCli(['token-service', '--base-url', service.url, '--profile', profilePath, '--json', json]);
    expect(run.stderr).toBe('');
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.results.filter((r) => r.status === 'failed')).toEqual([]);
    expect(report.summary.notApplicable).toBe(0);
    expect(report.summary.passed).toBeGreaterThan(50);
    expect(run.code).toBe(0);
  }, 120_000);
});
