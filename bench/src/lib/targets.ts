import type { BenchRow, MemorySample, TargetCheck } from './report.js';
import { availableParallelism } from 'node:os';
import { round } from './stats.js';

/**
 * The SQLite HTTP lines' ratios to the floor before the PostgreSQL store
 * change (the store behind an interface, the writer thread, the pipeline
 * moved into the store): docs/performance.md, "Targets" table, quiet run of
 * `pnpm bench` on 2026-11-28 (2 cores, AMD EPYC, Node 20.20; the busy run
 * measured the same). Each line may lose at most 10 %: ratio >= 0.9 x these.
 */
export const SQLITE_HTTP_BASELINE: Readonly<Record<string, number>> = {
  'http.sqlite-full.c64': 0.5,
  'http.sqlite-full.c64.cluster2': 0.46,
};
/** The most the SQLite HTTP lines may lose against {@link SQLITE_HTTP_BASELINE}. */
export const SQLITE_HTTP_MAX_LOSS = 0.1;

/** The PostgreSQL targets of issue 13. */
export const POSTGRES_TARGETS = {
  /** PostgreSQL, 1 instance, 64 in flight, against the SQLite FULL 1-process line at 64 in flight. */
  vsSqlite: 0.8,
  /** 2 instances against 1 instance, at 64 in flight. */
  twoVsOne: 1,
  roundTripsPerProvisioning: 3,
  commitsPerProvisioning: 1,
  p99OverP50: 5,
} as const;

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * Why a throughput ratio missed, in CPU time: what the line spends per
 * operation against what the target allows.
 *
 * - In process (SDKs, service): the line runs with the floor's parallelism,
 *   so at `min` of the floor's throughput it may spend at most the floor's
 *   CPU per operation divided by `min`.
 * - Over HTTP: the server and the load generator share the machine's cores,
 *   so `min` of the floor's throughput allows at most cores / (min x floor
 *   throughput) of CPU per request for both together (an upper bound: it
 *   assumes every core busy all the time).
 *
 * Where the run measured it (Linux), the note adds the main thread's CPU
 * per operation: all JavaScript runs there, so it caps a process at
 * 1 / (main-thread time per operation) whatever the other cores do.
 */
export function cpuBudgetNote(row: BenchRow, min: number, cores: number): string | undefined {
  const extra = row.extra ?? {};
  const cpu = num(extra.cpuMsPerOp);
  if (cpu === undefined) return undefined;
  const loadGenerator = num(extra.loadGeneratorCpuMsPerOp);
  if (row.section === 'http') {
    const floorThroughput = num(extra.floorThroughputAlongside);
    if (floorThroughput === undefined || loadGenerator === undefined) return undefined;
    const budget = (cores * 1000) / (min * floorThroughput);
    const used = cpu + loadGenerator;
    let note = `needs <= ${budget.toFixed(3)} ms CPU per request for server + load generator on ${cores} cores (${min} x ${Math.round(floorThroughput)} /s); uses ${used.toFixed(3)} (server ${cpu.toFixed(3)} + load generator ${loadGenerator.toFixed(3)})`;
    const main = num(extra.mainThreadCpuMsPerOp);
    if (main !== undefined && main > 0) {
      // Each server process runs its JavaScript on one thread: n processes serve at most n / (main-thread ms per request).
      const servers = num(extra.processes) ?? 1;
      const cap = (servers * 1000) / main;
      note += `; the server main thread${servers > 1 ? 's use' : ' uses'} ${main.toFixed(3)} ms per request, which caps ${servers > 1 ? `${servers} processes` : 'it'} at ${Math.round(cap)} /s (${(cap / floorThroughput).toFixed(2)} of the floor)`;
    }
    return note;
  }
  const floorCpu = num(extra.floorCpuMsPerOp);
  if (floorCpu === undefined) return undefined;
  const budget = floorCpu / min;
  const over = cpu > budget ? `${((cpu - budget) * 1000).toFixed(0)} us over` : 'within it: the line loses its time waiting, not computing';
  let note = `needs <= ${budget.toFixed(3)} ms CPU per operation (the floor's ${floorCpu.toFixed(3)} / ${min}); uses ${cpu.toFixed(3)}, ${over}`;
  const main = num(extra.mainThreadCpuMsPerOp);
  const floorMain = num(extra.floorMainThreadCpuMsPerOp);
  if (main !== undefined && floorMain !== undefined) note += `; main thread ${main.toFixed(3)} ms per operation, the floor's ${floorMain.toFixed(3)}`;
  return note;
}

