import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { agreementWithReference, crossSeedAgreement, evenlySpaced, seedAveraging, rankingComparisons, fitProxyCurve, learningCurves, retestAgreement, samplingReliability, tauCeiling, settingKey, settingLabel, spreadOf, type FidelityRow, type FidelitySetting } from '../../bench/fidelity-summary.js';
import { curveAccuracy } from '../../bench/learning-curve.js';
import { kendallTauB, pearsonR } from '../../bench/rank-correlation.js';

const proxy: FidelitySetting = { images: 2000, subset: 2000, kd: false };
const middle: FidelitySetting = { images: 6000, subset: null, kd: false };
const reference: FidelitySetting = { images: 20000, subset: null, kd: false };
const rowsOf = (s: FidelitySetting, accuracies: number[]): FidelityRow[] => accuracies.map((validationAccuracy, i) => ({ genomeId: `g${i}`, ...s, validationAccuracy }));

describe('agreementWithReference', () => {
  // Reference order g0 < g1 < … < g7; the proxy swaps g0/g1 and g6/g7 (two discordant pairs of 28).
  const refAcc = [0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87];
  const proxyAcc = [0.61, 0.6, 0.62, 0.63, 0.64, 0.65, 0.67, 0.66];
  const rows = [...rowsOf(reference, refAcc), ...rowsOf(proxy, proxyAcc), ...rowsOf(middle, refAcc.slice(0, 5))];
  const [p, m] = agreementWithReference(rows, [proxy, reference, middle], reference);

  it('skips the reference itself and pairs by genome', () => {
    expect([p.label, m.label]).toEqual(['1 ep on 2000', '6000 of full']);
    expect(p.genomes).toBe(8);
    expect(m.genomes).toBe(5);
    expect(p.budgetRatio).toBe(10);
  });

  it('τ and ρ over all genomes: 2 discordant pairs of 28; d² = 4·1', () => {
    expect(p.tauAll).toBeCloseTo((26 - 2) / 28, 12);
    expect(p.rhoAll).toBeCloseTo(1 - (6 * 4) / (8 * 63), 12);
    expect(m.tauAll).toBe(1);
  });

  it('τ all carries its 95% interval over the paired genomes: 8 for the proxy, 5 for the middle setting', () => {
    // atanh(24/28) ± 1.95996·√(0.437/4), by hand.
    const z = Math.atanh(24 / 28);
    const half = 1.959964 * Math.sqrt(0.437 / 4);
    expect(p.tauAllInterval.low).toBeCloseTo(Math.tanh(z - half), 5);
    expect(p.tauAllInterval.high).toBeCloseTo(Math.tanh(z + half), 5);
    expect(m.tauAllInterval).toEqual({ low: Number.NaN, high: Number.NaN }); // τ 1: no interval
  });

  it('the better half is the 4 best by reference (g4…g7: one swapped pair of 6)', () => {
    expect(p.tauBetterHalf).toBeCloseTo(4 / 6, 12);
    expect(p.rhoBetterHalf).toBeCloseTo(1 - (6 * 2) / (4 * 15), 12);
    // 5 genomes → a better half of 2: too few for a correlation.
    expect(m.tauBetterHalf).toBeNaN();
  });

  it('top quarter: the reference top 2 are g6, g7, and so are the proxy top 2', () => {
    expect(p.topQuarterOverlap).toBe(1);
    expect(p.meanAccuracy).toBeCloseTo(proxyAcc.reduce((a, b) => a + b) / 8, 12);
  });
});

