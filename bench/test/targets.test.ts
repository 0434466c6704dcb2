// The target checks on hand-made rows: what a miss says about the CPU it would
// take to meet the target. Pure arithmetic, no measuring.
import { describe, expect, it } from 'vitest';
import type { BenchRow } from '../src/lib/report.js';
import { SQLITE_HTTP_BASELINE, checkPostgresTargets, checkTargets, cpuBudgetNote } from '../src/lib/targets.js';

const row = (over: Partial<BenchRow> & Pick<BenchRow, 'id' | 'section'>): BenchRow => ({ label: over.id, value: 1000, unit: 'ops/s', ...over });

describe('cpuBudgetNote', () => {
  it('in process: the floor CPU per operation divided by the target ratio', () => {
    const r = row({ id: 'service.memory.c64', section: 'service', concurrency: 64, ratio: 0.6, extra: { cpuMsPerOp: 0.6, floorCpuMsPerOp: 0.36 } });
    // 0.36 / 0.9 = 0.4 ms allowed; 0.6 used: 200 us over.
    expect(cpuBudgetNote(r, 0.9, 2)).toBe("needs <= 0.400 ms CPU per operation (the floor's 0.360 / 0.9); uses 0.600, 200 us over");
  });

  it('over HTTP: the cores shared by server and load generator at the target throughput', () => {
    const r = row({
      id: 'http.sqlite-full.p1.c64',
      section: 'http',
      concurrency: 64,
      ratio: 0.45,
      extra: { cpuMsPerOp: 0.8, loadGeneratorCpuMsPerOp: 0.05, floorThroughputAlongside: 4000 },
    });
    // 0.7 x 4,000 = 2,800 /s on 2 cores: 2,000 ms of CPU per second / 2,800 = 0.714 ms per request.
    expect(cpuBudgetNote(r, 0.7, 2)).toBe(
      'needs <= 0.714 ms CPU per request for server + load generator on 2 cores (0.7 x 4000 /s); uses 0.850 (server 0.800 + load generator 0.050)',
    );
  });

  it('adds the main thread, which caps a process at one operation per main-thread time', () => {
    const inProcess = row({
      id: 'sdk.wallet.c64',
      section: 'sdk',
      extra: { cpuMsPerOp: 0.5, floorCpuMsPerOp: 0.36, mainThreadCpuMsPerOp: 0.33, floorMainThreadCpuMsPerOp: 0.2 },
    });
    expect(cpuBudgetNote(inProcess, 0.9, 2)).toBe("needs <= 0.400 ms CPU per operation (the floor's 0.360 / 0.9); uses 0.500, 100 us over; main thread 0.330 ms per operation, the floor's 0.200");
    const http = (processes: number) =>
      row({
        id: `http.c64.p${processes}`,
        section: 'http',
        extra: { cpuMsPerOp: 0.8, loadGeneratorCpuMsPerOp: 0.05, floorThroughputAlongside: 4000, mainThreadCpuMsPerOp: 0.4, processes },
      });
    // 1,000 ms / 0.4 ms = 2,500 /s, 0.625 of 4,000; two processes share the requests: twice that.
    expect(cpuBudgetNote(http(1), 0.7, 2)).toMatch(/; the server main thread uses 0\.400 ms per request, which caps it at 2500 \/s \(0\.63 of the floor\)$/);
    expect(cpuBudgetNote(http(2), 0.7, 2)).toMatch(/; the server main threads use 0\.400 ms per request, which caps 2 processes at 5000 \/s \(1\.25 of the floor\)$/);
  });

  it('says when a line missed while computing less than the budget', () => {
    const r = row({ id: 'sdk.wallet.c64', section: 'sdk', extra: { cpuMsPerOp: 0.38, floorCpuMsPerOp: 0.36 } });
    expect(cpuBudgetNote(r, 0.9, 2)).toBe("needs <= 0.400 ms CPU per operation (the floor's 0.360 / 0.9); uses 0.380, within it: the line loses its time waiting, not computing");
  });

  it('says nothing when the row has no CPU figures', () => {
    expect(cpuBudgetNote(row({ id: 'sdk.wallet.c1', section: 'sdk' }), 0.9, 2)).toBeUndefined();
    expect(cpuBudgetNote(row({ id: 'http.x.c64', section: 'http', extra: { cpuMsPerOp: 1 } }), 0.7, 2)).toBeUndefined();
  });
});

