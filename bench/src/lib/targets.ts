import type { BenchRow, MemorySample, TargetCheck } from './report.js';
import { availableParallelism } from 'node:os';
import { round } from './stats.js';

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