describe('retestAgreement: a setting against itself at another training seed', () => {
  // The retest keeps the first training's order at other values; g5 has no retest row (5 genomes paired of 6).
  const first = [0.8, 0.81, 0.82, 0.83, 0.84, 0.85];
  const again = [0.805, 0.812, 0.818, 0.836, 0.849];
  const rows = [...rowsOf(proxy, first), ...rowsOf({ ...proxy, replicate: 1 }, again), ...rowsOf(reference, [0.9, 0.9, 0.9, 0.9, 0.9, 0.9])];

  it('pairs each genome with its retest, and the retest never counts as another setting', () => {
    const r = retestAgreement(rows, proxy);
    expect([r.label, r.genomes]).toEqual(['1 ep on 2000', 5]);
    expect(r.tau).toBe(1);
    expect(r.tauInterval).toEqual({ low: Number.NaN, high: Number.NaN }); // τ 1: no interval
    // numpy 2.4: np.corrcoef([0.8, 0.81, 0.82, 0.83, 0.84], [0.805, 0.812, 0.818, 0.836, 0.849])[0, 1]
    expect(r.r).toBeCloseTo(0.9785485434603627, 12);
    // numpy 2.4, d = again − first: d.mean(), d.std(ddof=1)/sqrt(2), first.std(ddof=1)
    expect(r.shift).toBeCloseTo(0.004, 12);
    expect(r.rankingNoise).toBeCloseTo(0.0029580398915498105, 12);
    expect(r.spread).toBeCloseTo(0.015811388300841858, 12);
    // Against the reference, only the first training: 6 genomes, not 11.
    expect(agreementWithReference(rows, [proxy], reference)[0].genomes).toBe(6);
    expect(settingKey({ ...proxy, replicate: 1 })).not.toBe(settingKey(proxy));
    expect(settingKey({ ...proxy, replicate: 0 })).toBe(settingKey(proxy)); // rows written before retests keep their key
    expect(settingLabel({ ...proxy, replicate: 1 })).toBe('1 ep on 2000 (retest 1)');
  });

  it('a setting with no retest has no agreement to report', () => {
    const r = retestAgreement(rows, reference);
    expect(r.genomes).toBe(0);
    expect(r.tau).toBeNaN();
    expect(r.r).toBeNaN();
    expect(r.rankingNoise).toBeNaN();
  });
});

describe('crossSeedAgreement: a setting against the reference with no training seed shared', () => {
  // Each seed moves a genome the same way at both budgets (the seed's noise is shared): same-seed pairs agree
  // perfectly; crossed, the retest's swaps of g0/g1 and g4/g5 make 2 discordant pairs of 15. g6 lacks a reference retest.
  const at = (v: number[]) => v.map((x) => 0.8 + 0.01 * x);
  const first = at([1, 2, 3, 4, 5, 6, 7]);
  const again = at([2, 1, 3, 4, 6, 5]);
  const rows = [
    ...rowsOf(proxy, first),
    ...rowsOf({ ...proxy, replicate: 1 }, [...again, 0.9]),
    ...rowsOf(reference, first),
    ...rowsOf({ ...reference, replicate: 1 }, again),
  ];
  const c = crossSeedAgreement(rows, proxy, reference);

  it('pairs first with retest both ways over the genomes with all four trainings', () => {
    expect([c.label, c.genomes]).toEqual(['1 ep on 2000', 6]);
    expect(c.tau).toBeCloseTo(11 / 15, 12);
    // numpy 1.24: np.corrcoef([1, 2, 3, 4, 5, 6], [2, 1, 3, 4, 6, 5])[0, 1]
    expect(c.r).toBeCloseTo(0.8857142857142856, 12);
    expect(c.tauSameSeed).toBe(1);
    expect(c.rSameSeed).toBeCloseTo(1, 12);
    // atanh(11/15) ± 1.95996·√(0.437/2), by hand.
    const half = 1.959963984540054 * Math.sqrt(0.437 / 2);
    expect(c.tauInterval.low).toBeCloseTo(Math.tanh(Math.atanh(11 / 15) - half), 12);
    expect(c.tauInterval.high).toBeCloseTo(Math.tanh(Math.atanh(11 / 15) + half), 12);
  });

  it('without a reference retest there is nothing to cross', () => {
    const none = crossSeedAgreement(rows.filter((r) => !(settingKey(r) === settingKey({ ...reference, replicate: 1 }))), proxy, reference);
    expect(none.genomes).toBe(0);
    expect(none.tau).toBeNaN();
  });
});

