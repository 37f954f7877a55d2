/**
 * The sums of `npm run bench:fidelity`, apart from any training: from the
 * measured rows (genome × training setting), each setting's rank agreement
 * with the reference (Kendall τ-b, Spearman ρ, top-quarter overlap) over all
 * genomes and over the better half by reference accuracy, and each genome's
 * fitted learning curve acc(b) = a − c·b^(−k). Pure functions.
 */
import { fitLearningCurve, type LearningCurveFit } from './learning-curve.js';
import { kendallTauB, kendallTauInterval, pearsonR, spearmanRho, topKOverlap } from './rank-correlation.js';
import type { Interval } from '../intervals.js';
import { mean, sampleSd } from './kd-summary.js';

/** One training setting: a budget of images, from a fixed subset or the full training split, with or without the teacher. */
export interface FidelitySetting {
  /** Images trained on (one pass over `subset` images, or this many drawn from the full split). */
  images: number;
  /** Size of the fixed training subset, or null for the full training split. */
  subset: number | null;
  kd: boolean;
  /**
   * 0 or absent: each genome trained with its own training seed, as in a
   * search. r > 0: the same setting trained again with another seed per
   * genome (a retest), which measures how far the setting agrees with itself.
   */
  replicate?: number;
}

/** One measured genome × setting. */
export interface FidelityRow extends FidelitySetting {
  genomeId: string;
  validationAccuracy: number;
  /** Where the training was also validated on images outside its subset: the accuracy on those and the validation split together. */
  ranking?: { images: number; accuracy: number };
  /** Mean log-probability of the true class on the images the training is ranked by (the ranking images, else validation); absent in rows written before it was recorded. */
  logLikelihood?: number;
}

/**
 * The rows that were validated outside their subset, each read at that
 * accuracy instead (its `validationAccuracy` replaced): every agreement
 * function then measures how the larger validation set ranks.
 */
export function atRankingAccuracy(rows: readonly FidelityRow[]): FidelityRow[] {
  return rows.flatMap((r) => (r.ranking ? [{ ...r, validationAccuracy: r.ranking.accuracy }] : []));
}

/** A setting's short name, e.g. `1 ep on 8000 KD` or `20000 of full`. */
export function settingLabel(s: FidelitySetting): string {
  return `${s.subset === null ? `${s.images} of full` : s.images === s.subset ? `1 ep on ${s.subset}` : `${s.images} on ${s.subset}`}${s.kd ? ' KD' : ''}${s.replicate ? ` (retest ${s.replicate})` : ''}`;
}

/** Stable key of a setting (CSV resume, grouping). */
export function settingKey(s: FidelitySetting): string {
  // A retest's key has its replicate; the first training's is the key rows had before retests existed.
  return `${s.images}|${s.subset ?? 'full'}|${s.kd ? 1 : 0}${s.replicate ? `|r${s.replicate}` : ''}`;
}

/** Agreement of one setting's ranking with the reference's. */
export interface SettingAgreement {
  setting: FidelitySetting;
  label: string;
  /** Genomes measured at both this setting and the reference. */
  genomes: number;
  /** Reference images ÷ this setting's images. */
  budgetRatio: number;
  meanAccuracy: number;
  tauAll: number;
  /** 95% interval of `tauAll` over these genomes (kendallTauInterval): how far 16 genomes pin a τ down. */
  tauAllInterval: Interval;
  rhoAll: number;
  /** Over the ⌊n/2⌋ genomes best by reference accuracy (NaN under 3). */
  tauBetterHalf: number;
  rhoBetterHalf: number;
  /** Share of the reference's top ⌈n/4⌉ that this setting also puts in its top ⌈n/4⌉. */
  topQuarterOverlap: number;
}

const BETTER_HALF_MIN = 3;

