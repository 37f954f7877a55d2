/**
 * The maths of `npm run bench:supernet`, as pure functions: how well a
 * supernet's scores rank genomes against standalone training averaged over
 * seeds, beside the one-epoch proxy's ranking of the same genomes, with the
 * compute each scoring took; how two supernets trained at two seeds
 * agree with each other; and what a front chosen by one score or another is
 * worth on held-out images.
 */
import { fitScaleOffset } from '../benchmarks/calibration.js';
import type { Interval } from '../intervals.js';
import { hypervolume, paretoFront } from '../search/pareto.js';
import { tauCeiling } from './fidelity-summary.js';
import { kendallTauB, kendallTauInterval, pearsonR, spearmanRho } from './rank-correlation.js';

/** A ranking's agreement with the reference over the genomes both scored. */
export interface RankingAgreement {
  genomes: number;
  tau: number;
  tauInterval: Interval;
  rho: number;
}

/** Kendall τ-b (with its 95% interval) and Spearman ρ between two scorings of the same genomes, keyed by genome id; ids missing from either are left out. */
export function agreement(scores: ReadonlyMap<string, number>, reference: ReadonlyMap<string, number>): RankingAgreement {
  const [x, y] = pairedValues(scores, reference);
  const tau = kendallTauB(x, y);
  return { genomes: x.length, tau, tauInterval: kendallTauInterval(tau, x.length), rho: spearmanRho(x, y) };
}