describe('checkTargets', () => {
  it('explains a missed ratio and a missed size, and adds nothing to a met one', () => {
    const rows: BenchRow[] = [
      row({ id: 'sdk.issuer.c1', section: 'sdk', floor: 'floor.issuer.c1', ratio: 0.95, extra: { cpuMsPerOp: 0.5, floorCpuMsPerOp: 0.48 } }),
      row({ id: 'sdk.wallet.c1', section: 'sdk', floor: 'floor.wallet.c1', ratio: 0.7, extra: { cpuMsPerOp: 0.8, floorCpuMsPerOp: 0.54 } }),
      row({ id: 'size.wallet-sdk', section: 'size', unit: 'bytes', value: 24_500, extra: { budget: 20_000 } }),
      row({ id: 'size.issuer-sdk-app', section: 'size', unit: 'bytes', value: 18_000, extra: { budget: 20_000 } }),
    ];
    const targets = checkTargets(rows, [], 2);
    const byName = (start: string) => targets.find((t) => t.name.startsWith(start))!;
    expect(byName('sdk.issuer.c1')).toMatchObject({ met: true });
    expect(byName('sdk.issuer.c1').note).toBeUndefined();
    expect(byName('sdk.wallet.c1')).toMatchObject({ met: false, note: "needs <= 0.600 ms CPU per operation (the floor's 0.540 / 0.9); uses 0.800, 200 us over" });
    expect(byName('size: size.wallet-sdk')).toMatchObject({ met: false, note: '4500 bytes over' });
    expect(byName('size: size.issuer-sdk-app').note).toBeUndefined();
  });

  it('reports errors rather than a CPU budget when a line had failures', () => {
    const rows = [row({ id: 'sdk.wallet.c1', section: 'sdk', ratio: 0.95, errors: 3, extra: { cpuMsPerOp: 0.5, floorCpuMsPerOp: 0.48 } })];
    expect(checkTargets(rows, [], 2)[0]).toMatchObject({ met: false, note: '3 errors' });
  });
});

describe('PostgreSQL targets', () => {
  const trips = (perProvisioning: number, commits: number) => ({
    provisionings: 100,
    total: perProvisioning * 100,
    perProvisioning,
    commitsPerProvisioning: commits,
    byOperation: { begin: 1, commit: commits },
  });
  const pg = (id: string, over: Partial<BenchRow>): BenchRow =>
    row({ id, section: 'postgres', concurrency: 64, p50Ms: 10, p99Ms: 20, errors: 0, roundTrips: trips(3, 1), ...over });
  const rows: BenchRow[] = [
    row({ id: 'http.sqlite-full.c64', section: 'http', concurrency: 64, value: 2000, ratio: 0.5, p50Ms: 10, p99Ms: 15, extra: { cpuMsPerOp: 0.7, loadGeneratorCpuMsPerOp: 0.05 } }),
    row({ id: 'http.sqlite-full.c64.cluster2', section: 'http', concurrency: 64, value: 1800, ratio: 0.4, p50Ms: 10, p99Ms: 15 }),
    pg('postgres.c64', { value: 1700, ratio: 0.42, extra: { instances: 1, balancer: 'none', cpuMsPerOp: 0.6, databaseCpuMsPerOp: 0.2, loadGeneratorCpuMsPerOp: 0.05 } }),
    pg('postgres.c64.instances2', { value: 1600, ratio: 0.4, p99Ms: 60, roundTrips: trips(3.5, 1), extra: { instances: 2, balancer: 'nginx', processes: 2 } }),
  ];

  it('compares shares of the floor: PostgreSQL with SQLite, 2 instances with 1', () => {
    const targets = checkPostgresTargets(rows);
    const vsSqlite = targets.find((t) => t.name.startsWith('postgres.c64 vs http.sqlite-full.c64'))!;
    // 0.42 / 0.5 = 0.84 >= 0.8; raw 1700 / 2000 = 0.85.
    expect(vsSqlite).toMatchObject({ measured: 0.84, target: '>= 0.8', met: true });
    expect(vsSqlite.note).toContain('(raw 0.85)');
    expect(vsSqlite.note).toContain('0.850 ms CPU per request (server 0.600 + PostgreSQL 0.200 + load generator 0.050)');
    const twoVsOne = targets.find((t) => t.name.startsWith('postgres.c64.instances2 vs postgres.c64'))!;
    expect(twoVsOne).toMatchObject({ measured: 0.952, target: '>= 1', met: false });
  });

  it('takes the worst line for round trips, commits and p99 / p50', () => {
    const targets = checkPostgresTargets(rows);
    const byName = (part: string) => targets.find((t) => t.name.includes(part))!;
    expect(byName('round trips')).toMatchObject({ measured: 3.5, target: '<= 3', met: false });
    expect(byName('round trips').note).toBe('postgres.c64 3, postgres.c64.instances2 3.5');
    expect(byName('commits')).toMatchObject({ measured: 1, target: '<= 1', met: true });
    expect(byName('p99 / p50')).toMatchObject({ measured: 6, target: '<= 5', met: false });
  });

  it('checks the SQLite HTTP lines against 0.9 of the ratios recorded before the store change', () => {
    const targets = checkTargets(rows, [], 2).filter((t) => t.name.includes('recorded before the PostgreSQL store'));
    expect(targets).toHaveLength(Object.keys(SQLITE_HTTP_BASELINE).length);
    // 0.5 >= 0.9 x 0.5; 0.4 < 0.9 x 0.46 = 0.414.
    expect(targets[0]).toMatchObject({ measured: 0.5, target: '>= 0.45 (0.9 x 0.5)', met: true });
    expect(targets[1]).toMatchObject({ measured: 0.4, target: '>= 0.414 (0.9 x 0.46)', met: false });
  });

  it('says nothing without the PostgreSQL lines', () => {
    expect(checkPostgresTargets(rows.filter((r) => r.section !== 'postgres'))).toEqual([]);
  });
});