/** Each non-reference setting's agreement with `reference`, over the genomes measured at both. */
export function agreementWithReference(rows: readonly FidelityRow[], settings: readonly FidelitySetting[], reference: FidelitySetting): SettingAgreement[] {
  const refKey = settingKey(reference);
  const refAcc = new Map(rows.filter((r) => settingKey(r) === refKey).map((r) => [r.genomeId, r.validationAccuracy]));
  const out: SettingAgreement[] = [];
  for (const setting of settings) {
    const key = settingKey(setting);
    if (key === refKey) continue;
    const paired = rows.filter((r) => settingKey(r) === key && refAcc.has(r.genomeId)).map((r) => ({ proxy: r.validationAccuracy, ref: refAcc.get(r.genomeId)! }));
    const n = paired.length;
    const corr = (p: typeof paired, f: typeof kendallTauB) => (p.length >= 2 ? f(p.map((q) => q.proxy), p.map((q) => q.ref)) : Number.NaN);
    const better = [...paired].sort((a, b) => b.ref - a.ref).slice(0, Math.floor(n / 2));
    const useBetter = better.length >= BETTER_HALF_MIN;
    const k = Math.max(1, Math.ceil(n / 4));
    const tauAll = corr(paired, kendallTauB);
    out.push({
      setting,
      label: settingLabel(setting),
      genomes: n,
      budgetRatio: reference.images / setting.images,
      meanAccuracy: n ? paired.reduce((s, p) => s + p.proxy, 0) / n : Number.NaN,
      tauAll,
      tauAllInterval: kendallTauInterval(tauAll, n),
      rhoAll: corr(paired, spearmanRho),
      tauBetterHalf: useBetter ? corr(better, kendallTauB) : Number.NaN,
      rhoBetterHalf: useBetter ? corr(better, spearmanRho) : Number.NaN,
      topQuarterOverlap: n >= 2 ? topKOverlap(paired.map((p) => p.proxy), paired.map((p) => p.ref), k) : Number.NaN,
    });
  }
  return out;
}

/** Two sets of trainings of a setting compared genome by genome: Kendall τ-b with its interval, and Pearson's r. */
interface SeedPairing {
  setting: FidelitySetting;
  label: string;
  /** Genomes measured on both sides. */
  genomes: number;
  tau: number;
  /** 95% interval of `tau` over these genomes (kendallTauInterval). */
  tauInterval: Interval;
  r: number;
}

/**
 * How far a setting agrees with itself: its first training against its
 * retest, genome by genome. Its `r` is the setting's test-retest reliability,
 * all its noise included (training seed and validation sampling), where
 * samplingReliability counts the sampling alone.
 */
export interface RetestAgreement extends SeedPairing {
  /** Mean of (retest − first) over the genomes: a shift every genome shares, which moves no ranking. */
  shift: number;
  /**
   * The seed's noise in one training's accuracy once that shared shift is taken
   * out: the sd of the genomes' retest − first differences about their mean, ÷ √2
   * (each side one training). What a ranking sees of the seed; compare it with
   * `spread`.
   */
  rankingNoise: number;
  /** Sd of the first training's accuracies across the paired genomes (seed noise included). */
  spread: number;
}

/** Each setting's first training (replicate 0) against its retest `replicate`, over the genomes measured at both. */
export function retestAgreement(rows: readonly FidelityRow[], setting: FidelitySetting, replicate = 1): RetestAgreement {
  const first = { ...setting, replicate: 0 };
  const again = { ...setting, replicate };
  const firstAcc = new Map(rows.filter((row) => settingKey(row) === settingKey(first)).map((row) => [row.genomeId, row.validationAccuracy]));
  const paired = rows.filter((row) => settingKey(row) === settingKey(again) && firstAcc.has(row.genomeId)).map((row) => [firstAcc.get(row.genomeId)!, row.validationAccuracy]);
  const a = paired.map((p) => p[0]);
  const b = paired.map((p) => p[1]);
  const tau = paired.length >= 2 ? kendallTauB(a, b) : Number.NaN;
  return {
    setting: first,
    label: settingLabel(first),
    genomes: paired.length,
    tau,
    tauInterval: kendallTauInterval(tau, paired.length),
    r: paired.length >= 2 ? pearsonR(a, b) : Number.NaN,
    shift: paired.length ? mean(b.map((x, i) => x - a[i])) : Number.NaN,
    rankingNoise: paired.length >= 2 ? sampleSd(b.map((x, i) => x - a[i])) / Math.SQRT2 : Number.NaN,
    spread: paired.length >= 2 ? sampleSd(a) : Number.NaN,
  };
}

