/** How much each section runs, for the quick (smoke test) and the full mode. */
export interface BenchParams {
  mode: 'quick' | 'full';
  /** Operations of one sequential (1 in flight) run. */
  sequential: number;
  /** Operations of one run with many in flight. */
  concurrent: number;
  /** "Many in flight". */
  manyInFlight: number;
  /** Rounds of each line, interleaved with its floor (the ratio is the median over rounds). */
  rounds: number;
  /**
   * Untimed operations before each line, run with many in flight: enough for
   * V8 to finish optimising the line's code, whose background compilation
   * would otherwise be billed to the first measured rounds (with 200, the
   * wallet SDK's code was still being compiled through its measurement).
   */
  warmup: number;
  /** Requests per HTTP run. */
  http: number;
  /** Runs per cold-start figure (the median is reported). */
  coldRuns: number;
  /** Tokens already in the vault for the growth runs. */
  growthSmall: number;
  growthLarge: number;
  /** Requests per growth run. */
  growthRequests: number;
  /** Requests of the memory run, and the sampling interval. */
  memoryRequests: number;
  memorySampleEvery: number;
}

export const QUICK: BenchParams = {
  mode: 'quick',
  sequential: 40,
  concurrent: 120,
  manyInFlight: 64,
  rounds: 2,
  warmup: 20,
  http: 120,
  coldRuns: 1,
  growthSmall: 1_000,
  growthLarge: 10_000,
  growthRequests: 100,
  memoryRequests: 400,
  memorySampleEvery: 100,
};

// Full mode: each measured round lasts about a second (1,000 operations at 1
// in flight, 3,000 with many in flight, for the faster lines); rounds of a
// quarter second made ratios swing by 0.1 between runs.
export const FULL: BenchParams = {
  mode: 'full',
  sequential: 3_000,
  concurrent: 9_000,
  manyInFlight: 64,
  rounds: 3,
  warmup: 3_000,
  http: 4_500,
  coldRuns: 5,
  growthSmall: 1_000,
  growthLarge: 1_000_000,
  growthRequests: 9_000,
  memoryRequests: 100_000,
  memorySampleEvery: 10_000,
};
