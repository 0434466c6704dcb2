// Smoke test of the benchmark: runs `--quick` end to end in a child process
// and checks the JSON report's shape and that every measured operation
// succeeded. No timing assertions: the figures depend on the machine.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../src/lib/report.js';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('pnpm bench --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushprov-bench-test-'));
  const out = join(dir, 'report.json');
  let stdout = '';
  let report: BenchReport;

  beforeAll(async () => {
    const result = await run(process.execPath, ['--conditions=source', '--import', 'tsx', '--expose-gc', 'src/main.ts', '--quick', '--out', out], {
      cwd: benchDir,
      maxBuffer: 16 * 2 ** 20,
    });
    stdout = result.stdout;
    report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    // 50-75 s on a busy 2-core machine (the PostgreSQL lines add about 20 s); the cluster start is bounded at 60 s (initdb apart).
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a report of this run', () => {
    expect(report.schema).toBe('pushprov-bench/1');
    expect(report.mode).toBe('quick');
    expect(Number.isNaN(Date.parse(report.startedAt))).toBe(false);
    expect(report.machine.cpus).toBeGreaterThan(0);
    // The run gives every process the token-service command's thread pool: cores - 1, unless set.
    const threadpool = Number(process.env.UV_THREADPOOL_SIZE) || Math.max(1, availableParallelism() - 1);
    expect(report.machine.threadpoolSize).toBe(threadpool);
    // The smoke test runs the packages from source (--conditions=source); `pnpm bench` runs their dist.
    expect(report.machine.packagesFrom).toBe('source');
    expect(report.machine.loadAverageBefore).toHaveLength(3);
    expect(report.command).toContain('--quick');
    expect(report.gitCommit).toMatch(/^([0-9a-f]{7,}|unknown)$/);
  });

  it('has a line for every measurement of the issue', () => {
    const ids = report.rows.map((r) => r.id);
    for (const party of ['issuer', 'service', 'wallet']) for (const c of [1, 64]) expect(ids).toContain(`floor.${party}.c${c}`);
    for (const sdk of ['issuer', 'wallet']) for (const c of [1, 64]) expect(ids).toContain(`sdk.${sdk}.c${c}`);
    for (const store of ['memory', 'sqlite-full', 'sqlite-normal']) for (const c of [1, 64]) expect(ids).toContain(`service.${store}.c${c}`);
    for (const c of [1, 16, 64]) expect(ids).toContain(`http.sqlite-full.c${c}`);
    expect(ids).toContain('http.sqlite-full.c64.cluster2');
    // PostgreSQL (a throwaway cluster, bounded start): 1 instance and 2 instances behind nginx, at 64 in flight.
    for (const id of ['postgres.c64', 'postgres.c64.instances2']) expect(ids).toContain(id);
    for (const pkg of ['jose', 'protocol', 'issuer-sdk', 'issuer-sdk-server', 'wallet-sdk', 'token-service', 'token-service-server']) {
      expect(ids).toContain(`cold-start.import.${pkg}`);
    }
    expect(ids).toContain('cold-start.ready.node-http');
    expect(ids).toContain('cold-start.ready.token-service');
    expect(ids).toContain('growth.tokens-1k.c64');
    expect(ids).toContain('growth.tokens-10k.c64');
    for (const id of ['memory.pipeline', 'memory.heap.first', 'memory.heap.last', 'memory.rss.first', 'memory.rss.last']) expect(ids).toContain(id);
    for (const id of ['size.floor', 'size.wallet-sdk', 'size.issuer-sdk-app', 'size.wallet-browser-app']) expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('completes every operation it measures, without errors', () => {
    const throughput = report.rows.filter((r) => r.unit === 'ops/s');
    expect(throughput.length).toBeGreaterThan(20);
    for (const row of throughput) {
      expect(row.errors, `${row.id}: ${row.note ?? ''}`).toBe(0);
      expect(row.value, row.id).toBeGreaterThan(0);
      expect(row.count, row.id).toBeGreaterThan(0);
      expect(row.p99Ms!, row.id).toBeGreaterThanOrEqual(row.p50Ms!);
    }
    for (const row of report.rows.filter((r) => r.section === 'http' || r.section === 'postgres')) expect(row.peakRssMb, row.id).toBeGreaterThan(0);
    // Every PostgreSQL line counted its database round trips over the requests it measured, in every server process.
    for (const row of report.rows.filter((r) => r.section === 'postgres')) {
      const trips = row.roundTrips!;
      expect(trips, row.id).toBeDefined();
      expect(trips.provisionings, row.id).toBe(row.count);
      expect(trips.total, row.id).toBeGreaterThanOrEqual(trips.provisionings);
      expect(trips.byOperation.commit, row.id).toBeGreaterThan(0);
      expect(trips.perProvisioning, row.id).toBeCloseTo(trips.total / trips.provisionings, 2);
    }
    if (process.platform === 'linux') {
      // The main thread's CPU (read from /proc), for the floors and every line measured against one; over HTTP, the server's.
      for (const row of throughput.filter((r) => r.floor !== undefined || r.isFloor)) {
        expect(row.extra?.mainThreadCpuMsPerOp, row.id).toEqual(expect.any(Number));
        if (row.section !== 'http' && !row.isFloor) expect(row.extra?.floorMainThreadCpuMsPerOp, row.id).toEqual(expect.any(Number));
      }
    }
    const growth = report.rows.filter((r) => r.section === 'growth');
    expect(growth).toHaveLength(2);
    // Every request of a growth run (warm-up included) issued a new token on top of the prefilled ones.
    for (const row of growth) {
      expect(Number(row.extra?.tokensAfter), row.id).toBe(Number(row.extra?.tokensBefore) + Number(row.extra?.warmupRequests) + Number(row.count));
    }
  });

  it('compares each line with a floor measured in the same run', () => {
    const byId = new Map(report.rows.map((r) => [r.id, r]));
    for (const row of report.rows) {
      if (row.floor === undefined) continue;
      const floor = byId.get(row.floor);
      expect(floor, `${row.id} -> ${row.floor}`).toBeDefined();
      expect(floor!.isFloor, row.floor).toBe(true);
      if (row.value === null) {
        // A line not measured (a package not built) has no value and so no ratio.
        expect(row.note).toMatch(/not measured/);
      } else if (row.unit === 'ops/s') {
        // Throughput lines were measured in rounds interleaved with their floor: the ratio is the median round.
        const rounds = String(row.extra?.roundRatios).split(' ').map(Number).sort((a, b) => a - b);
        expect(rounds, row.id).toHaveLength(2);
        expect(row.ratio, row.id).toBe(rounds[0]);
        expect(Number(row.extra?.floorThroughputAlongside), row.id).toBeGreaterThan(0);
      } else {
        expect(row.ratio, row.id).toBeCloseTo(row.value / floor!.value, 2);
      }
    }
  });

  it('measures sizes with the CI budget script and checks the targets', () => {
    const wallet = report.rows.find((r) => r.id === 'size.wallet-sdk')!;
    expect(wallet.value).toBeGreaterThan(1000);
    expect(wallet.extra?.budget).toBe(20_000);
    expect(report.memory.samples.length).toBeGreaterThanOrEqual(3);
    expect(report.memory.samples.map((s) => s.requests)).toEqual([0, 100, 200, 300, 400]);
    expect(report.targets.length).toBeGreaterThan(5);
    for (const target of report.targets) expect(typeof target.met).toBe('boolean');
    expect(report.targets.some((t) => t.name.startsWith('size:'))).toBe(true);
    expect(report.targets.some((t) => t.name.startsWith('growth:'))).toBe(true);
    expect(report.targets.some((t) => t.name.startsWith('memory:'))).toBe(true);
    expect(report.targets.some((t) => t.name.startsWith('PostgreSQL lines: database round trips per provisioning'))).toBe(true);
    expect(report.targets.some((t) => t.name.includes('2 instances behind nginx') && t.name.includes(' vs '))).toBe(true);
  });

  it('prints the table and the targets', () => {
    expect(stdout).toMatch(/^line\s+value\s+p50 ms\s+p99 ms\s+peak RSS\s+CPU ms\/op\s+main ms\/op\s+ratio\s+CPU ratio\s+vs floor$/m);
    expect(stdout).toContain('-- http');
    expect(stdout).toContain('-- postgres');
    expect(stdout).toContain('Database round trips per provisioning');
    expect(stdout).toContain('Targets');
    expect(stdout).toContain(out);
  });
});
