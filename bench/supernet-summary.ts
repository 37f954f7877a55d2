/**
 * The maths of `npm run bench:supernet`, as pure functions: how well a
 * supernet's scores rank genomes against standalone training averaged over
 * seeds, beside the one-epoch proxy's ranking of the same genomes, with the
 * compute each scoring took; and how two supernets trained at two seeds
 * agree with each other.
 */
import type { Interval } from '../intervals.js';
import { kendallTauB, kendallTauInterval, spearmanRho } from './rank-correlation.js';

/** A ranking's agreement with the reference over the genomes both scored. */
export interface RankingAgreement {
  genomes: number;
  tau: number;
  tauInterval: Interval;
  rho: number;
}

/** Kendall τ-b (with its 95% interval) and Spearman ρ between two scorings of the same genomes, keyed by genome id; ids missing from either are left out. */
export function agreement(scores: ReadonlyMap<string, number>, reference: ReadonlyMap<string, number>): RankingAgreement {
  const ids = [...scores.keys()].filter((id) => reference.has(id)).sort();
  const x = ids.map((id) => scores.get(id)!);
  const y = ids.map((id) => reference.get(id)!);
  const tau = kendallTauB(x, y);
  return { genomes: ids.length, tau, tauInterval: kendallTauInterval(tau, ids.length), rho: spearmanRho(x, y) };
}

/**
 * The reference accuracy of each genome: the mean over its trainings at the
 * reference budget, kept only where at least `minSeeds` seeds finished (a
 * genome with one seed would carry more noise than the others).
 */
export function seedMeans(trainings: ReadonlyArray<{ genomeId: string; accuracy: number }>, minSeeds: number): Map<string, number> {
  const by = new Map<string, number[]>();
  for (const t of trainings) by.set(t.genomeId, [...(by.get(t.genomeId) ?? []), t.accuracy]);
  const means = new Map<string, number>();
  for (const [id, values] of by) if (values.length >= minSeeds) means.set(id, values.reduce((a, b) => a + b, 0) / values.length);
  return means;
}

/** Candidates scored per hour from a count and the wall seconds they took. */
export function perHour(count: number, seconds: number): number {
  return seconds > 0 ? (count * 3600) / seconds : Number.NaN;
}

/** How many members two fronts (lists of genome ids) share, and the share of the smaller one that is. */
export function frontOverlap(a: readonly string[], b: readonly string[]): { shared: number; ofSmaller: number } {
  const inB = new Set(b);
  const shared = a.filter((id) => inB.has(id)).length;
  return { shared, ofSmaller: shared / Math.max(1, Math.min(a.length, b.length)) };
}

/**
 * The search size from which the supernet costs less compute per candidate
 * than the proxy: a supernet search of n candidates costs
 * supernet + n·score, a proxy search n·proxy, so they are equal at
 * n = supernet / (proxy − score). Infinite when scoring is not cheaper than
 * the proxy; 0 without a supernet cost.
 */
export function breakEvenCandidates(supernetSeconds: number, scoreSeconds: number, proxySeconds: number): number {
  if (supernetSeconds <= 0) return 0;
  return proxySeconds > scoreSeconds ? supernetSeconds / (proxySeconds - scoreSeconds) : Number.POSITIVE_INFINITY;
}
