import { writeFileSync } from 'node:fs';
import { migratePostgres } from '@pushprov/token-service';
import { type Balancer, startBalancer } from '../../../scripts/lib/nginx-balancer.mjs';
import { type LocalPgCluster, startPgCluster } from '../../../scripts/lib/pg-cluster.mjs';
import { forkWorker, stopChild, waitForChildMessage } from '../lib/child.js';
import type { Fixture } from '../lib/fixture.js';
import type { Task } from '../lib/paired.js';
import type { BenchParams } from '../lib/params.js';
import { processTreeCpuMs } from '../lib/proc-cpu.js';
import type { BenchRow } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { type BenchServer, type ServerStats, measureHttpLine, startBenchServer } from './http.js';

/** Bound on the cluster's start (initdb excluded), and on each nginx start, ms. */
const PG_START_TIMEOUT_MS = 60_000;
const NGINX_START_TIMEOUT_MS = 15_000;
/** Connections in each instance's pool: the store's default (`openPostgresStore`, and the CLI without `postgresPoolSize`). */
const POOL_MAX = 10;

interface PostgresCase {
  key: string;
  label: string;
  concurrency: number;
  count: number;
  /** Server processes, each with its own pool, on the one database. */
  instances: number;
  /** Through the nginx balancer (always with more than one instance). */
  balancer: boolean;
}

/**
 * Section 5: the token service over loopback HTTP with PostgreSQL, with the
 * load generator and the paired-floor method of the SQLite HTTP lines. One
 * throwaway cluster for the section (durable defaults: fsync on,
 * synchronous_commit on), a fresh migrated database per line. Lines: 1
 * instance at 1, 16 and 64 in flight; 2 instances (two server processes,
 * each its own pool) behind a real nginx at 16 and 64; and, in full mode, 1
 * instance behind nginx at 64, to tell the balancer's cost from the second
 * instance's gain. Each server counts its queries by store operation
 * (`onRoundTrip`): the row's `roundTrips` is their count over the measured
 * requests. The PostgreSQL and nginx processes' CPU (Linux, from /proc) is
 * reported per request too: on a small machine they share the cores with
 * the servers and the load generator.
 */
