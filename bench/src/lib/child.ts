import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The bench package directory: children run there so that `tsx` and the workspace packages resolve. */
export const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url));
/** The repository root. */
export const ROOT_DIR = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Where the workspace packages come from in this run: their built `dist`
 * (what users run; `pnpm bench` builds first), or their TypeScript source when
 * Node runs with `--conditions=source` (the smoke test, which needs no build).
 */
export const PACKAGES_FROM: 'dist' | 'source' = process.execArgv.includes('--conditions=source') ? 'source' : 'dist';

/** Forks one of the bench's TypeScript workers (`src/workers/NAME.ts`), with the workspace packages resolved as in this process. */
export function forkWorker(name: string, env: Record<string, string> = {}): ChildProcess {
  return fork(fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url)), [], {
    cwd: BENCH_DIR,
    execArgv: [...(PACKAGES_FROM === 'source' ? ['--conditions=source'] : []), '--import', 'tsx'],
    env: { ...process.env, ...env },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Waits for the first IPC message of `type` from a child; rejects if it exits first or after `timeoutMs`. */
export function waitForChildMessage<T extends { type: string }>(child: ChildProcess, type: string, timeoutMs = 120_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${type} message from the child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown) => {
      if (message && typeof message === 'object' && (message as { type?: unknown }).type === type) done(undefined, message as T);
      else if (message && typeof message === 'object' && (message as { type?: unknown }).type === 'error') {
        done(new Error(`child failed: ${String((message as { message?: unknown }).message)}`));
      }
    };
    const onExit = (code: number | null) => done(new Error(`the child exited (${code}) before sending ${type}`));
    const done = (error?: Error, value?: T) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value!);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Asks a child to stop, and kills it if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
