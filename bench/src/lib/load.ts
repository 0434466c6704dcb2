import { percentile } from './stats.js';
import { mainThreadCpuMs } from './thread-cpu.js';

/** What one closed-loop load run measured. */
export interface LoadResult {
  /** Operations completed (successful or not). */
  count: number;
  concurrency: number;
  seconds: number;
  /** Successful operations per second. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The first error's message, if any (never contains secrets: the bench's own synthetic data). */
  firstError?: string;
  /** Every operation's latency, ms (to merge runs). */
  latencies: Float64Array;
  /** CPU time (user + system) of this whole process during the run, ms: all its threads, the crypto thread pool included. */
  cpuMs: number;
  /** CPU time of the main thread alone during the run, ms (Linux; see `mainThreadCpuMs`). */
  mainThreadCpuMs?: number;
}

/** Options of {@link runClosedLoop}. */
export interface ClosedLoopOptions {
  /** Operations to run; task `i` gets indices 0 .. count - 1 exactly once. */
  count: number;
  /** Operations in flight at once. */
  concurrency: number;
  task: (index: number) => Promise<unknown>;
  /** Called after each completion with the number completed so far. */
  onProgress?: (completed: number) => void | Promise<void>;
}

/**
 * Runs `count` operations with `concurrency` in flight (closed loop: each
 * worker starts the next as soon as its last finished), timing each.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const { count, task, onProgress } = options;
  const concurrency = Math.max(1, Math.min(options.concurrency, count));
  const latencies = new Float64Array(count);
  let next = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuMs();
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= count) return;
      const t0 = performance.now();
      try {
        await task(index);
      } catch (error) {
        errors++;
        firstError ??= describeError(error);
      }
      latencies[index] = performance.now() - t0;
      completed++;
      if (onProgress) await onProgress(completed);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuMs();
  const result: LoadResult = {
    count,
    concurrency,
    seconds,
    throughput: (count - errors) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
    latencies,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  if (mainBefore !== undefined && mainAfter !== undefined) result.mainThreadCpuMs = mainAfter - mainBefore;
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

/** Merges several runs of the same operation: throughput over the summed time, percentiles over all latencies. */
export function mergeResults(results: LoadResult[]): LoadResult {
  const count = results.reduce((n, r) => n + r.count, 0);
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const seconds = results.reduce((n, r) => n + r.seconds, 0);
  const latencies = new Float64Array(count);
  let offset = 0;
  for (const r of results) {
    latencies.set(r.latencies, offset);
    offset += r.latencies.length;
  }
  const merged: LoadResult = {
    count,
    concurrency: results[0]?.concurrency ?? 0,
    seconds,
    throughput: (count - errors) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
    latencies,
    cpuMs: results.reduce((n, r) => n + r.cpuMs, 0),
  };
  if (results.length > 0 && results.every((r) => r.mainThreadCpuMs !== undefined)) merged.mainThreadCpuMs = results.reduce((n, r) => n + r.mainThreadCpuMs!, 0);
  const firstError = results.find((r) => r.firstError !== undefined)?.firstError;
  if (firstError !== undefined) merged.firstError = firstError;
  return merged;
}

/** A short description of an error: its code (for ProvisioningErrors) or name and message. */
export function describeError(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; name?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : undefined;
    return `${String(e.name ?? 'Error')}${code ? ` (${code})` : ''}: ${String(e.message ?? '')}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}

/** Runs `task` for indices 0 .. count - 1 with `concurrency` in flight and collects the results in order. */
export async function mapConcurrent<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= count) return;
      out[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  return out;
}
