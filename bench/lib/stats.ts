// Pure statistics helpers for the benchmark harness (no I/O, unit-tested in test/bench/).

/** Summary of a sample of timings (all in the sample's unit, usually milliseconds). */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The p-th percentile (0–100) with linear interpolation between closest ranks (numpy's
 * default, Hyndman–Fan type 7): rank = (n - 1) * p / 100. NaN for an empty sample.
 *
 * @example
 * percentile([1, 2, 3, 4], 50) // 2.5
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** The 50th percentile. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * n, mean, p50, p95, min and max of a sample (NaN fields for an empty one).
 *
 * @example
 * summarize([4, 1, 3, 2]) // { n: 4, mean: 2.5, p50: 2.5, p95: 3.85, min: 1, max: 4 }
 */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) {
    return { n: 0, mean: Number.NaN, p50: Number.NaN, p95: Number.NaN, min: Number.NaN, max: Number.NaN };
  }
  const sum = values.reduce((s, v) => s + v, 0);
  return {
    n: values.length,
    mean: sum / values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/**
 * a / b, or null when either is missing or not finite, or b is not positive. Used for the
 * report's "X is N× Y" ratios, so a skipped section yields null rather than NaN or Infinity.
 *
 * @example
 * ratio(30, 10) // 3
 * ratio(30, null) // null
 */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return a / b;
}

/**
 * Images per second of a batch run: batch * runs / total seconds (ms input).
 *
 * @example
 * imagesPerSecond(4, [100, 100]) // 40
 */
export function imagesPerSecond(batch: number, runMs: readonly number[]): number {
  const total = runMs.reduce((s, v) => s + v, 0);
  return total > 0 ? (batch * runMs.length * 1000) / total : Number.NaN;
}

/**
 * GFLOP/s of one run of `flops` floating-point operations taking `ms` milliseconds.
 *
 * @example
 * gflopsPerSecond(2e9, 100) // 20
 */
export function gflopsPerSecond(flops: number, ms: number): number {
  return ms > 0 ? flops / (ms * 1e6) : Number.NaN;
}
