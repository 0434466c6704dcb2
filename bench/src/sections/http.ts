import { writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { forkWorker, stopChild, waitForChildMessage } from '../lib/child.js';
import { API_KEY, type Fixture, prepareRequests } from '../lib/fixture.js';
import type { LoadResult } from '../lib/load.js';
import { type Task, measurePaired } from '../lib/paired.js';
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
  stats(): Promise<{ peakRssMb: number; cpuMs: number; mainThreadCpuMs?: number }>;
  stop(): Promise<void>;
}

/** Starts the token server in a child process (`workers` > 1: a node:cluster of that many). */
export async function startBenchServer(options: { configPath: string; dbPath: string; workers: number; synchronous: 'FULL' | 'NORMAL' }): Promise<BenchServer> {
  // The server inherits the run's UV_THREADPOOL_SIZE (main.ts sets it as the token-service command does).
  const child = forkWorker('http-server', { PUSHPROV_BENCH_SERVER: JSON.stringify(options) });
  try {
    const ready = await waitForChildMessage<{ type: 'ready'; url: string; readyMs: number }>(child, 'ready');
    return {
      child,
      url: ready.url,
      readyMs: ready.readyMs,
      async stats() {
        const reply = waitForChildMessage<{ type: 'stats'; maxRssKb: number; cpuMs: number; mainThreadCpuMs?: number }>(child, 'stats', 10_000);
        child.send({ type: 'stats' });
        const { maxRssKb, cpuMs, mainThreadCpuMs } = await reply;
        return { peakRssMb: round(maxRssKb / 1024, 1), cpuMs, ...(typeof mainThreadCpuMs === 'number' && { mainThreadCpuMs }) };
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
    const warmup = await prepareRequests(fx, Math.max(params.warmup, c.concurrency * 2));
    const requests = await prepareRequests(fx, params.rounds * Math.ceil(c.count / params.rounds));
    const server = await startBenchServer({ configPath, dbPath: tempPath(`http-${index}.db`), workers: c.workers, synchronous: c.synchronous });
    try {
      const send = async (batch: typeof requests, concurrency = c.concurrency): Promise<LoadResult> => {
        const done = waitForChildMessage<{ type: 'result'; result: LoadResult }>(generator, 'result', 600_000);
        generator.send({ type: 'run', url: server.url, apiKey: API_KEY, concurrency, requests: batch });
        return (await done).result;
      };
      // Warm the server up with many in flight, whatever the case's concurrency: it is faster, and V8 optimises the same code.
      await send(warmup, many);
      const before = await server.stats();
      let offset = 0;
      const paired = await measurePaired({
        floorTask: floor,
        runSubject: (n) => send(requests.slice(offset, (offset += n))),
        count: c.count,
        concurrency: c.concurrency,
        floorConcurrency: c.concurrency === 1 ? 1 : many,
        rounds: params.rounds,
      });
      const after = await server.stats();
      const row = pairedRow({ id: `http.${c.key}`, section: 'http', label: c.label, floor: `floor.service.c${c.concurrency === 1 ? 1 : many}` }, paired);
      row.peakRssMb = after.peakRssMb;
      // The line's own CPU is the server's; the load generator's is reported apart.
      const serverCpu = (after.cpuMs - before.cpuMs) / paired.subject.count;
      const floorCpu = paired.floor.cpuMs / paired.floor.count;
      row.extra = {
        ...row.extra,
        cpuMsPerOp: round(serverCpu, 3),
        cpuRatio: round(floorCpu / serverCpu, 3),
        loadGeneratorCpuMsPerOp: round(paired.subject.cpuMs / paired.subject.count, 3),
        processes: c.workers,
        threadpoolSize: Number(process.env.UV_THREADPOOL_SIZE),
        synchronous: c.synchronous,
        p99OverP50: round(paired.subject.p99Ms / paired.subject.p50Ms, 2),
      };
      // pairedRow took the load generator's main thread; the line's is the servers'.
      delete row.extra.mainThreadCpuMsPerOp;
      if (after.mainThreadCpuMs !== undefined && before.mainThreadCpuMs !== undefined) {
        row.extra.mainThreadCpuMsPerOp = round((after.mainThreadCpuMs - before.mainThreadCpuMs) / paired.subject.count, 3);
      }
      return row;
    } finally {
      await server.stop();
    }
  }
}