/**
 * A retested setting against the retested reference with no training seed
 * shared. Setting and reference are trained at the same seed per genome
 * (trainingJobFor), so their first trainings share that seed's noise — its
 * initial weights and batch order favour or hurt a genome at both budgets —
 * and agree more than the genomes' true order warrants. Pairing each side's
 * first training with the other's retest leaves no noise in common: this is
 * the agreement a proxy has with what the reference measures of the genomes.
 * Its τ and r are the means of (setting first, reference retest) and
 * (setting retest, reference first), over the genomes with both seeds of both;
 * its `tauInterval` is that of one τ over them (the mean of two is a little narrower).
 */
export interface CrossSeedAgreement extends SeedPairing {
  /** Mean of τ(first, first) and τ(retest, retest): the same-seed pairing, for comparison. */
  tauSameSeed: number;
  rSameSeed: number;
}

/** {@link CrossSeedAgreement} of `setting` with `reference`, over the genomes measured at both seeds of both. */
export function crossSeedAgreement(rows: readonly FidelityRow[], setting: FidelitySetting, reference: FidelitySetting, replicate = 1): CrossSeedAgreement {
  const byKey = (s: FidelitySetting) => new Map(rows.filter((row) => settingKey(row) === settingKey(s)).map((row) => [row.genomeId, row.validationAccuracy]));
  const s0 = byKey({ ...setting, replicate: 0 });
  const s1 = byKey({ ...setting, replicate });
  const r0 = byKey({ ...reference, replicate: 0 });
  const r1 = byKey({ ...reference, replicate });
  const ids = [...s0.keys()].filter((id) => s1.has(id) && r0.has(id) && r1.has(id));
  const at = (m: Map<string, number>) => ids.map((id) => m.get(id)!);
  const both = (f: (x: number[], y: number[]) => number, a: [Map<string, number>, Map<string, number>], b: [Map<string, number>, Map<string, number>]) =>
    ids.length >= 2 ? (f(at(a[0]), at(a[1])) + f(at(b[0]), at(b[1]))) / 2 : Number.NaN;
  const tau = both(kendallTauB, [s0, r1], [s1, r0]);
  return {
    setting: { ...setting, replicate: 0 },
    label: settingLabel({ ...setting, replicate: 0 }),
    genomes: ids.length,
    tau,
    tauInterval: kendallTauInterval(tau, ids.length),
    r: both(pearsonR, [s0, r1], [s1, r0]),
    tauSameSeed: both(kendallTauB, [s0, r0], [s1, r1]),
    rSameSeed: both(pearsonR, [s0, r0], [s1, r1]),
  };
}

/** A setting's trainings by replicate (0 the first training, 1… its retests), each genome's accuracy. */
function trainingsByReplicate(rows: readonly FidelityRow[], setting: FidelitySetting): Map<number, Map<string, number>> {
  const key = settingKey({ ...setting, replicate: 0 });
  const out = new Map<number, Map<string, number>>();
  for (const row of rows) {
    if (settingKey({ ...row, replicate: 0 }) !== key) continue;
    const replicate = row.replicate ?? 0;
    if (!out.has(replicate)) out.set(replicate, new Map());
    out.get(replicate)!.set(row.genomeId, row.validationAccuracy);
  }
  return out;
}

/** Each genome's mean over `replicates`, for the genomes measured at every one of them. */
function meanOverReplicates(trainings: Map<number, Map<string, number>>, replicates: readonly number[]): Map<string, number> {
  const maps = replicates.map((r) => trainings.get(r));
  if (!maps.length || maps.some((m) => !m)) return new Map();
  const ids = [...maps[0]!.keys()].filter((id) => maps.every((m) => m!.has(id)));
  return new Map(ids.map((id) => [id, mean(maps.map((m) => m!.get(id)!))]));
}

/** Kendall τ-b (with its interval), Pearson's r and Spearman ρ over the genomes two measurements share. */
export interface GenomeComparison {
  genomes: number;
  tau: number;
  tauInterval: Interval;
  r: number;
  rho: number;
}

