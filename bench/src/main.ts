/**
 * The benchmark: one run measures the crypto floor, the SDKs, the token
 * service in process and over HTTP (SQLite; PostgreSQL with 1 and 2
 * instances behind nginx), cold start, growth, memory and bundle
 * size, prints a table and writes JSON.
 *
 * Usage (from the repository root): `pnpm bench [-- --quick] [-- --out FILE] [-- --only a,b]`
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGES_FROM } from './lib/child.js';
import { createFixture } from './lib/fixture.js';
import { FULL, QUICK } from './lib/params.js';
import { type BenchReport, type BenchRow, type MemorySample, type Section, SECTIONS, applyFloors, formatRoundTrips, formatTable, formatTargets } from './lib/report.js';
import { round } from './lib/stats.js';
import { checkTargets } from './lib/targets.js';
import { createTempDir } from './lib/temp.js';
import { runColdStart } from './sections/cold-start.js';
import { createFloorTasks, runFloor } from './sections/floor.js';
import { runGrowth } from './sections/growth.js';
import { runHttp } from './sections/http.js';
import { runMemory } from './sections/memory.js';
import { runPostgres } from './sections/postgres.js';
import { runSdk } from './sections/sdk.js';
import { runService } from './sections/service.js';
import { runSize } from './sections/size.js';

const benchDir = fileURLToPath(new URL('..', import.meta.url));

// Every process of the run (the floor, the lines in process, the token server) gets the
// libuv thread pool the `token-service` command gives the server: cores - 1, at least 1,
// unless UV_THREADPOOL_SIZE is set. libuv reads it once, before this module runs, so the
// bench starts itself again with it set.
if (process.env.UV_THREADPOOL_SIZE === undefined || process.env.UV_THREADPOOL_SIZE.trim() === '') {
  const size = String(Math.max(1, availableParallelism() - 1));
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, UV_THREADPOOL_SIZE: size } });
  process.exit(child.status ?? 1);
}
const threadpoolSize = Number(process.env.UV_THREADPOOL_SIZE);

// `pnpm bench -- --quick` forwards the `--` itself: drop it.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { quick: { type: 'boolean' }, out: { type: 'string' }, only: { type: 'string' } },
  strict: true,
});
const params = values.quick ? QUICK : FULL;
const only = values.only === undefined ? new Set<string>(SECTIONS) : new Set(values.only.split(','));
for (const name of only) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`unknown section ${name}; known: ${SECTIONS.join(', ')}`);
// A relative --out is relative to where pnpm was run (INIT_CWD), not to bench/ where the script runs.
const outFile = values.out === undefined ? resolve(benchDir, 'results/latest.json') : resolve(process.env.INIT_CWD ?? process.cwd(), values.out);

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = Date.now();
const loadBefore = loadavg().map((l) => round(l, 2));
log(`pushprov bench, ${params.mode} mode, packages from ${PACKAGES_FROM}, load average ${loadBefore.join(' ')} on ${cpus().length} CPUs, libuv thread pool ${threadpoolSize}`);

const fx = await createFixture();
const floor = await createFloorTasks(fx);
const temp = createTempDir();
const rows: BenchRow[] = [];
let samples: MemorySample[] = [];
// The floor always runs: every other line is compared with it.
const plan: [Section, () => Promise<void>][] = [
  ['floor', async () => void rows.push(...(await runFloor(floor, params)))],
  ['sdk', async () => void rows.push(...(await runSdk(fx, params, floor)))],
  ['service', async () => void rows.push(...(await runService(fx, params, floor.service, temp.path)))],
  ['http', async () => void rows.push(...(await runHttp(fx, params, floor.service, temp.path)))],
  ['postgres', async () => void rows.push(...(await runPostgres(fx, params, floor.service, temp.path, log)))],
  ['cold-start', async () => void rows.push(...(await runColdStart(fx, params, temp.path)))],
  [
    'memory',
    async () => {
      const memory = await runMemory(fx, params, temp.path);
      rows.push(...memory.rows);
      samples = memory.samples;
    },
  ],
  // After memory: the large prefill's SQLite cache would otherwise inflate the RSS baseline.
  ['growth', async () => void rows.push(...(await runGrowth(fx, params, floor.service, temp.path, log)))],
  ['size', async () => void rows.push(...(await runSize()))],
];
let failed = false;
try {
  for (const [section, run] of plan) {
    if (section !== 'floor' && !only.has(section)) continue;
    const t0 = Date.now();
    log(`- ${section} ...`);
    try {
      await run();
      log(`  ${section} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (error) {
      // One broken section must not lose the others' figures: record it, go on, exit non-zero.
      failed = true;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`  ${section} FAILED: ${message}`);
      rows.push({ id: `${section}.failed`, section, label: `${section} failed`, value: Number.NaN, unit: 'ms', note: message.slice(0, 500) });
    }
  }
} finally {
  temp.remove();
}

applyFloors(rows);
const targets = checkTargets(rows, samples);
const gitCommit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: benchDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
})();
const report: BenchReport = {
  schema: 'pushprov-bench/1',
  mode: params.mode,
  gitCommit,
  startedAt: new Date(started).toISOString(),
  durationSeconds: round((Date.now() - started) / 1000, 1),
  machine: {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    threadpoolSize,
    packagesFrom: PACKAGES_FROM,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemoryMb: Math.round(totalmem() / 2 ** 20),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg().map((l) => round(l, 2)),
  },
  rows,
  memory: { samples },
  targets,
  command: `pnpm bench${values.quick || values.only ? ' --' : ''}${values.quick ? ' --quick' : ''}${values.only ? ` --only ${values.only}` : ''}`,
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);

const notes = rows.filter((r) => r.note !== undefined).map((r) => `${r.id}: ${r.note}`);
const trips = formatRoundTrips(rows);
process.stdout.write(
  `\n${formatTable(rows)}\n${trips ? `\nDatabase round trips per provisioning (PostgreSQL lines)\n${trips}\n` : ''}${notes.length > 0 ? `\nNotes\n${notes.join('\n')}\n` : ''}\nTargets\n${formatTargets(targets)}\n\n`,
);
if (failed) process.exitCode = 1;
process.stdout.write(
  `load average before ${report.machine.loadAverageBefore.join(' ')}, after ${report.machine.loadAverageAfter.join(' ')}; ${report.durationSeconds} s; JSON: ${outFile}\n`,
);
