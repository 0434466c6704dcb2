// The target checks on hand-made rows: what a miss says about the CPU it would
// take to meet the target. Pure arithmetic, no measuring.
import { describe, expect, it } from 'vitest';
import type { BenchRow } from '../src/lib/report.js';
import { checkTargets, cpuBudgetNote } from '../src/lib/targets.js';

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
