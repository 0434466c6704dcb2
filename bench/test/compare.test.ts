// Two reports side by side (`pnpm bench:compare`), on hand-made reports.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { compareReports, formatComparison } from '../src/lib/compare.js';
import type { BenchReport, BenchRow, TargetCheck } from '../src/lib/report.js';

const report = (rows: BenchRow[], targets: TargetCheck[], load: number[]): BenchReport => ({
  schema: 'pushprov-bench/1',
  mode: 'full',
  gitCommit: 'abc1234',
  startedAt: '2026-11-28T10:00:00.000Z',
  durationSeconds: 300,
  machine: {
    node: 'v20.20.0',
    platform: 'linux-x64',
    cpus: 2,
    threadpoolSize: 1,
    packagesFrom: 'dist',
    cpuModel: 'test',
    totalMemoryMb: 1024,
    loadAverageBefore: load,
    loadAverageAfter: load,
  },
  rows,
  memory: { samples: [] },
  targets,
  command: 'pnpm bench',
});

const line = (id: string, ratio: number | undefined, cpuRatio?: number): BenchRow => ({
  id,
  section: 'service',
  label: `label of ${id}`,
  value: 1000,
  unit: 'ops/s',
  ...(ratio !== undefined && { ratio }),
  ...(cpuRatio !== undefined && { extra: { cpuRatio } }),
});

const quiet = report(
  [line('floor.service.c64', undefined), line('service.memory.c64', 0.68, 0.7), line('service.memory.c1', 0.76), line('http.only-quiet', 0.5)],
  [{ name: 'service 64', measured: 0.68, target: '>= 0.9', met: false }],
  [0.5, 0.5, 0.5],
);
const busy = report(
  [line('floor.service.c64', undefined), line('service.memory.c64', 0.717, 0.718), line('service.memory.c1', 0.697), line('sdk.only-busy', 0.9)],
  [
    { name: 'service 64', measured: 0.717, target: '>= 0.9', met: false },
    { name: 'size', measured: 18_000, target: '<= 20000 bytes', met: true },
  ],
  [3, 2, 2],
);

describe('compareReports', () => {
  it('matches lines by id, with both ratios and the change; floors and lines of one run are apart', () => {
    const c = compareReports(quiet, busy);
    expect(c.lines).toEqual([
      { id: 'service.memory.c64', label: 'label of service.memory.c64', a: 0.68, b: 0.717, delta: 0.037, cpuA: 0.7, cpuB: 0.718 },
      { id: 'service.memory.c1', label: 'label of service.memory.c1', a: 0.76, b: 0.697, delta: -0.063 },
    ]);
    expect(c.onlyInA).toEqual(['http.only-quiet']);
    expect(c.onlyInB).toEqual(['sdk.only-busy']);
    expect(c.targets).toEqual([
      { name: 'service 64', a: { measured: 0.68, met: false }, b: { measured: 0.717, met: false } },
      { name: 'size', b: { measured: 18_000, met: true } },
    ]);
  });

  it('formats a table and the targets of both runs', () => {
    const text = formatComparison(compareReports(quiet, busy), { a: 'quiet', b: 'busy' });
    expect(text).toMatch(/^line\s+ratio quiet\s+ratio busy\s+change\s+CPU ratio quiet\s+CPU ratio busy$/m);
    expect(text).toMatch(/^label of service\.memory\.c64\s+0\.680\s+0\.717\s+\+0\.037\s+0\.700\s+0\.718$/m);
    expect(text).toMatch(/^label of service\.memory\.c1\s+0\.760\s+0\.697\s+-0\.063$/m);
    expect(text).toContain('MISSED 0.68');
    expect(text).toMatch(/\|\s+met 18000\s+size$/m);
    expect(text).toContain('only in quiet: http.only-quiet');
  });
});

describe('pnpm bench:compare', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushprov-compare-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const benchDir = fileURLToPath(new URL('..', import.meta.url));
  const run = promisify(execFile);

  it('reads two reports, paths relative to where pnpm ran, and prints both runs', async () => {
    writeFileSync(join(dir, 'quiet.json'), JSON.stringify(quiet));
    writeFileSync(join(dir, 'busy.json'), JSON.stringify(busy));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/compare.ts', '--', 'quiet.json', 'busy.json', '--names', 'q,b'], {
      cwd: benchDir,
      env: { ...process.env, INIT_CWD: dir },
    });
    expect(stdout).toContain('q: full run of abc1234 at 2026-11-28T10:00:00.000Z, 2 CPUs, load average 0.5 0.5 0.5');
    expect(stdout).toContain('b: full run of abc1234');
    expect(stdout).toMatch(/^label of service\.memory\.c64\s+0\.680\s+0\.717/m);
  });

  it('refuses a file that is not a report, and a missing argument', async () => {
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ schema: 'something-else' }));
    await expect(run(process.execPath, ['--import', 'tsx', 'src/compare.ts', join(dir, 'other.json'), join(dir, 'busy.json')], { cwd: benchDir })).rejects.toMatchObject({
      stderr: expect.stringContaining('is not a report of pnpm bench'),
    });
    await expect(run(process.execPath, ['--import', 'tsx', 'src/compare.ts', join(dir, 'busy.json')], { cwd: benchDir })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: pnpm bench:compare'),
    });
  });
});