function compareGenomes(a: Map<string, number>, b: Map<string, number>): GenomeComparison {
  const ids = [...a.keys()].filter((id) => b.has(id));
  const x = ids.map((id) => a.get(id)!);
  const y = ids.map((id) => b.get(id)!);
  const tau = ids.length >= 2 ? kendallTauB(x, y) : Number.NaN;
  return { genomes: ids.length, tau, tauInterval: kendallTauInterval(tau, ids.length), r: ids.length >= 2 ? pearsonR(x, y) : Number.NaN, rho: ids.length >= 2 ? spearmanRho(x, y) : Number.NaN };
}

/**
 * What ranking by a setting's accuracy averaged over `seeds` training seeds
 * buys, measured from its replicates (a search that trained every candidate
 * that many times would rank by such a mean):
 * - `halves`: the mean of replicates 0…k−1 against the mean of k…2k−1, the
 *   k-seed mean's reliability measured (NaN below 2k trainings);
 * - `predictedR`: the Spearman–Brown prophecy from one training's
 *   reliability, k·r / (1 + (k − 1)·r): what `halves.r` is if every seed's
 *   noise is independent and alike for every genome;
 * - `reference`: the mean of k replicates the reference was not trained at
 *   against the mean of all the reference's. Replicate j of every setting
 *   trains at the same seed per genome, so a replicate both have shares that
 *   seed's noise with the reference and agrees more than the genomes' order
 *   warrants; these share none (NaN when the setting has fewer than k
 *   replicates beyond the reference's, or is the reference).
 */
export interface SeedAveraging {
  setting: FidelitySetting;
  label: string;
  seeds: number;
  /** One training's reliability: the mean Pearson r over every pair of the setting's replicates (of ≥ 3 common genomes). */
  singleSeedR: number;
  predictedR: number;
  halves: GenomeComparison;
  /** `replicates`: the setting's replicates averaged; `referenceSeeds`: how many of the reference's. */
  reference: GenomeComparison & { replicates: number[]; referenceSeeds: number };
}

/** {@link SeedAveraging} of `setting` at `seeds` seeds per genome. */
export function seedAveraging(rows: readonly FidelityRow[], setting: FidelitySetting, reference: FidelitySetting, seeds: number): SeedAveraging {
  if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`seedAveraging: seeds must be a whole number ≥ 1, got ${seeds}`);
  const trainings = trainingsByReplicate(rows, setting);
  const replicates = [...trainings.keys()].sort((a, b) => a - b);
  const pairR = replicates.flatMap((a, i) =>
    replicates.slice(i + 1).flatMap((b) => {
      const c = compareGenomes(trainings.get(a)!, trainings.get(b)!);
      return c.genomes >= 3 ? [c.r] : [];
    }),
  );
  const singleSeedR = pairR.length ? mean(pairR) : Number.NaN;
  const range = (from: number) => Array.from({ length: seeds }, (_, i) => from + i);
  const halves = compareGenomes(meanOverReplicates(trainings, range(0)), meanOverReplicates(trainings, range(seeds)));
  const first = { ...setting, replicate: 0 };
  const isReference = settingKey(first) === settingKey({ ...reference, replicate: 0 });
  const referenceTrainings = isReference ? new Map<number, Map<string, number>>() : trainingsByReplicate(rows, reference);
  const referenceReplicates = [...referenceTrainings.keys()].sort((a, b) => a - b);
  const ownReplicates = replicates.filter((r) => !referenceTrainings.has(r)).slice(0, seeds);
  const againstReference =
    referenceReplicates.length && ownReplicates.length === seeds
      ? compareGenomes(meanOverReplicates(trainings, ownReplicates), meanOverReplicates(referenceTrainings, referenceReplicates))
      : { genomes: 0, tau: Number.NaN, tauInterval: { low: Number.NaN, high: Number.NaN }, r: Number.NaN, rho: Number.NaN };
  return {
    setting: first,
    label: settingLabel(first),
    seeds,
    singleSeedR,
    predictedR: (seeds * singleSeedR) / (1 + (seeds - 1) * singleSeedR),
    halves,
    reference: { ...againstReference, replicates: ownReplicates.length === seeds ? ownReplicates : [], referenceSeeds: referenceReplicates.length },
  };
}

