/**
 * A token server for the HTTP benchmark, in its own process: one process,
 * or a node:cluster primary with N workers sharing the port and the SQLite
 * file (WAL). Options come in PUSHPROV_BENCH_SERVER (JSON). Talks to its
 * parent over IPC: `ready` (url, ms since process start), `stats` (peak RSS
 * and CPU time of every process, summed, and of the servers' main threads),
 * `stop`.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { openSqliteStore, silentLogger } from '@pushprov/token-service';
import { startTokenServer } from '@pushprov/token-service/server';
import { mainThreadCpuMs } from '../lib/thread-cpu.js';

interface ServerOptions {
  configPath: string;
  dbPath: string;
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

async function runPrimary(): Promise<void> {
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
  const server = await startTokenServer({
    config: JSON.parse(readFileSync(options.configPath, 'utf8')),
    dbPath: options.dbPath,
    sqlite: { synchronous: options.synchronous },
    logger: silentLogger,
    purgeIntervalMs: 0,
  });
  send({ type: cluster.isWorker ? 'listening' : 'ready', url: server.url, readyMs: performance.now() });
  process.on('message', async (m: Message) => {
    if (m.type === 'stats') send({ type: 'stats', maxRssKb: maxRssKb(), cpuMs: cpuMs(), mainThreadCpuMs: mainThreadCpuMs(), servers: 1, processes: 1 });
    else if (m.type === 'stop') {
      await server.close();
      process.exit(0);
    }
  });
}

(options.workers > 1 && cluster.isPrimary ? runPrimary() : runServer()).catch(fail);