describe('seedAveraging: ranking by the mean of k training seeds', () => {
  const replicateRows = (s: FidelitySetting, byReplicate: number[][]): FidelityRow[] => byReplicate.flatMap((acc, replicate) => rowsOf({ ...s, replicate }, acc));
  /** Standard normal draws from a seeded generator (Box–Muller). */
  const normals = (rng: () => number, n: number) => Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));

  it('averages replicates 0…k−1 against k…2k−1, genome by genome; k = 1 is the retest', () => {
    const proxyReps = [
      [0.7, 0.72, 0.71, 0.75, 0.74, 0.78],
      [0.71, 0.7, 0.74, 0.73, 0.77, 0.76],
      [0.72, 0.73, 0.7, 0.76, 0.75, 0.74],
      [0.7, 0.74, 0.72, 0.71, 0.78, 0.77],
    ];
    const rows = replicateRows(proxy, proxyReps);
    const one = seedAveraging(rows, proxy, reference, 1);
    const retest = retestAgreement(rows, proxy);
    expect([one.halves.genomes, one.halves.tau, one.halves.r]).toEqual([6, retest.tau, retest.r]);
    const two = seedAveraging(rows, proxy, reference, 2);
    const meanOf = (a: number, b: number) => proxyReps[a].map((x, i) => (x + proxyReps[b][i]) / 2);
    expect(two.halves.tau).toBeCloseTo(kendallTauB(meanOf(0, 1), meanOf(2, 3)), 12);
    expect(two.halves.r).toBeCloseTo(pearsonR(meanOf(0, 1), meanOf(2, 3)), 12);
    // One training's reliability: the mean r over the 6 pairs of the 4 replicates.
    const pairs = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]].map(([a, b]) => pearsonR(proxyReps[a], proxyReps[b]));
    expect(two.singleSeedR).toBeCloseTo(pairs.reduce((x, y) => x + y) / 6, 12);
    expect(two.predictedR).toBeCloseTo((2 * two.singleSeedR) / (1 + two.singleSeedR), 12);
    // 3 seeds need 6 trainings for two halves.
    expect(seedAveraging(rows, proxy, reference, 3).halves.genomes).toBe(0);
    expect(seedAveraging(rows, proxy, reference, 3).halves.tau).toBeNaN();
    // No reference rows: nothing to compare with.
    expect(two.reference.tau).toBeNaN();
    expect(two.reference.referenceSeeds).toBe(0);
  });

  it('the mean of two seeds is as reliable as Spearman–Brown says when every seed adds independent noise (400 genomes, noise sd = spread)', () => {
    const rng = seedrandom('seed-averaging');
    const truth = normals(rng, 400);
    const rows = replicateRows(proxy, Array.from({ length: 4 }, () => normals(rng, 400).map((e, i) => 0.8 + 0.01 * (truth[i] + e))));
    const two = seedAveraging(rows, proxy, reference, 2);
    // Reliability of one training 1/(1 + 1) = 0.5, of the mean of two 2/3.
    expect(two.singleSeedR).toBeGreaterThan(0.44);
    expect(two.singleSeedR).toBeLessThan(0.56);
    expect(two.predictedR).toBeCloseTo(2 / 3, 1);
    expect(Math.abs(two.halves.r - 2 / 3)).toBeLessThan(0.07);
    expect(two.halves.r).toBeGreaterThan(seedAveraging(rows, proxy, reference, 1).halves.r);
  });

  it('against the reference it averages only replicates the reference was not trained at', () => {
    // The setting's replicates 0 and 1 copy the reference's (a shared seed's noise, in the extreme); 2 and 3 are trainings of their own.
    const rng = seedrandom('seed-averaging-reference');
    const truth = normals(rng, 40);
    const noisy = () => normals(rng, 40).map((e, i) => 0.8 + 0.01 * (truth[i] + 2 * e));
    const referenceReps = [noisy(), noisy()];
    const own = [noisy(), noisy()];
    const rows = [...replicateRows(reference, referenceReps), ...replicateRows(proxy, [...referenceReps, ...own])];
    const two = seedAveraging(rows, proxy, reference, 2);
    expect(two.reference.replicates).toEqual([2, 3]);
    expect(two.reference.referenceSeeds).toBe(2);
    const meanOf = (a: number[], b: number[]) => a.map((x, i) => (x + b[i]) / 2);
    expect(two.reference.genomes).toBe(40);
    expect(two.reference.tau).toBeCloseTo(kendallTauB(meanOf(own[0], own[1]), meanOf(referenceReps[0], referenceReps[1])), 12);
    expect(two.reference.tau).toBeLessThan(0.8); // the copies would give τ 1
    expect(seedAveraging(rows, proxy, reference, 1).reference.replicates).toEqual([2]);
    // Only two replicates beyond the reference's: three cannot be averaged without a shared seed.
    const three = seedAveraging(rows, proxy, reference, 3);
    expect([three.reference.genomes, three.reference.replicates]).toEqual([0, []]);
    expect(three.reference.tau).toBeNaN();
    // The reference against itself is not a comparison.
    expect(seedAveraging(rows, reference, reference, 1).reference.tau).toBeNaN();
  });

  it('names a seed count that is not a whole number ≥ 1', () => {
    expect(() => seedAveraging([], proxy, reference, 0)).toThrow(/seeds must be a whole number ≥ 1, got 0/);
  });
});

