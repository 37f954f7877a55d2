/**
 * Latency statistics from retained samples, as pure functions: tinybench 6
 * reports no p90, so the harness computes every figure from the samples
 * itself, one way for all of them.
 */
import type { LatencyStats } from './types.js';

/** Linear-interpolated quantile (numpy's default) of ascending `sorted`. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// Two-sided 95% Student's t critical values for df 1…30; beyond, the normal 1.96.
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean, spread and tail figures of per-run latencies in milliseconds. */
export function latencyStats(samples: ArrayLike<number>): LatencyStats {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) throw new RangeError('latencyStats needs at least one sample');
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const sd = Math.sqrt(variance);
  const p50 = quantile(sorted, 0.5);
  const deviations = Float64Array.from(sorted, (v) => Math.abs(v - p50)).sort();
  const mad = quantile(deviations, 0.5);
  const critical = n > 1 ? (T95[n - 2] ?? 1.96) : NaN;
  return {
    samples: n,
    mean,
    min: sorted[0],
    max: sorted[n - 1],
    p50,
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    mad,
    cv: mean > 0 ? sd / mean : 0,
    robustCv: p50 > 0 ? (1.4826 * mad) / p50 : 0,
    rme: n > 1 && mean > 0 ? (100 * critical * (sd / Math.sqrt(n))) / mean : 0,
  };
}