/** The targets of the issue, checked against the rows of this run (never as timed tests). */
export function checkTargets(rows: BenchRow[], samples: MemorySample[], cores = availableParallelism()): TargetCheck[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: TargetCheck[] = [];
  const errorsNote = (r: BenchRow) => (r.errors ? `${r.errors} errors` : undefined);
  const ratioAtLeast = (id: string, min: number) => {
    const r = byId.get(id);
    if (!r || r.ratio === undefined) return;
    const met = r.ratio >= min && !r.errors;
    const note = errorsNote(r) ?? (met ? undefined : cpuBudgetNote(r, min, cores));
    out.push({ name: `${r.label} vs ${r.floor}`, measured: r.ratio, target: `>= ${min}`, met, ...(note && { note }) });
  };

  for (const id of ['sdk.issuer.c1', 'sdk.wallet.c1']) ratioAtLeast(id, 0.9);
  for (const r of rows) if (r.section === 'sdk' && r.concurrency !== 1) ratioAtLeast(r.id, 0.9);
  for (const r of rows) if (r.section === 'service') ratioAtLeast(r.id, 0.9);

  for (const r of rows) {
    if (r.section !== 'http' || r.concurrency === undefined || r.concurrency < 64) continue;
    ratioAtLeast(r.id, 0.7);
    if (r.p50Ms !== undefined && r.p99Ms !== undefined) {
      const multiple = round(r.p99Ms / r.p50Ms, 2);
      out.push({ name: `${r.label}: p99 / p50`, measured: multiple, target: '<= 5', met: multiple <= 5 });
    }
  }

  for (const [id, baseline] of Object.entries(SQLITE_HTTP_BASELINE)) {
    const r = byId.get(id);
    if (!r || r.ratio === undefined) continue;
    const min = round((1 - SQLITE_HTTP_MAX_LOSS) * baseline, 3);
    out.push({
      name: `${r.label}: ratio against the one recorded before the PostgreSQL store (${baseline}, docs/performance.md, 2026-11-28)`,
      measured: r.ratio,
      target: `>= ${min} (0.9 x ${baseline})`,
      met: r.ratio >= min && !r.errors,
      note: errorsNote(r) ?? `${round(r.ratio / baseline, 3)} of the baseline; ${Math.round(r.value)} /s, floor alongside ${r.extra?.floorThroughputAlongside} /s`,
    });
  }

  out.push(...checkPostgresTargets(rows));

  const growth = rows.filter((r) => r.section === 'growth');
  if (growth.length === 2) {
    // Each growth line is measured against the floor in interleaved rounds; comparing those ratios
    // (rather than raw throughputs taken a minute apart) keeps a change in machine load out of it.
    const [small, large] = growth as [BenchRow, BenchRow];
    if (small.ratio !== undefined && large.ratio !== undefined) {
      const ratio = round(large.ratio / small.ratio, 3);
      out.push({
        name: `growth: throughput with ${large.extra?.tokensBefore} vs ${small.extra?.tokensBefore} tokens stored (each as a share of the floor)`,
        measured: ratio,
        target: '>= 0.9',
        met: ratio >= 0.9 && !small.errors && !large.errors,
        note: `${small.value} -> ${large.value} /s; CPU ${small.extra?.cpuMsPerOp} -> ${large.extra?.cpuMsPerOp} ms/op`,
      });
    }
  }

  if (samples.length >= 3) {
    const first = samples[1]!;
    const last = samples.at(-1)!;
    const ratio = round(last.heapUsedMb / first.heapUsedMb, 3);
    out.push({
      name: `memory: heap after GC at ${last.requests} vs ${first.requests} requests`,
      measured: ratio,
      target: '<= 1.1 (flat)',
      met: ratio <= 1.1,
      note: `heap ${first.heapUsedMb} -> ${last.heapUsedMb} MB, RSS ${first.rssMb} -> ${last.rssMb} MB`,
    });
  }

  for (const r of rows) {
    if (r.section !== 'size' || r.extra?.budget === undefined) continue;
    const budget = Number(r.extra.budget);
    const met = r.value <= budget;
    out.push({ name: `size: ${r.label}`, measured: r.value, target: `<= ${budget} bytes`, met, ...(!met && { note: `${r.value - budget} bytes over` }) });
  }
  return out;
}

