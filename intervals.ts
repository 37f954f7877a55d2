/**
 * Two-sided confidence intervals, as pure functions: the accuracy of a model
 * on n test images (finalize/) and the rank agreement of two scorings over n
 * candidates (search/rank-correlation.ts, bench:fidelity).
 *
 * It is a leaf at the package root, like locations.ts and fifo-slots.ts: two
 * stages use it and neither should depend on the other for a constant.
 */

/** z for a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

/** A two-sided confidence interval. */
export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval of a proportion `accuracy` over `n` trials: unlike
 * the normal approximation it stays inside [0, 1] and is honest near 0 and 1.
 */
export function wilsonInterval(accuracy: number, n: number, z = Z_95): Interval {
  if (!(n > 0)) throw new RangeError(`the interval needs at least one test image, got n = ${n}`);
  if (!(accuracy >= 0 && accuracy <= 1)) throw new RangeError(`accuracy must be in [0, 1], got ${accuracy}`);
  const z2 = z * z;
  const centre = (accuracy + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((accuracy * (1 - accuracy)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