/** Median, quartiles and extremes of a sample (linear interpolation between order statistics). */
export interface Spread {
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
}

/** The {@link Spread} of a sample; all NaN when it is empty. */
export function spreadOf(values: readonly number[]): Spread {
  if (!values.length) return { median: Number.NaN, q1: Number.NaN, q3: Number.NaN, min: Number.NaN, max: Number.NaN };
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = q * (v.length - 1);
    const lo = Math.floor(pos);
    return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (pos - lo);
  };
  return { median: at(0.5), q1: at(0.25), q3: at(0.75), min: v[0], max: v[v.length - 1] };
}

/** Per-genome curves over the rows with `kd` (3+ distinct budgets needed), and the spread of c and k across genomes. */
export function learningCurves(rows: readonly FidelityRow[], kd: boolean): { perGenome: Array<{ genomeId: string } & LearningCurveFit>; c: Spread; k: Spread; a: Spread } {
  const byGenome = new Map<string, FidelityRow[]>();
  for (const r of rows) if (r.kd === kd) byGenome.set(r.genomeId, [...(byGenome.get(r.genomeId) ?? []), r]);
  const perGenome: Array<{ genomeId: string } & LearningCurveFit> = [];
  for (const [genomeId, points] of byGenome) {
    if (new Set(points.map((p) => p.images)).size < 3) continue;
    perGenome.push({ genomeId, ...fitLearningCurve(points.map((p) => ({ images: p.images, accuracy: p.validationAccuracy }))) });
  }
  return { perGenome, c: spreadOf(perGenome.map((f) => f.c)), k: spreadOf(perGenome.map((f) => f.k)), a: spreadOf(perGenome.map((f) => f.a)) };
}

/**
 * Indices of `count` items spread evenly over `total` sorted ones: the middle
 * item of each of `count` equal bins (so the extremes of a long tail are not
 * picked: each pick stands for a `1/count` share of the sample).
 */
export function evenlySpaced(total: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > total) throw new RangeError(`cannot pick ${count} of ${total}`);
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * total) / count));
}

/** One genome's accuracies at the base setting and at larger budgets, with its parameter count. */
export interface GainObservation {
  genomeId: string;
  params: number;
  /** Accuracy at the base budget b₀ (the search's first training). */
  base: number;
  /** Accuracy after `images` images, each budget > b₀. */
  later: ReadonlyArray<{ images: number; accuracy: number }>;
}

/**
 * The proxy evaluator's learning curve (search/evaluators.ts
 * PROXY_LEARNING_CURVE) fitted to measured gains:
 *   acc(b) − acc(b₀) = G_g·(1 − (b/b₀)^(−k)),  G_g ≈ gainMax·(1 − e^(−params/gainParams)) + ε_g
 * k is shared by every genome; G_g is each genome's own (least squares for
 * the shared k); gainMax and gainParams fit the G_g against parameters; the
 * residual's standard deviation is `gainSpread`, the part of a genome's gain
 * that its size does not explain — what makes the first budget misrank.
 */
export interface ProxyCurveFit {
  baseImages: number;
  k: number;
  gainMax: number;
  gainParams: number;
  gainSpread: number;
  /** Root-mean-square residual of the gains under the shared k and per-genome G. */
  rmse: number;
  perGenome: Array<{ genomeId: string; params: number; gain: number; fittedGain: number }>;
}

/** Golden-section minimum of a unimodal-enough function on [lo, hi], after a coarse grid. */
function minimise(f: (x: number) => number, lo: number, hi: number, grid = 200): number {
  let best = lo;
  for (let i = 0; i <= grid; i++) {
    const x = lo + ((hi - lo) * i) / grid;
    if (f(x) < f(best)) best = x;
  }
  let a = Math.max(lo, best - (hi - lo) / grid);
  let b = Math.min(hi, best + (hi - lo) / grid);
  const r = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const c = b - r * (b - a);
    const d = a + r * (b - a);
    if (f(c) < f(d)) b = d;
    else a = c;
  }
  return (a + b) / 2;
}

