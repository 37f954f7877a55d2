/**
 * The learning-curve model of multi-fidelity search: validation accuracy
 * after training on b images is acc(b) = a − c·b^(−k) (a: what the genome
 * reaches, c and k: how fast it gets there). Fitted by least squares over
 * measured (budget, accuracy) points: for a given k the model is linear in
 * (a, c), so k is found by a grid then golden-section search on the residual,
 * and (a, c) in closed form. Pure functions.
 */
import { CodedError } from '../errors.js';

/** One measurement: accuracy (0–1) after training on `images` images. */
export interface CurvePoint {
  images: number;
  accuracy: number;
}

/** A fitted curve: b in images. */
export interface LearningCurveFit {
  a: number;
  c: number;
  k: number;
  /** Root-mean-square residual over the points (0 when 3 points are fitted exactly). */
  rmse: number;
  points: number;
}

/** Options of {@link fitLearningCurve}; all optional. */
export interface LearningCurveFitOptions {
  /** Smallest exponent tried. @default 0.01 */
  kMin?: number;
  /** Largest exponent tried. @default 3 */
  kMax?: number;
}

/** @see LearningCurveFitOptions.kMin */
export const DEFAULT_K_MIN = 0.01;
/** @see LearningCurveFitOptions.kMax */
export const DEFAULT_K_MAX = 3;
const GRID_STEPS = 300;
const GOLDEN_ITERATIONS = 80;

/** Thrown when the points cannot determine a curve. */
export class LearningCurveError extends CodedError {
  readonly code = 'E_LEARNING_CURVE';
}

/** Accuracy the curve predicts after `images` images. */
export function curveAccuracy(fit: Pick<LearningCurveFit, 'a' | 'c' | 'k'>, images: number): number {
  return fit.a - fit.c * images ** -fit.k;
}

/** Best (a, c) for a fixed k and the sum of squared residuals. */
function solveLinear(points: readonly CurvePoint[], k: number): { a: number; c: number; sse: number } {
  // acc = a + β·z with z = b^(−k) and β = −c: ordinary least squares on one regressor.
  const z = points.map((p) => p.images ** -k);
  const n = points.length;
  const mz = z.reduce((s, v) => s + v, 0) / n;
  const my = points.reduce((s, p) => s + p.accuracy, 0) / n;
  let szz = 0;
  let szy = 0;
  for (let i = 0; i < n; i++) {
    szz += (z[i] - mz) ** 2;
    szy += (z[i] - mz) * (points[i].accuracy - my);
  }
  const beta = szz === 0 ? 0 : szy / szz;
  const a = my - beta * mz;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (points[i].accuracy - a - beta * z[i]) ** 2;
  return { a, c: -beta, sse };
}

/**
 * Least-squares fit of acc(b) = a − c·b^(−k) with k in [kMin, kMax]. Needs
 * at least 3 points at 3 or more distinct budgets. A k at either end of the
 * range means the data do not pin it down (e.g. accuracy not rising).
 */
export function fitLearningCurve(points: readonly CurvePoint[], options: LearningCurveFitOptions = {}): LearningCurveFit {
  const kMin = options.kMin ?? DEFAULT_K_MIN;
  const kMax = options.kMax ?? DEFAULT_K_MAX;
  if (!(kMin > 0 && kMax > kMin)) throw new LearningCurveError(`need 0 < kMin < kMax, got ${kMin} and ${kMax}`);
  for (const p of points) {
    if (!(p.images > 0) || !Number.isFinite(p.images)) throw new LearningCurveError(`images must be positive, got ${p.images}`);
    if (!Number.isFinite(p.accuracy)) throw new LearningCurveError(`accuracy must be finite, got ${p.accuracy}`);
  }
  const budgets = new Set(points.map((p) => p.images)).size;
  if (budgets < 3) throw new LearningCurveError(`a curve needs points at 3 or more distinct budgets, got ${budgets}`);

  const sse = (k: number) => solveLinear(points, k).sse;
  let best = kMin;
  let bestSse = sse(kMin);
  const step = (kMax - kMin) / GRID_STEPS;
  for (let i = 1; i <= GRID_STEPS; i++) {
    const k = kMin + i * step;
    const s = sse(k);
    if (s < bestSse) [best, bestSse] = [k, s];
  }
  // Golden-section search in the grid cell either side of the best grid point.
  let lo = Math.max(kMin, best - step);
  let hi = Math.min(kMax, best + step);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - ratio * (hi - lo);
  let x2 = lo + ratio * (hi - lo);
  let f1 = sse(x1);
  let f2 = sse(x2);
  for (let i = 0; i < GOLDEN_ITERATIONS; i++) {
    if (f1 <= f2) {
      [hi, x2, f2] = [x2, x1, f1];
      x1 = hi - ratio * (hi - lo);
      f1 = sse(x1);
    } else {
      [lo, x1, f1] = [x1, x2, f2];
      x2 = lo + ratio * (hi - lo);
      f2 = sse(x2);
    }
  }
  const k = f1 < bestSse || f2 < bestSse ? (f1 <= f2 ? x1 : x2) : best;
  const { a, c, sse: residual } = solveLinear(points, k);
  return { a, c, k, rmse: Math.sqrt(residual / points.length), points: points.length };
}
