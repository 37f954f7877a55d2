/**
 * Rank agreement between two scorings of the same candidates: how well a
 * cheap training proxy orders them compared with a larger budget. Kendall
 * τ-b and Spearman ρ both handle ties the way scipy.stats does (τ-b's tie
 * correction; ρ as Pearson's r of average ranks), so the figures compare
 * with published NAS-benchmark proxy correlations. Pure functions.
 */
import { Z_95, type Interval } from '../intervals.js';
import { CodedError } from '../errors.js';

/** Thrown when the two scorings cannot be compared. */
export class RankCorrelationError extends CodedError {
  readonly code = 'E_RANK_CORRELATION';
}

function checkPaired(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new RankCorrelationError(`scorings differ in length: ${x.length} and ${y.length}`);
  if (x.length < 2) throw new RankCorrelationError(`at least 2 candidates are needed, got ${x.length}`);
  if (![...x, ...y].every(Number.isFinite)) throw new RankCorrelationError('scores must be finite numbers');
}

/**
 * Kendall's τ-b: (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), where
 * n₀ is the number of pairs and n₁, n₂ the pairs tied in x and in y. NaN when
 * either scoring is constant (scipy does the same). O(n²): meant for tens to
 * a few thousand candidates.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  let concordant = 0;
  let discordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0) tiedX++;
      if (dy === 0) tiedY++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) concordant++;
        else discordant++;
      }
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((pairs - tiedX) * (pairs - tiedY));
  return denominator === 0 ? Number.NaN : (concordant - discordant) / denominator;
}

/** Ranks 1…n, ties sharing the average of the ranks they span (scipy's `rankdata(method='average')`). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson's r. NaN when either scoring is constant. */
export function pearsonR(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson's r of the average ranks. NaN when either scoring is constant. */
export function spearmanRho(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  return pearsonR(averageRanks(x), averageRanks(y));
}

/**
 * Share of the k highest-scored candidates by `y` that are also among the k
 * highest by `x` (0–1). Ties at the cut are broken by position, so callers
 * with many ties should prefer τ.
 */
export function topKOverlap(x: readonly number[], y: readonly number[], k: number): number {
  checkPaired(x, y);
  if (!Number.isInteger(k) || k < 1 || k > x.length) throw new RankCorrelationError(`k must be an integer from 1 to ${x.length}, got ${k}`);
  const top = (v: readonly number[]) => new Set(v.map((_, i) => i).sort((a, b) => v[b] - v[a] || a - b).slice(0, k));
  const tx = top(x);
  let shared = 0;
  for (const i of top(y)) if (tx.has(i)) shared++;
  return shared / k;
}

/**
 * Confidence interval of Kendall's τ from n candidates (95% by default; z is
 * the two-sided normal quantile, as in intervals.ts), by Fieller,
 * Hartley and Pearson's (1957) transform: atanh τ is close to normal with
 * variance 0.437 / (n − 4) for bivariate-normal scores and n over about 10
 * (Bonett & Wright 2000 recommend it for τ). Why it matters here: over 16
 * genomes a τ is uncertain by about ±0.35, so smaller differences between
 * two settings are not evidence that one ranks better. NaN bounds for
 * n ≤ 4, a NaN τ, or |τ| = 1 (the transform is infinite there, and a perfect
 * τ from a few candidates is not certain either: no interval rather than a
 * false one).
 */
export function kendallTauInterval(tau: number, n: number, z = Z_95): Interval {
  if (!(z > 0)) throw new RankCorrelationError(`z must be a positive normal quantile, got ${z}`);
  if (!Number.isFinite(tau) || Math.abs(tau) >= 1 || !(n > 4)) return { low: Number.NaN, high: Number.NaN };
  const centre = Math.atanh(tau);
  const half = z * Math.sqrt(0.437 / (n - 4));
  return { low: Math.tanh(centre - half), high: Math.tanh(centre + half) };
}