describe('rankingComparisons: the same trainings read on the validation split and on the larger set', () => {
  // On the validation split alone the proxy swaps g0/g1 and g2/g3 in both seeds; on the larger set only the retest swaps g2/g3.
  const refAcc = [0.8, 0.81, 0.82, 0.83, 0.84];
  const withRanking = (s: FidelitySetting, validation: number[], ranking: number[]): FidelityRow[] =>
    validation.map((validationAccuracy, i) => ({ genomeId: `g${i}`, ...s, validationAccuracy, ranking: { images: 52000, accuracy: ranking[i] } }));
  const rows = [
    ...rowsOf(reference, refAcc),
    ...withRanking(proxy, [0.61, 0.6, 0.63, 0.62, 0.64], [0.6, 0.61, 0.62, 0.63, 0.64]),
    ...withRanking({ ...proxy, replicate: 1 }, [0.6, 0.59, 0.63, 0.62, 0.65], [0.6, 0.61, 0.63, 0.62, 0.64]),
    // g4 of another setting without a ranking reading, and a retest of it: not compared.
    ...rowsOf(middle, refAcc),
  ];
  const [c, ...others] = rankingComparisons(rows, [proxy, reference, middle], reference);

  it('one comparison per setting with ranking readings, never the reference', () => {
    expect(others).toEqual([]);
    expect(c.label).toBe('1 ep on 2000');
    expect(c.rankingImages).toBe(52000);
    expect([c.genomes, c.retest.genomes, c.reference.genomes]).toEqual([5, 5, 5]);
    // Pearson's r of (0.61, 0.6, 0.63, 0.62, 0.64) with (0.6 … 0.64): covariance 0.0008 over 0.001 (both sums of squares).
    expect(c.readingsR).toBeCloseTo(0.8, 12);
  });

  it('against the reference: 2 discordant pairs of 10 on the validation split, none on the larger set', () => {
    expect(c.reference.validation.tau).toBeCloseTo(6 / 10, 12);
    expect(c.reference.ranking.tau).toBe(1);
    expect(c.reference.validation.rho).toBeCloseTo(1 - (6 * 4) / (5 * 24), 12);
  });

  it('seed to seed: identical validation-split orders agree fully; on the larger set one pair of 10 differs', () => {
    expect(c.retest.validation.tau).toBe(1);
    expect(c.retest.ranking.tau).toBeCloseTo(8 / 10, 12);
    expect(c.retest.ranking.r).toBeLessThan(1);
  });

  it('a genome whose retest lacks the larger reading leaves the retest pairs, not the reference ones', () => {
    const partial = rows.map((r) => (r.replicate === 1 && r.genomeId === 'g4' ? { ...r, ranking: undefined } : r));
    const [p] = rankingComparisons(partial, [proxy], reference);
    expect([p.retest.genomes, p.reference.genomes]).toEqual([4, 5]);
  });
});

describe('learningCurves', () => {
  it('fits each genome with 3+ budgets of the given KD setting and summarises c and k', () => {
    const curves = [
      { a: 0.9, c: 5, k: 0.5 },
      { a: 0.88, c: 8, k: 0.6 },
      { a: 0.92, c: 3, k: 0.4 },
    ];
    const rows: FidelityRow[] = curves.flatMap((curve, g) =>
      [proxy, middle, reference].map((s) => ({ genomeId: `g${g}`, ...s, validationAccuracy: curveAccuracy(curve, s.images) })),
    );
    // A genome with two budgets only is left out; KD rows are not mixed in.
    rows.push({ genomeId: 'g9', ...proxy, validationAccuracy: 0.5 }, { genomeId: 'g9', ...reference, validationAccuracy: 0.8 });
    rows.push({ genomeId: 'g0', ...reference, kd: true, validationAccuracy: 0.1 });
    const fit = learningCurves(rows, false);
    expect(fit.perGenome.map((f) => f.genomeId)).toEqual(['g0', 'g1', 'g2']);
    fit.perGenome.forEach((f, i) => {
      expect(f.k).toBeCloseTo(curves[i].k, 5);
      expect(f.c).toBeCloseTo(curves[i].c, 3);
    });
    expect(fit.k.median).toBeCloseTo(0.5, 5);
    expect(fit.c.min).toBeCloseTo(3, 3);
    expect(fit.c.max).toBeCloseTo(8, 3);
  });
});