export async function runPostgres(
  fx: Fixture,
  params: BenchParams,
  floor: Task,
  tempPath: (name: string) => string,
  log: (line: string) => void = () => undefined,
): Promise<BenchRow[]> {
  const configPath = tempPath('postgres-config.json');
  writeFileSync(configPath, JSON.stringify(fx.config), { mode: 0o600 });
  const many = params.manyInFlight;
  const cases: PostgresCase[] = [
    { key: 'c1', label: 'HTTP, PostgreSQL, 1 instance, 1 in flight', concurrency: 1, count: params.sequential, instances: 1, balancer: false },
    { key: 'c16', label: 'HTTP, PostgreSQL, 1 instance, 16 in flight', concurrency: 16, count: params.http, instances: 1, balancer: false },
    { key: `c${many}`, label: `HTTP, PostgreSQL, 1 instance, ${many} in flight`, concurrency: many, count: params.http, instances: 1, balancer: false },
    { key: `c${many}.nginx1`, label: `HTTP, PostgreSQL, 1 instance behind nginx, ${many} in flight`, concurrency: many, count: params.http, instances: 1, balancer: true },
    { key: 'c16.instances2', label: 'HTTP, PostgreSQL, 2 instances behind nginx, 16 in flight', concurrency: 16, count: params.http, instances: 2, balancer: true },
    { key: `c${many}.instances2`, label: `HTTP, PostgreSQL, 2 instances behind nginx, ${many} in flight`, concurrency: many, count: params.http, instances: 2, balancer: true },
  ];
  // The quick mode keeps the lines the targets compare: 1 instance and 2 instances at many in flight.
  const selected = params.mode === 'quick' ? cases.filter((c) => c.key === `c${many}` || c.key === `c${many}.instances2`) : cases;

  const t0 = Date.now();
  const cluster = await startPgCluster({ local: true, startTimeoutMs: PG_START_TIMEOUT_MS, databasePrefix: 'pushprov_bench_' });
  log(`  PostgreSQL cluster on port ${cluster.port} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const rows: BenchRow[] = [];
  try {
    const generator = forkWorker('load-generator');
    try {
      await waitForChildMessage(generator, 'ready');
      for (const c of selected) rows.push(await runCase(c, generator));
    } finally {
      await stopChild(generator);
    }
  } finally {
    await cluster.destroy();
  }
  return rows;

  async function runCase(c: PostgresCase, generator: Parameters<typeof measureHttpLine>[0]['generator']): Promise<BenchRow> {
    const url = await cluster.createDatabase();
    await migratePostgres(url);
    const servers: BenchServer[] = [];
    let balancer: Balancer | undefined;
    try {
      for (let i = 0; i < c.instances; i++) servers.push(await startBenchServer({ configPath, storeUrl: url, poolMax: POOL_MAX, workers: 1, synchronous: 'FULL' }));
      if (c.balancer) balancer = await startBalancer({ upstreams: servers.map((s) => s.url), startTimeoutMs: NGINX_START_TIMEOUT_MS });
      // CPU of PostgreSQL's and nginx's processes, read with each reading of the servers' counters (before and after the measured rounds).
      const others: { database?: number | undefined; balancer?: number | undefined }[] = [];
      const stats = async (): Promise<ServerStats> => {
        others.push({ database: processTreeCpuMs(cluster.pid), balancer: balancer ? processTreeCpuMs(balancer.pid) : undefined });
        // The servers' figures summed: each has its own process and pool.
        return sumStats(await Promise.all(servers.map((s) => s.stats())));
      };
      const { row, paired, before, after } = await measureHttpLine({
        fx,
        params,
        floor,
        generator,
        url: balancer?.url ?? servers[0]!.url,
        stats,
        concurrency: c.concurrency,
        count: c.count,
        base: { id: `postgres.${c.key}`, section: 'postgres', label: c.label },
      });
      const provisionings = paired.subject.count;
      const trips = diffCounts(before.roundTrips ?? {}, after.roundTrips ?? {});
      const total = Object.values(trips).reduce((sum, n) => sum + n, 0);
      row.roundTrips = {
        provisionings,
        total,
        perProvisioning: round(total / provisionings, 3),
        commitsPerProvisioning: round((trips.commit ?? 0) / provisionings, 3),
        byOperation: Object.fromEntries(Object.entries(trips).map(([operation, n]) => [operation, round(n / provisionings, 3)])),
      };
      const perOp = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : round((b - a) / provisionings, 3));
      const databaseCpu = perOp(others[0]?.database, others[1]?.database);
      const balancerCpu = perOp(others[0]?.balancer, others[1]?.balancer);
      row.extra = {
        ...row.extra,
        // Server processes (the main-thread cap in the notes counts them).
        processes: c.instances,
        instances: c.instances,
        balancer: c.balancer ? 'nginx' : 'none',
        poolMaxPerInstance: POOL_MAX,
        synchronousCommit: 'on',
        ...(databaseCpu !== undefined && { databaseCpuMsPerOp: databaseCpu }),
        ...(balancerCpu !== undefined && { balancerCpuMsPerOp: balancerCpu }),
      };
      return row;
    } finally {
      await balancer?.stop();
      await Promise.all(servers.map((s) => s.stop()));
      await cluster.dropDatabase(new URL(url).pathname.slice(1)).catch(() => undefined);
    }
  }
}

/** The servers' figures, summed over processes. */
function sumStats(all: ServerStats[]): ServerStats {
  const roundTrips: Record<string, number> = {};
  for (const s of all) for (const [operation, n] of Object.entries(s.roundTrips ?? {})) roundTrips[operation] = (roundTrips[operation] ?? 0) + n;
  const mains = all.map((s) => s.mainThreadCpuMs);
  return {
    peakRssMb: round(all.reduce((sum, s) => sum + s.peakRssMb, 0), 1),
    cpuMs: all.reduce((sum, s) => sum + s.cpuMs, 0),
    ...(mains.every((m) => m !== undefined) && { mainThreadCpuMs: mains.reduce((sum, m) => sum + m!, 0) }),
    roundTrips,
  };
}

/** after − before, per key (only keys that moved). */
function diffCounts(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) {
    const d = n - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}