/** CPU per request of a line, by process: server(s), database, balancer, load generator (what the run measured). */
function cpuParts(r: BenchRow): string {
  const e = r.extra ?? {};
  const parts: [string, unknown][] = [
    [num(e.processes) !== undefined && num(e.processes)! > 1 ? `${e.processes} servers` : 'server', e.cpuMsPerOp],
    ['PostgreSQL', e.databaseCpuMsPerOp],
    ['nginx', e.balancerCpuMsPerOp],
    ['load generator', e.loadGeneratorCpuMsPerOp],
  ];
  const known = parts.filter((p): p is [string, number] => num(p[1]) !== undefined);
  const total = known.reduce((sum, [, v]) => sum + v, 0);
  return `${total.toFixed(3)} ms CPU per request (${known.map(([name, v]) => `${name} ${v.toFixed(3)}`).join(' + ')})`;
}

/**
 * The PostgreSQL lines' targets (issue 13): throughput against the SQLite
 * HTTP line and of 2 instances against 1, both as ratios of the lines'
 * shares of the floor measured alongside them (so that machine load between
 * the lines cancels out; the raw throughputs are in the note); round trips
 * and commits per provisioning; p99 against p50.
 */
export function checkPostgresTargets(rows: BenchRow[]): TargetCheck[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: TargetCheck[] = [];
  const pgRows = rows.filter((r) => r.section === 'postgres' && r.unit === 'ops/s' && Number.isFinite(r.value));
  // "Many in flight" by id (`postgres.c64`): a quick run's rounds are shorter than 64 requests, so its rows' concurrency is lower.
  const inFlight = Math.max(64, ...pgRows.map((r) => Number(/^postgres\.c(\d+)$/.exec(r.id)?.[1] ?? 0)));
  const many = byId.get(`postgres.c${inFlight}`);
  const two = byId.get(`postgres.c${inFlight}.instances2`);
  const sqlite = byId.get(`http.sqlite-full.c${inFlight}`);
  const relative = (name: string, line: BenchRow, reference: BenchRow, min: number) => {
    if (line.ratio === undefined || reference.ratio === undefined || reference.ratio <= 0) return;
    const measured = round(line.ratio / reference.ratio, 3);
    const errors = (line.errors ?? 0) + (reference.errors ?? 0);
    out.push({
      name,
      measured,
      target: `>= ${min}`,
      met: measured >= min && errors === 0,
      note:
        `${errors ? `${errors} errors; ` : ''}shares of the floor ${line.ratio} / ${reference.ratio}; ${Math.round(line.value)} vs ${Math.round(reference.value)} /s ` +
        `(raw ${round(line.value / reference.value, 3)}); ${cpuParts(line)} vs ${cpuParts(reference)}`,
    });
  };
  if (many && sqlite) relative(`${many.label} vs ${sqlite.label} (throughput, each as a share of its floor)`, many, sqlite, POSTGRES_TARGETS.vsSqlite);
  if (many && two) relative(`${two.label} vs ${many.label} (throughput, each as a share of its floor)`, two, many, POSTGRES_TARGETS.twoVsOne);

  const measured = pgRows.filter((r) => r.roundTrips !== undefined);
  const worst = (name: string, value: (r: BenchRow) => number, max: number, digits: number) => {
    if (measured.length === 0) return;
    const values = measured.map((r) => ({ r, v: round(value(r), digits) }));
    const top = values.reduce((a, b) => (b.v > a.v ? b : a));
    const errors = measured.reduce((sum, r) => sum + (r.errors ?? 0), 0);
    out.push({
      name: `PostgreSQL lines: ${name} (the most of ${measured.length} lines)`,
      measured: top.v,
      target: `<= ${max}`,
      met: top.v <= max && errors === 0,
      note: `${errors ? `${errors} errors; ` : ''}${values.map(({ r, v }) => `${r.id} ${v}`).join(', ')}`,
    });
  };
  worst('database round trips per provisioning', (r) => r.roundTrips!.perProvisioning, POSTGRES_TARGETS.roundTripsPerProvisioning, 3);
  worst('commits per provisioning', (r) => r.roundTrips!.commitsPerProvisioning, POSTGRES_TARGETS.commitsPerProvisioning, 3);
  worst('p99 / p50', (r) => (r.p99Ms ?? Number.NaN) / (r.p50Ms ?? Number.NaN), POSTGRES_TARGETS.p99OverP50, 2);
  return out;
}