/** Fits {@link ProxyCurveFit}; needs 3+ genomes with at least one later budget each, and 2+ distinct later budgets in all. */
export function fitProxyCurve(observations: readonly GainObservation[], baseImages: number): ProxyCurveFit {
  const obs = observations.filter((o) => o.later.length > 0);
  if (obs.length < 3) throw new RangeError(`fitProxyCurve: ${obs.length} genome(s) with a budget beyond ${baseImages} images; 3 are needed`);
  for (const o of obs) for (const l of o.later) if (!(l.images > baseImages)) throw new RangeError(`fitProxyCurve: genome ${o.genomeId} has a budget of ${l.images} images, not above the base ${baseImages}`);
  const budgets = new Set(obs.flatMap((o) => o.later.map((l) => l.images)));
  // With one later budget every k fits (each genome's G absorbs it): the exponent needs two.
  if (budgets.size < 2) throw new RangeError(`fitProxyCurve: budgets beyond the base: ${[...budgets].join(', ')}; 2 distinct ones are needed to fit k`);
  const shape = (images: number, k: number) => 1 - (images / baseImages) ** -k;
  // For a given k, each genome's G is the least-squares slope of its gains on shape(b, k).
  const gainsAt = (k: number) =>
    obs.map((o) => {
      let sxy = 0;
      let sxx = 0;
      for (const l of o.later) {
        const x = shape(l.images, k);
        sxy += x * (l.accuracy - o.base);
        sxx += x * x;
      }
      return sxy / sxx;
    });
  const sseAt = (k: number) => {
    const g = gainsAt(k);
    return obs.reduce((s, o, i) => s + o.later.reduce((t, l) => t + (l.accuracy - o.base - g[i] * shape(l.images, k)) ** 2, 0), 0);
  };
  const k = minimise(sseAt, 0.02, 3);
  const gains = gainsAt(k);
  const points = obs.reduce((n, o) => n + o.later.length, 0);
  // G against size: for a given gainParams the best gainMax is a closed-form slope.
  const sizeShape = (params: number, gainParams: number) => 1 - Math.exp(-params / gainParams);
  const gainMaxAt = (gainParams: number) => {
    let sxy = 0;
    let sxx = 0;
    obs.forEach((o, i) => {
      const x = sizeShape(o.params, gainParams);
      sxy += x * gains[i];
      sxx += x * x;
    });
    return sxy / sxx;
  };
  const sizeSse = (gainParams: number) => {
    const m = gainMaxAt(gainParams);
    return obs.reduce((s, o, i) => s + (gains[i] - m * sizeShape(o.params, gainParams)) ** 2, 0);
  };
  const maxParams = Math.max(...obs.map((o) => o.params));
  const gainParams = minimise(sizeSse, maxParams / 100, maxParams * 10);
  const gainMax = gainMaxAt(gainParams);
  const perGenome = obs.map((o, i) => ({ genomeId: o.genomeId, params: o.params, gain: gains[i], fittedGain: gainMax * sizeShape(o.params, gainParams) }));
  const residuals = perGenome.map((p) => p.gain - p.fittedGain);
  const gainSpread = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / Math.max(1, residuals.length - 2));
  return { baseImages, k, gainMax, gainParams, gainSpread, rmse: Math.sqrt(sseAt(k) / points), perGenome };
}

/**
 * How well accuracies measured on `validationImages` images can rank at all:
 * the share of their variance across genomes that is not the validation
 * split's own sampling noise (binomial, p(1 − p)/n). Classical test theory's
 * reliability; a lower bound on the noise (a training seed adds more), so an
 * upper bound on the reliability.
 */
export function samplingReliability(accuracies: readonly number[], validationImages: number): number {
  const n = accuracies.length;
  if (n < 2) return Number.NaN;
  const m = mean(accuracies);
  const observed = accuracies.reduce((s, a) => s + (a - m) ** 2, 0) / (n - 1);
  const noise = accuracies.reduce((s, a) => s + (a * (1 - a)) / validationImages, 0) / n;
  return observed > 0 ? Math.max(0, 1 - noise / observed) : 0;
}

