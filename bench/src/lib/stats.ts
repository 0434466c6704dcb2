/** Small statistics helpers: percentiles and medians over latency samples. */

/** The p-th percentile (0-100) of `values`, nearest rank; NaN for none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of `values`; NaN for none. */
export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

/** Rounds to `digits` decimals (for the JSON report). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
