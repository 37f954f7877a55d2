/**
 * The maths of a calibrated latency predictor, as pure functions: ordinary
 * least squares (a scale and an offset), non-negative least squares weighted
 * for relative error, leave-one-out residuals, a split-conformal interval
 * width, and the figures a predictor is judged by (MAPE, share within ±x%,
 * Kendall's τ).
 */

/** y ≈ scale·x + offset by ordinary least squares; needs two distinct x. */
export function fitScaleOffset(x: readonly number[], y: readonly number[]): { scale: number; offset: number } {
  const n = x.length;
  if (n !== y.length || n < 2) throw new RangeError(`fitScaleOffset needs ≥ 2 paired points, got ${n} and ${y.length}`);
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  if (sxx === 0) throw new RangeError('fitScaleOffset needs at least two distinct x values');
  const scale = sxy / sxx;
  return { scale, offset: my - scale * mx };
}

/** Solves the symmetric positive-definite system M·z = v (Gaussian elimination with partial pivoting). */
function solve(M: number[][], v: number[]): number[] {
  const n = v.length;
  const a = M.map((row, i) => [...row, v[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    const pivot = a[c][c] || 1e-300;
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / pivot;
      for (let k = c; k <= n; k++) a[r][k] -= f * a[c][k];
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r][n];
    for (let k = r + 1; k < n; k++) s -= a[r][k] * z[k];
    z[r] = s / (a[r][r] || 1e-300);
  }
  return z;
}

/** Least squares of A·x ≈ b restricted to the columns in `passive` (others 0), with a tiny ridge for stability. */
function restrictedLeastSquares(A: readonly number[][], b: readonly number[], passive: number[], ridge: number): number[] {
  const k = passive.length;
  const M = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const v = new Array<number>(k).fill(0);
  for (let r = 0; r < A.length; r++) {
    for (let i = 0; i < k; i++) {
      const ai = A[r][passive[i]];
      v[i] += ai * b[r];
      for (let j = 0; j < k; j++) M[i][j] += ai * A[r][passive[j]];
    }
  }
  for (let i = 0; i < k; i++) M[i][i] += ridge;
  const z = solve(M, v);
  const x = new Array<number>(A[0].length).fill(0);
  passive.forEach((col, i) => (x[col] = z[i]));
  return x;
}

/**
 * Non-negative least squares, min ‖A·x − b‖² subject to x ≥ 0, by
 * Lawson–Hanson's active-set method. `ridge` (default 1e-9 of the largest
 * diagonal) keeps nearly collinear columns solvable.
 */
export function nonNegativeLeastSquares(A: readonly number[][], b: readonly number[], ridgeFraction = 1e-9): number[] {
  const m = A.length;
  if (m === 0 || m !== b.length) throw new RangeError(`nonNegativeLeastSquares needs matching rows, got ${m} and ${b.length}`);
  const n = A[0].length;
  let maxDiag = 0;
  for (let j = 0; j < n; j++) maxDiag = Math.max(maxDiag, A.reduce((s, row) => s + row[j] ** 2, 0));
  const ridge = ridgeFraction * maxDiag;
  const x = new Array<number>(n).fill(0);
  const passive = new Set<number>();
  const tolerance = 1e-12 * Math.max(1, maxDiag);
  for (let outer = 0; outer < 3 * n + 10; outer++) {
    // Gradient of ½‖b − A·x‖²'s negative: w = Aᵀ(b − A·x).
    const residual = b.map((bi, r) => bi - A[r].reduce((s, a, j) => s + a * x[j], 0));
    let best = -1;
    let bestW = tolerance;
    for (let j = 0; j < n; j++) {
      if (passive.has(j)) continue;
      const w = A.reduce((s, row, r) => s + row[j] * residual[r], 0);
      if (w > bestW) {
        bestW = w;
        best = j;
      }
    }
    if (best < 0) break;
    passive.add(best);
    for (let inner = 0; inner < 3 * n + 10; inner++) {
      const cols = [...passive].sort((p, q) => p - q);
      const z = restrictedLeastSquares(A, b, cols, ridge);
      if (cols.every((c) => z[c] > 0)) {
        for (let j = 0; j < n; j++) x[j] = z[j];
        break;
      }
      // Step from x towards z until the first passive coefficient hits zero.
      let alpha = 1;
      for (const c of cols) if (z[c] <= 0) alpha = Math.min(alpha, x[c] / (x[c] - z[c] || 1e-300));
      for (let j = 0; j < n; j++) x[j] += alpha * (z[j] - x[j]);
      for (const c of cols) if (x[c] <= 1e-15) {
        x[c] = 0;
        passive.delete(c);
      }
    }
  }
  return x;
}

/** Dot product of coefficients and features: a prediction. */
export function linearPrediction(coefficients: readonly number[], features: readonly number[]): number {
  return coefficients.reduce((s, c, i) => s + c * features[i], 0);
}

/**
 * Non-negative coefficients minimising the squared *relative* error
 * Σ((ŷᵢ − yᵢ)/yᵢ)²: each row is divided by its target, so a 0.1 ms model's
 * 10% error weighs as much as a 20 ms model's. Columns are scaled to unit
 * norm while solving.
 */
export function fitRelativeNonNegative(X: readonly number[][], y: readonly number[]): number[] {
  if (X.length !== y.length || X.length === 0) throw new RangeError(`fit needs matching rows, got ${X.length} and ${y.length}`);
  if (y.some((v) => !(v > 0))) throw new RangeError('fit needs positive latencies');
  const n = X[0].length;
  const A = X.map((row, r) => row.map((v) => v / y[r]));
  const norms = Array.from({ length: n }, (_, j) => Math.sqrt(A.reduce((s, row) => s + row[j] ** 2, 0)) || 1);
  const scaled = A.map((row) => row.map((v, j) => v / norms[j]));
  const z = nonNegativeLeastSquares(scaled, y.map(() => 1));
  return z.map((v, j) => v / norms[j]);
}

/** Relative residuals (measured − predicted)/predicted of each row predicted by a fit without it. */
export function leaveOneOutRelativeResiduals(
  X: readonly number[][],
  y: readonly number[],
  fit: (X: readonly number[][], y: readonly number[]) => number[] = fitRelativeNonNegative,
): number[] {
  return X.map((row, i) => {
    const coefficients = fit(X.filter((_, j) => j !== i), y.filter((_, j) => j !== i));
    const predicted = linearPrediction(coefficients, row);
    return (y[i] - predicted) / predicted;
  });
}

/**
 * Split-conformal half-width: the ⌈(n+1)·coverage⌉-th smallest |residual|,
 * which bounds a new residual with probability ≥ coverage when residuals are
 * exchangeable. With too few residuals for that rank, the largest, doubled.
 */
export function conformalHalfWidth(residuals: readonly number[], coverage: number): number {
  if (!(coverage > 0 && coverage < 1)) throw new RangeError(`coverage must be in (0, 1), got ${coverage}`);
  if (!residuals.length) throw new RangeError('conformalHalfWidth needs at least one residual');
  const sorted = residuals.map(Math.abs).sort((a, b) => a - b);
  const rank = Math.ceil((sorted.length + 1) * coverage);
  return rank <= sorted.length ? sorted[rank - 1] : 2 * sorted[sorted.length - 1];
}
