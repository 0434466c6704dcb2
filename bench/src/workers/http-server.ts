/**
 * A token server for the HTTP benchmark, in its own process: one process,
 * or a node:cluster primary with N workers sharing the port and the SQLite
 * file (WAL); or, with `storeUrl`, one process on a PostgreSQL database
 * (its own pool; every query counted by store operation through
 * `onRoundTrip`). Options come in PUSHPROV_BENCH_SERVER (JSON). Talks to its
 * parent over IPC: `ready` (url, ms since process start), `stats` (peak RSS
 * and CPU time of every process, summed, of the servers' main threads, and
 * the database round trips so far by operation), `stop`.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { openPostgresStore, openSqliteStore, silentLogger } from '@pushprov/token-service';
import { startTokenServer } from '@pushprov/token-service/server';
import { mainThreadCpuMs } from '../lib/thread-cpu.js';

interface ServerOptions {
  configPath: string;
  /** SQLite: the database file. */
  dbPath?: string;
  /** PostgreSQL: the (migrated) database's URL; then `workers` must be 1. */
  storeUrl?: string;
  /** PostgreSQL: connections in the pool (default: the store's). */
  poolMax?: number;
  workers: number;
  synchronous: 'FULL' | 'NORMAL';
}

type Message = { type: string; [key: string]: unknown };

const options = JSON.parse(process.env.PUSHPROV_BENCH_SERVER ?? '{}') as ServerOptions;
const send = (message: Message) => process.send?.(message);
const fail = (error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exit(1);
};
const maxRssKb = () => process.resourceUsage().maxRSS;
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Database round trips so far, by store operation (PostgreSQL only). */
const roundTrips: Record<string, number> = {};

async function runPrimary(): Promise<void> {
  if (options.dbPath === undefined) throw new Error('a cluster of workers needs dbPath (SQLite)');
  // Create the schema once, before the workers open the file.
  await openSqliteStore(options.dbPath, { synchronous: options.synchronous }).close();
  const workers = Array.from({ length: options.workers }, () => cluster.fork());
  const urls = await Promise.all(
    workers.map(
      (worker) =>
        new Promise<string>((resolve, reject) => {
          worker.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
          worker.on('message', (m: Message) => {
            if (m.type === 'listening') resolve(String(m.url));
            if (m.type === 'error') reject(new Error(String(m.message)));
          });
        }),
    ),
  );
  send({ type: 'ready', url: urls[0], readyMs: performance.now() });
  process.on('message', async (m: Message) => {
    if (m.type === 'stats') {
      const perWorker = await Promise.all(
        workers.map(
          (worker) =>
            new Promise<{ rss: number; cpu: number; main: number | undefined }>((resolve) => {
              const onMessage = (r: Message) => {
                if (r.type !== 'stats') return;
                worker.off('message', onMessage);
                resolve({ rss: Number(r.maxRssKb), cpu: Number(r.cpuMs), main: typeof r.mainThreadCpuMs === 'number' ? r.mainThreadCpuMs : undefined });
              };
              worker.on('message', onMessage);
              worker.send({ type: 'stats' });
            }),
        ),
      );
      send({
        type: 'stats',
        maxRssKb: perWorker.reduce((sum, w) => sum + w.rss, maxRssKb()),
        cpuMs: perWorker.reduce((sum, w) => sum + w.cpu, cpuMs()),
        // The servers' main threads (the primary only hands out connections).
        mainThreadCpuMs: perWorker.every((w) => w.main !== undefined) ? perWorker.reduce((sum, w) => sum + w.main!, 0) : undefined,
        servers: workers.length,
        processes: workers.length + 1,
      });
    } else if (m.type === 'stop') {
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              worker.once('exit', () => resolve());
              worker.send({ type: 'stop' });
            }),
        ),
      );
      process.exit(0);
    }
  });
}

async function runServer(): Promise<void> {
  const store =
    options.storeUrl === undefined
      ? undefined
      : await openPostgresStore(options.storeUrl, {
          ...(options.poolMax !== undefined && { max: options.poolMax }),
          applicationName: 'pushprov-bench',
          onRoundTrip: (operation) => void (roundTrips[operation] = (roundTrips[operation] ?? 0) + 1),
        });
  const server = await startTokenServer({
    config: JSON.parse(readFileSync(options.configPath, 'utf8')),
    ...(store ? { store } : { ...(options.dbPath === undefined ? {} : { dbPath: options.dbPath }), sqlite: { synchronous: options.synchronous } }),
    logger: silentLogger,
    purgeIntervalMs: 0,
  });
  send({ type: cluster.isWorker ? 'listening' : 'ready', url: server.url, readyMs: performance.now() });
  process.on('message', async (m: Message) => {
    if (m.type === 'stats') {
      send({ type: 'stats', maxRssKb: maxRssKb(), cpuMs: cpuMs(), mainThreadCpuMs: mainThreadCpuMs(), servers: 1, processes: 1, roundTrips: { ...roundTrips } });
    }
    else if (m.type === 'stop') {
      await server.close();
      process.exit(0);
    }
  });
}

(options.workers > 1 && cluster.isPrimary ? runPrimary() : runServer()).catch(fail);
