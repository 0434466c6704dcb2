import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_DIR, ROOT_DIR } from '../lib/child.js';
import type { Fixture } from '../lib/fixture.js';
import type { BenchParams } from '../lib/params.js';
import type { BenchRow } from '../lib/report.js';
import { median, round } from '../lib/stats.js';

const run = promisify(execFile);

/** What each import line loads: the built package (dist), as users get it. */
const IMPORTS: { id: string; specifier: string; dist?: string }[] = [
  { id: 'jose', specifier: 'jose' },
  { id: 'protocol', specifier: '@pushprov/protocol', dist: 'packages/protocol/dist/index.js' },
  { id: 'issuer-sdk', specifier: '@pushprov/issuer-sdk', dist: 'packages/issuer-sdk/dist/index.js' },
  { id: 'issuer-sdk-server', specifier: '@pushprov/issuer-sdk/server', dist: 'packages/issuer-sdk/dist/server.js' },
  { id: 'wallet-sdk', specifier: '@pushprov/wallet-sdk', dist: 'packages/wallet-sdk/dist/index.js' },
  { id: 'token-service', specifier: '@pushprov/token-service', dist: 'packages/token-service/dist/index.js' },
  { id: 'token-service-server', specifier: '@pushprov/token-service/server', dist: 'packages/token-service/dist/server.js' },
];

/** Milliseconds to `import()` a module in a fresh Node process (measured inside it, so Node's own boot is excluded). */
async function importMs(specifier: string): Promise<number> {
  const code = `const t0 = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t0));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: BENCH_DIR });
  return Number(stdout);
}

/** Milliseconds from spawning a process to the first stdout line matching `ready`; then the process is ended. */
function timeToReady(args: string[], ready: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child: ChildProcess = spawn(process.execPath, args, { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => finish(new Error('not ready within 30 s')), 30_000);
    const finish = (error?: Error, ms?: number) => {
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.kill('SIGTERM');
      child.once('exit', () => (error ? reject(error) : resolve(ms!)));
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (ready.test(out)) finish(undefined, performance.now() - t0);
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('exit', (code) => {
      if (!ready.test(out)) {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before ready: ${err.slice(0, 300)}`));
      }
    });
  });
}

/**
 * Section 5: cold start. Import time of each package, built, in a fresh Node
 * process per run (median of several), against importing jose alone; and
 * the token server's time to ready (`token-service start`, from spawn to its
 * "listening" line, fresh database), against a bare node:http server.
 * Needs the packages built (`pnpm build`); lines whose build is missing are
 * reported as not measured.
 */
export async function runColdStart(fx: Fixture, params: BenchParams, tempPath: (name: string) => string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const item of IMPORTS) {
    const label = `import ${item.specifier}`;
    const id = `cold-start.import.${item.id}`;
    const floor = item.id === 'jose' ? undefined : 'cold-start.import.jose';
    if (item.dist && !existsSync(join(ROOT_DIR, item.dist))) {
      rows.push({ id, section: 'cold-start', label, value: Number.NaN, unit: 'ms', ...(floor && { floor }), note: 'not measured: run pnpm build first' });
      continue;
    }
    const samples: number[] = [];
    for (let i = 0; i < params.coldRuns; i++) samples.push(await importMs(item.specifier));
    rows.push({ id, section: 'cold-start', label: `${label}${floor ? '' : ' (floor)'}`, value: round(median(samples), 1), unit: 'ms', count: samples.length, ...(floor ? { floor } : { isFloor: true }) });
  }

  const bare = "require('node:http').createServer((q, s) => s.end()).listen(0, '127.0.0.1', () => console.log('listening'))";
  const samples: number[] = [];
  for (let i = 0; i < params.coldRuns; i++) samples.push(await timeToReady(['-e', bare], /listening/));
  rows.push({ id: 'cold-start.ready.node-http', section: 'cold-start', label: 'bare node:http server, spawn to listening (floor)', value: round(median(samples), 1), unit: 'ms', count: samples.length, isFloor: true });

  const cli = join(ROOT_DIR, 'packages/token-service/dist/cli.js');
  const readyRow: BenchRow = { id: 'cold-start.ready.token-service', section: 'cold-start', label: 'token-service start, spawn to listening', value: Number.NaN, unit: 'ms', floor: 'cold-start.ready.node-http' };
  if (!existsSync(cli)) {
    readyRow.note = 'not measured: run pnpm build first';
  } else {
    const configPath = tempPath('cold-config.json');
    writeFileSync(configPath, JSON.stringify(fx.config), { mode: 0o600 });
    const ready: number[] = [];
    for (let i = 0; i < params.coldRuns; i++) {
      ready.push(await timeToReady([cli, 'start', '--config', configPath, '--port', '0', '--db', tempPath(`cold-${i}.db`)], /"msg":"listening"/));
    }
    readyRow.value = round(median(ready), 1);
    readyRow.count = ready.length;
  }
  rows.push(readyRow);
  return rows;
}
