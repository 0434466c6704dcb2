import { writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { forkWorker, stopChild, waitForChildMessage } from '../lib/child.js';
import { API_KEY, type Fixture, prepareRequests } from '../lib/fixture.js';
import type { LoadResult } from '../lib/load.js';
import { type PairedResult, type Task, measurePaired } from '../lib/paired.js';
import type { BenchParams } from '../lib/params.js';
import type { BenchRow } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { pairedRow } from './floor.js';

/** A running benchmark server (a child process, or a cluster of them). */
export interface BenchServer {
  child: ChildProcess;
  url: string;
  /** Milliseconds from the process start to listening. */
  readyMs: number;
  /** Peak RSS (MB) and CPU time so far (ms) of the server process(es), summed over processes; and of the servers' main threads (Linux). */
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

/** What {@link BenchServer.stats} returns. */
export interface ServerStats {
  peakRssMb: number;
  cpuMs: number;
  mainThreadCpuMs?: number;
  /** Database round trips so far by store operation (PostgreSQL servers only). */
  roundTrips?: Record<string, number>;
}

/** Options of {@link startBenchServer}: SQLite at `dbPath` (`workers` > 1: a node:cluster), or PostgreSQL at `storeUrl` (one process). */
export interface BenchServerOptions {
  configPath: string;
  dbPath?: string;
  storeUrl?: string;
  /** PostgreSQL pool size (default: the store's). */
  poolMax?: number;
  workers: number;
  synchronous: 'FULL' | 'NORMAL';
}

/** Starts the token server in a child process (`workers` > 1: a node:cluster of that many). */
export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  // The server inherits the run's UV_THREADPOOL_SIZE (main.ts sets it as the token-service command does).
  const child = forkWorker('http-server', { PUSHPROV_BENCH_SERVER: JSON.stringify(options) });
  try {
    const ready = await waitForChildMessage<{ type: 'ready'; url: string; readyMs: number }>(child, 'ready');
    return {
      child,
      url: ready.url,
      readyMs: ready.readyMs,
      async stats() {
        const reply = waitForChildMessage<{ type: 'stats'; maxRssKb: number; cpuMs: number; mainThreadCpuMs?: number; roundTrips?: Record<string, number> }>(
          child,
          'stats',
          10_000,
        );
        child.send({ type: 'stats' });
        const { maxRssKb, cpuMs, mainThreadCpuMs, roundTrips } = await reply;
        return {
          peakRssMb: round(maxRssKb / 1024, 1),
          cpuMs,
          ...(typeof mainThreadCpuMs === 'number' && { mainThreadCpuMs }),
          ...(options.storeUrl !== undefined && { roundTrips: roundTrips ?? {} }),
        };
      },
      stop: () => stopChild(child),
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

interface HttpCase {
  key: string;
  label: string;
  concurrency: number;
  count: number;
  workers: number;
  synchronous: 'FULL' | 'NORMAL';
}

/**
 * Section 4: the token service over loopback HTTP with SQLite. The server
 * runs in its own process (fresh database each run, logs off), the load
 * generator in another, so neither shares the other's event loop. The
 * requests are built before each run. Lines: synchronous FULL (the default)
 * at 1, 16 and 64 in flight; then at 64 in flight with a node:cluster of 2
 * processes, and with synchronous NORMAL (no fsync per commit).
 */
export async function runHttp(fx: Fixture, params: BenchParams, floor: Task, tempPath: (name: string) => string): Promise<BenchRow[]> {
  const configPath = tempPath('http-config.json');
  writeFileSync(configPath, JSON.stringify(fx.config), { mode: 0o600 });
  const many = params.manyInFlight;
  const cases: HttpCase[] = [
    { key: 'sqlite-full.c1', label: 'HTTP, SQLite FULL, 1 process, 1 in flight', concurrency: 1, count: params.sequential, workers: 1, synchronous: 'FULL' },
    { key: 'sqlite-full.c16', label: 'HTTP, SQLite FULL, 1 process, 16 in flight', concurrency: 16, count: params.http, workers: 1, synchronous: 'FULL' },
    { key: `sqlite-full.c${many}`, label: `HTTP, SQLite FULL, 1 process, ${many} in flight`, concurrency: many, count: params.http, workers: 1, synchronous: 'FULL' },
    { key: `sqlite-full.c${many}.cluster2`, label: `HTTP, SQLite FULL, cluster of 2, ${many} in flight`, concurrency: many, count: params.http, workers: 2, synchronous: 'FULL' },
    { key: `sqlite-normal.c${many}`, label: `HTTP, SQLite NORMAL, 1 process, ${many} in flight`, concurrency: many, count: params.http, workers: 1, synchronous: 'NORMAL' },
    { key: `sqlite-normal.c${many}.cluster2`, label: `HTTP, SQLite NORMAL, cluster of 2, ${many} in flight`, concurrency: many, count: params.http, workers: 2, synchronous: 'NORMAL' },
  ];
  // The quick mode keeps the lines the targets name, and one cluster run to exercise it.
  const selected = params.mode === 'quick' ? cases.filter((c) => c.synchronous === 'FULL') : cases;
  const rows: BenchRow[] = [];
  let run = 0;
  const generator = forkWorker('load-generator');
  try {
    await waitForChildMessage(generator, 'ready');
    for (const c of selected) rows.push(await runCase(c, run++));
  } finally {
    await stopChild(generator);
  }
  return rows;

  async function runCase(c: HttpCase, index: number): Promise<BenchRow> {
    const server = await startBenchServer({ configPath, dbPath: tempPath(`http-${index}.db`), workers: c.workers, synchronous: c.synchronous });
    try {
      const { row } = await measureHttpLine({
        fx,
        params,
        floor,
        generator,
        url: server.url,
        stats: () => server.stats(),
        concurrency: c.concurrency,
        count: c.count,
        base: { id: `http.${c.key}`, section: 'http', label: c.label },
      });
      row.extra = { ...row.extra, processes: c.workers, synchronous: c.synchronous };
      return row;
    } finally {
      await server.stop();
    }
  }
}

/**
 * One HTTP line: warms the server(s) up, then measures `count` requests from
 * the load generator in rounds interleaved with the service floor (the
 * paired-floor method), and returns the row with the servers' CPU (their
 * main threads' on Linux) and the load generator's apart. `stats` reads the
 * servers' counters; the row's figures are the difference over the measured
 * rounds, warm-up excluded.
 */
export async function measureHttpLine(options: {
  fx: Fixture;
  params: BenchParams;
  floor: Task;
  generator: ChildProcess;
  url: string;
  stats: () => Promise<ServerStats>;
  concurrency: number;
  count: number;
  base: Pick<BenchRow, 'id' | 'section' | 'label'>;
}): Promise<{ row: BenchRow; paired: PairedResult; before: ServerStats; after: ServerStats }> {
  const { fx, params, floor, generator, url, concurrency, count } = options;
  const many = params.manyInFlight;
  const warmup = await prepareRequests(fx, Math.max(params.warmup, concurrency * 2));
  const requests = await prepareRequests(fx, params.rounds * Math.ceil(count / params.rounds));
  const send = async (batch: typeof requests, inFlight = concurrency): Promise<LoadResult> => {
    const done = waitForChildMessage<{ type: 'result'; result: LoadResult }>(generator, 'result', 600_000);
    generator.send({ type: 'run', url, apiKey: API_KEY, concurrency: inFlight, requests: batch });
    return (await done).result;
  };
  // Warm the server up with many in flight, whatever the case's concurrency: it is faster, and V8 optimises the same code.
  await send(warmup, many);
  const before = await options.stats();
  let offset = 0;
  const paired = await measurePaired({
    floorTask: floor,
    runSubject: (n) => send(requests.slice(offset, (offset += n))),
    count,
    concurrency,
    floorConcurrency: concurrency === 1 ? 1 : many,
    rounds: params.rounds,
  });
  const after = await options.stats();
  const row = pairedRow({ ...options.base, floor: `floor.service.c${concurrency === 1 ? 1 : many}` }, paired);
  row.peakRssMb = after.peakRssMb;
  // The line's own CPU is the server's; the load generator's is reported apart.
  const serverCpu = (after.cpuMs - before.cpuMs) / paired.subject.count;
  const floorCpu = paired.floor.cpuMs / paired.floor.count;
  row.extra = {
    ...row.extra,
    cpuMsPerOp: round(serverCpu, 3),
    cpuRatio: round(floorCpu / serverCpu, 3),
    loadGeneratorCpuMsPerOp: round(paired.subject.cpuMs / paired.subject.count, 3),
    threadpoolSize: Number(process.env.UV_THREADPOOL_SIZE),
    p99OverP50: round(paired.subject.p99Ms / paired.subject.p50Ms, 2),
  };
  // pairedRow took the load generator's main thread; the line's is the servers'.
  delete row.extra.mainThreadCpuMsPerOp;
  if (after.mainThreadCpuMs !== undefined && before.mainThreadCpuMs !== undefined) {
    row.extra.mainThreadCpuMsPerOp = round((after.mainThreadCpuMs - before.mainThreadCpuMs) / paired.subject.count, 3);
  }
  return { row, paired, before, after };
}