/** The values of the ids both maps hold, in id order: two paired lists for a correlation. */
export function pairedValues(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): [number[], number[]] {
  const ids = [...a.keys()].filter((id) => b.has(id)).sort();
  return [ids.map((id) => a.get(id)!), ids.map((id) => b.get(id)!)];
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

/**
 * What is left of `values` once a straight line in `covariate` (least
 * squares, with an intercept) is taken out: the residuals, in order. A
 * constant covariate leaves the values less their mean.
 */
export function residualsAfter(values: readonly number[], covariate: readonly number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (new Set(covariate).size < 2) return values.map((v) => v - mean);
  const { scale, offset } = fitScaleOffset(covariate, values);
  return values.map((v, i) => v - scale * covariate[i] - offset);
}

/**
 * A ranking's agreement with the reference among genomes of equal cost:
 * Kendall τ between the scores and the reference after a straight line in
 * `cost` (the log of analytic latency, say) is taken out of each. A search
 * keeps the most accurate genome at each latency, so this is the ordering
 * its front depends on; the plain τ also credits a scorer that merely
 * ranks larger genomes higher. Ids missing from any map are left out.
 */
export function agreementAtEqualCost(scores: ReadonlyMap<string, number>, reference: ReadonlyMap<string, number>, cost: ReadonlyMap<string, number>): RankingAgreement {
  const ids = [...scores.keys()].filter((id) => reference.has(id) && cost.has(id)).sort();
  const c = ids.map((id) => cost.get(id)!);
  const keyed = (values: number[]) => new Map(ids.map((id, i) => [id, values[i]]));
  return agreement(keyed(residualsAfter(ids.map((id) => scores.get(id)!), c)), keyed(residualsAfter(ids.map((id) => reference.get(id)!), c)));
}

/** How far the reference can be trusted: its first two seeds against each other, and the τ that leaves any scorer. */
export interface ReferenceCeiling {
  /** Genomes with both a first and a second seed. */
  genomes: number;
  /** The reference's first seed against its second: the reference's own seed-to-seed τ. */
  seedToSeed: RankingAgreement;
  /** Pearson's r between the two seeds: one seed's reliability (test–retest), 0 when negative. */
  r: number;
  /** The reliability of the mean of `seeds` seeds, by Spearman–Brown: k·r / (1 + (k − 1)·r). */
  meanReliability: number;
  /** The τ a scorer free of noise can be expected to reach against that mean (`tauCeiling(1, meanReliability)`). */
  tauCeiling: number;
}

/**
 * The ceiling a reference averaged over `seeds` trainings puts on every
 * scorer's τ. A scorer is compared with the seed mean, not with the
 * genomes' true accuracies; the mean's noise attenuates any correlation
 * with it (r ≤ √reliability), whatever the scorer. The reliability of one
 * seed is read from the first two seeds (replicates 0 and 1) of each genome
 * that has both, and extended to the mean of `seeds` by Spearman–Brown.
 */
export function referenceCeiling(trainings: ReadonlyArray<{ genomeId: string; replicate: number; accuracy: number }>, seeds: number): ReferenceCeiling {
  const first = new Map<string, number>();
  const second = new Map<string, number>();
  for (const t of trainings) if (t.replicate === 0) first.set(t.genomeId, t.accuracy);
  else if (t.replicate === 1) second.set(t.genomeId, t.accuracy);
  const ids = [...first.keys()].filter((id) => second.has(id)).sort();
  // Fewer than three genomes with both seeds say nothing about the reference's noise.
  const enough = ids.length >= 3;
  const seedToSeed = enough ? agreement(first, second) : { genomes: ids.length, tau: Number.NaN, tauInterval: { low: Number.NaN, high: Number.NaN }, rho: Number.NaN };
  const r = enough ? Math.max(0, pearsonR(ids.map((id) => first.get(id)!), ids.map((id) => second.get(id)!))) : Number.NaN;
  const meanReliability = (seeds * r) / (1 + (seeds - 1) * r);
  return { genomes: ids.length, seedToSeed, r, meanReliability, tauCeiling: Number.isFinite(meanReliability) ? tauCeiling(1, meanReliability) : Number.NaN };
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

/** A candidate of a search as the selection measurement reads it: its latency, a score the search could rank by, and its accuracy on held-out images. */
export interface SelectionCandidate {
  id: string;
  latency: number;
  /** What the front is chosen by (higher is better): validation accuracy or log-likelihood. */
  score: number;
  /** Accuracy on images no choice saw (the test split). */
  heldOut: number;
}

/** What choosing a front by one score hands over, judged on held-out images. */
export interface SelectionOutcome {
  /** The Pareto front of (score, latency), fastest first. */
  front: string[];
  /** Hypervolume of the front's (held-out accuracy, latency) points against `reference`. */
  hypervolume: number;
  /** The front's best held-out accuracy. */
  bestHeldOut: number;
}

/**
 * The front a search ranking by `score` hands over, and what it is worth on
 * held-out images. The reference is shared by every score compared, so that
 * hypervolumes compare: pass the lowest held-out accuracy and the highest
 * latency of all candidates, say.
 */
export function selectionOutcome(candidates: readonly SelectionCandidate[], reference: { accuracy: number; latency: number }): SelectionOutcome {
  const members = paretoFront(candidates.map((c) => [-c.score, c.latency]))
    .map((i) => candidates[i])
    .sort((a, b) => a.latency - b.latency);
  return {
    front: members.map((c) => c.id),
    hypervolume: hypervolume(members.map((c) => [-c.heldOut, c.latency]), [-reference.accuracy, reference.latency]),
    bestHeldOut: Math.max(...members.map((c) => c.heldOut)),
  };
}

/**
 * How two supernets' recipes differ, field by field (`strategy sandwich/progressive`), the seed
 * aside: none means the two are one recipe at two seeds, and their agreement is that recipe's
 * seed-to-seed τ; otherwise it is the agreement between two recipes, their seeds' noise included.
 * A flag one recipe leaves unset (recipes from before it existed) reads as false.
 */
export function recipeDifferences(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string[] {
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => f !== 'seed');
  const text = (v: unknown, other: unknown) => (v === undefined ? (typeof other === 'boolean' ? 'false' : 'unset') : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return fields.filter((f) => text(a[f], b[f]) !== text(b[f], a[f])).map((f) => `${f} ${text(a[f], b[f])}/${text(b[f], a[f])}`);
}
