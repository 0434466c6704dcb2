import { type LoadResult, mergeResults, runClosedLoop } from './load.js';
import { median, round } from './stats.js';

/** A task measured by the closed loop (its argument is the operation's index within one run). */
export type Task = (index: number) => Promise<unknown>;

/** What {@link measurePaired} returns. */
export interface PairedResult {
  subject: LoadResult;
  /** The floor, measured in the same rounds, just before each subject round. */
  floor: LoadResult;
  /** Median over rounds of subject throughput / floor throughput. */
  ratio: number;
  roundRatios: number[];
}

/**
 * Measures a line against its floor in interleaved rounds (floor, line,
 * floor, line, ...), by default at the same concurrency, so that a change in machine
 * load hits both alike; the ratio is the median of the per-round ratios.
 * `runSubject` runs one round of `perRound` operations (in process, or by
 * asking a load generator).
 */
export async function measurePaired(options: {
  floorTask: Task;
  runSubject: (perRound: number, concurrency: number) => Promise<LoadResult>;
  count: number;
  concurrency: number;
  /** The floor's concurrency, when it differs (default: `concurrency`). */
  floorConcurrency?: number;
  rounds: number;
}): Promise<PairedResult> {
  const rounds = Math.max(1, options.rounds);
  const perRound = Math.max(1, Math.ceil(options.count / rounds));
  const floors: LoadResult[] = [];
  const subjects: LoadResult[] = [];
  for (let r = 0; r < rounds; r++) {
    floors.push(await runClosedLoop({ count: perRound, concurrency: options.floorConcurrency ?? options.concurrency, task: options.floorTask }));
    subjects.push(await options.runSubject(perRound, options.concurrency));
  }
  const roundRatios = subjects.map((s, i) => round(s.throughput / floors[i]!.throughput, 3));
  return { subject: mergeResults(subjects), floor: mergeResults(floors), ratio: round(median(roundRatios), 3), roundRatios };
}

/** Runs a task that takes the next of a list of prepared inputs (shared across rounds). */
export function sequenceTask<T>(inputs: T[], run: (input: T) => Promise<unknown>): Task {
  let next = 0;
  return () => {
    const input = inputs[next++];
    if (input === undefined) return Promise.reject(new Error('no prepared input left'));
    return run(input);
  };
}