describe('helpers', () => {
  it('evenlySpaced takes the middle of each equal bin', () => {
    expect(evenlySpaced(512, 16)).toEqual(Array.from({ length: 16 }, (_, i) => 16 + 32 * i));
    expect(evenlySpaced(10, 1)).toEqual([5]);
    expect(evenlySpaced(4, 4)).toEqual([0, 1, 2, 3]);
    expect(() => evenlySpaced(3, 4)).toThrow(/cannot pick 4 of 3/);
  });

  it('spreadOf: median and quartiles by linear interpolation (numpy default)', () => {
    expect(spreadOf([4, 1, 3, 2])).toEqual({ median: 2.5, q1: 1.75, q3: 3.25, min: 1, max: 4 });
  });

  it('settingLabel says subset or full split and KD', () => {
    expect(settingLabel({ images: 8000, subset: 8000, kd: true })).toBe('1 ep on 8000 KD');
    expect(settingLabel({ images: 80000, subset: null, kd: false })).toBe('80000 of full');
  });
});

describe('fitProxyCurve', () => {
  const base = 8000;
  const truth = { k: 0.7, gainMax: 0.05, gainParams: 200_000 };
  const sizes = [120_000, 180_000, 250_000, 330_000, 420_000, 520_000, 620_000];
  const gainOf = (params: number) => truth.gainMax * (1 - Math.exp(-params / truth.gainParams));
  const observe = (extra: (i: number) => number) =>
    sizes.map((params, i) => {
      const acc0 = 0.75 + 0.003 * i;
      const g = gainOf(params) + extra(i);
      return { genomeId: `g${i}`, params, base: acc0, later: [24_000, 80_000].map((images) => ({ images, accuracy: acc0 + g * (1 - (images / base) ** -truth.k) })) };
    });

  it('recovers k, gainMax and gainParams from exact curves, with no spread left', () => {
    const fit = fitProxyCurve(observe(() => 0), base);
    expect(fit.k).toBeCloseTo(truth.k, 4);
    expect(fit.gainMax).toBeCloseTo(truth.gainMax, 4);
    expect(fit.gainParams / truth.gainParams).toBeCloseTo(1, 2);
    expect(fit.gainSpread).toBeLessThan(1e-6);
    expect(fit.rmse).toBeLessThan(1e-6);
  });

  it('gainSpread is the spread of gains that size does not explain', () => {
    // Alternating ±1 point around the size curve: k is still exact (each genome's own G absorbs it).
    const fit = fitProxyCurve(observe((i) => (i % 2 ? 0.01 : -0.01)), base);
    expect(fit.k).toBeCloseTo(truth.k, 4);
    const residuals = fit.perGenome.map((p) => p.gain - p.fittedGain);
    expect(fit.gainSpread).toBeCloseTo(Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / (residuals.length - 2)), 12);
    expect(fit.gainSpread).toBeGreaterThan(0.008);
    expect(fit.gainSpread).toBeLessThan(0.014);
  });

  it('names the genome whose budget is not above the base, and refuses too few genomes', () => {
    const obs = observe(() => 0);
    expect(() => fitProxyCurve([...obs.slice(1), { ...obs[0], genomeId: 'small', later: [{ images: 4000, accuracy: 0.7 }] }], base)).toThrow(/genome small has a budget of 4000 images, not above the base 8000/);
    expect(() => fitProxyCurve(obs.slice(0, 2), base)).toThrow(/2 genome\(s\).*3 are needed/);
    const oneBudget = obs.map((x) => ({ ...x, later: x.later.slice(1) }));
    expect(() => fitProxyCurve(oneBudget, base)).toThrow(/budgets beyond the base: 80000; 2 distinct ones are needed to fit k/);
  });
});

describe('how well noisy accuracies can rank', () => {
  it('reliability: the share of the variance across genomes that is not binomial sampling noise', () => {
    // Accuracies 0.80 and 0.90 on 100 images: observed variance 0.005, noise (0.16 + 0.09)/2/100 = 0.00125.
    expect(samplingReliability([0.8, 0.9], 100)).toBeCloseTo(1 - 0.00125 / 0.005, 12);
    // Spread smaller than the noise: nothing to rank.
    expect(samplingReliability([0.9, 0.901, 0.899], 100)).toBe(0);
    expect(samplingReliability([0.9], 100)).toBeNaN();
  });

  it('τ ceiling: 1 for noiseless measurements, 0 when either is all noise, arcsine of the attenuated r between', () => {
    expect(tauCeiling(1, 1)).toBeCloseTo(1, 12);
    expect(tauCeiling(0, 0.9)).toBe(0);
    // r = √(0.5·0.5) = 0.5 → τ = 2/π·arcsin(0.5) = 1/3.
    expect(tauCeiling(0.5, 0.5)).toBeCloseTo(1 / 3, 12);
  });
});