/**
 * The highest Kendall τ two such measurements can be expected to reach:
 * Pearson's r attenuated by both reliabilities (r ≤ √(rel₁·rel₂)), turned
 * into τ as for normal variables (τ = 2/π · arcsin r).
 */
export function tauCeiling(reliabilityA: number, reliabilityB: number): number {
  return (2 / Math.PI) * Math.asin(Math.sqrt(Math.max(0, reliabilityA) * Math.max(0, reliabilityB)));
}

/** A subset setting's agreement read on the validation split alone and on it with the images outside the subset, over the same trainings. */
export interface RankingComparison {
  setting: FidelitySetting;
  label: string;
  /** Images the larger reading validated on: the validation split and the images outside the subset. */
  rankingImages: number;
  /** Genomes with a ranking accuracy at this setting (first training). */
  genomes: number;
  /**
   * Pearson's r between the two readings of the same first trainings: near 1
   * when the validation split alone already orders the trained models as the
   * larger set does (its noise, as it bears on a comparison, is small).
   */
  readingsR: number;
  /** Seed to seed (first training against its retest), where the setting was retested: NaN otherwise. */
  retest: { validation: { tau: number; r: number }; ranking: { tau: number; r: number }; genomes: number };
  /** Against the reference (read on its validation split), over the genomes with both. */
  reference: { validation: { tau: number; rho: number }; ranking: { tau: number; rho: number }; genomes: number };
}

/**
 * For each setting whose trainings were validated outside their subset: how
 * it ranks on the validation split alone and on the larger set, over the
 * same genomes and trainings (only rows that have both readings count, so
 * the two columns differ by the validation set and nothing else).
 */
export function rankingComparisons(rows: readonly FidelityRow[], settings: readonly FidelitySetting[], reference: FidelitySetting): RankingComparison[] {
  const out: RankingComparison[] = [];
  for (const setting of settings) {
    const first = { ...setting, replicate: 0 };
    const againKey = settingKey({ ...setting, replicate: 1 });
    const ranked = rows.filter((r) => r.ranking && settingKey(r) === settingKey(first));
    if (!ranked.length || settingKey(first) === settingKey(reference)) continue;
    const ids = new Set(ranked.map((r) => r.genomeId));
    // Both readings of a retest pair need both trainings validated outside the subset.
    const retestIds = new Set(rows.filter((r) => r.ranking && settingKey(r) === againKey && ids.has(r.genomeId)).map((r) => r.genomeId));
    const withIds = (keep: Set<string>, list: readonly FidelityRow[]) => list.filter((r) => keep.has(r.genomeId));
    const settingRows = rows.filter((r) => settingKey(r) === settingKey(first) || settingKey(r) === againKey);
    const retestOn = (list: FidelityRow[]) => {
      const a = retestAgreement(list, setting);
      return { tau: a.tau, r: a.r };
    };
    const refIds = new Set(rows.filter((r) => settingKey(r) === settingKey(reference) && ids.has(r.genomeId)).map((r) => r.genomeId));
    const refRows = rows.filter((r) => settingKey(r) === settingKey(reference) && refIds.has(r.genomeId));
    const againstReference = (list: FidelityRow[]) => {
      const [a] = agreementWithReference([...list, ...refRows], [first], reference);
      return { tau: a.tauAll, rho: a.rhoAll };
    };
    const firstRows = withIds(refIds, ranked);
    out.push({
      setting: first,
      label: settingLabel(first),
      rankingImages: ranked[0].ranking!.images,
      genomes: ranked.length,
      readingsR: ranked.length >= 2 ? pearsonR(ranked.map((r) => r.validationAccuracy), ranked.map((r) => r.ranking!.accuracy)) : Number.NaN,
      retest: {
        validation: retestOn(withIds(retestIds, settingRows)),
        ranking: retestOn(atRankingAccuracy(withIds(retestIds, settingRows))),
        genomes: retestIds.size,
      },
      reference: { validation: againstReference(firstRows), ranking: againstReference(atRankingAccuracy(firstRows)), genomes: refIds.size },
    });
  }
  return out;
}
