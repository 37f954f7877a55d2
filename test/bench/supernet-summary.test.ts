import { describe, expect, it } from 'vitest';
import { agreement, agreementAtEqualCost, breakEvenCandidates, frontOverlap, perHour, recipeDifferences, referenceCeiling, residualsAfter, seedMeans, selectionOutcome } from '../../bench/supernet-summary.js';

describe('bench:supernet maths', () => {
  it('averages the reference over seeds and keeps only genomes with enough of them', () => {
    const means = seedMeans(
      [
        { genomeId: 'a', accuracy: 0.9 },
        { genomeId: 'a', accuracy: 0.8 },
        { genomeId: 'b', accuracy: 0.7 },
        { genomeId: 'c', accuracy: 0.6 },
        { genomeId: 'c', accuracy: 0.62 },
      ],
      2,
    );
    expect([...means.keys()].sort()).toEqual(['a', 'c']);
    expect(means.get('a')).toBeCloseTo(0.85, 12);
    expect(means.get('c')).toBeCloseTo(0.61, 12);
  });

  it('ranks over the genomes both scorings hold: τ by hand, with its interval', () => {
    // Five genomes in common; one discordant pair (d, e) of ten: τ = (9 − 1) / 10.
    const scores = new Map([['a', 1], ['b', 2], ['c', 3], ['d', 5], ['e', 4], ['x', 9]]);
    const reference = new Map([['a', 0.1], ['b', 0.2], ['c', 0.3], ['d', 0.4], ['e', 0.5], ['y', 0.9]]);
    const a = agreement(scores, reference);
    expect(a.genomes).toBe(5);
    expect(a.tau).toBeCloseTo(0.8, 12);
    expect(a.rho).toBeCloseTo(0.9, 12);
    expect(a.tauInterval.low).toBeLessThan(0.8);
    expect(a.tauInterval.high).toBeGreaterThan(0.8);
  });

  it('takes a least-squares line out of values: residuals by hand', () => {
    // x̄ 1.5, ȳ 2.5, Sxy 4, Sxx 5: slope 0.8.
    const r = residualsAfter([1, 3, 2, 4], [0, 1, 2, 3]);
    [-0.3, 0.9, -0.9, 0.3].forEach((v, i) => expect(r[i]).toBeCloseTo(v, 12));
    // A constant covariate takes out the mean alone.
    expect(residualsAfter([1, 2, 3], [5, 5, 5])).toEqual([-1, 0, 1]);
  });

  it('ranks at equal cost: a scorer that only follows cost agrees in plain τ and disagrees once cost is taken out', () => {
    const cost = new Map([['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
    // Reference: cost ± 0.1; slope 0.96, residuals 0.04, −0.12, 0.12, −0.04.
    const reference = new Map([['a', 1.1], ['b', 1.9], ['c', 3.1], ['d', 3.9]]);
    // Ten times the cost, with the reference's deviations reversed: slope 10.04, residuals the reference's negated.
    const scores = new Map([['a', 9.9], ['b', 20.1], ['c', 29.9], ['d', 40.1], ['x', 1]]);
    expect(agreement(scores, reference).tau).toBeCloseTo(1, 12);
    const equal = agreementAtEqualCost(scores, reference, cost);
    expect(equal.genomes).toBe(4);
    expect(equal.tau).toBeCloseTo(-1, 12);
    // The reference against itself plus any multiple of cost: the same residuals, τ 1.
    const shifted = new Map([...reference].map(([id, v]) => [id, v + 3 * cost.get(id)!]));
    expect(agreementAtEqualCost(shifted, reference, cost).tau).toBeCloseTo(1, 12);
  });

  it('counts candidates an hour and shared front members', () => {
    expect(perHour(300, 360)).toBe(3000);
    expect(perHour(3, 0)).toBeNaN();
    expect(frontOverlap(['a', 'b', 'c'], ['b', 'c', 'd', 'e'])).toEqual({ shared: 2, ofSmaller: 2 / 3 });
  });

  it('finds the search size at which the supernet and the proxy cost the same compute', () => {
    // 4 h of supernet, 1 s a subnet, 40 s a proxy training: 14,400 / 39 candidates.
    expect(breakEvenCandidates(14_400, 1, 40)).toBeCloseTo(369.23, 2);
    expect(14_400 + 369.23 * 1).toBeCloseTo(369.23 * 40, 0);
    expect(breakEvenCandidates(14_400, 40, 40)).toBe(Number.POSITIVE_INFINITY);
    expect(breakEvenCandidates(0, 1, 40)).toBe(0);
  });

  it("bounds every scorer's τ by the reference's own seed-to-seed noise", () => {
    // Seeds 0 and 1 of four genomes: deviations (−1.5, −0.5, 0.5, 1.5) and (−0.5, −1.5, 1.5, 0.5),
    // so r = (0.75 + 0.75 + 0.75 + 0.75) / 5 = 0.6 by hand; two of the six pairs discordant: τ = (4 − 2) / 6.
    const acc = [
      [0.1, 0.2],
      [0.2, 0.1],
      [0.3, 0.4],
      [0.4, 0.3],
    ];
    const trainings = acc.flatMap(([a, b], i) => [
      { genomeId: `g${i}`, replicate: 0, accuracy: a },
      { genomeId: `g${i}`, replicate: 1, accuracy: b },
    ]);
    // A genome with one seed and a third seed do not enter the seed-to-seed reading.
    trainings.push({ genomeId: 'lone', replicate: 0, accuracy: 0.9 }, { genomeId: 'g0', replicate: 2, accuracy: 0.5 });
    const c = referenceCeiling(trainings, 2);
    expect(c.genomes).toBe(4);
    expect(c.r).toBeCloseTo(0.6, 12);
    expect(c.seedToSeed.tau).toBeCloseTo(2 / 3 - 1 / 3, 12);
    // Spearman–Brown for two seeds: 2·0.6 / 1.6 = 0.75; ceiling 2/π · asin(√0.75) = 2/π · π/3 = 2/3.
    expect(c.meanReliability).toBeCloseTo(0.75, 12);
    expect(c.tauCeiling).toBeCloseTo(2 / 3, 12);
    // One seed: the ceiling is the seed's own reliability, 2/π · asin(√0.6).
    expect(referenceCeiling(trainings, 1).tauCeiling).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(0.6)), 12);
    expect(referenceCeiling(trainings.filter((t) => t.replicate === 0), 2).tauCeiling).toBeNaN();
  });

  it('names how two recipes differ, the seed aside', () => {
    const base = { strategy: 'sandwich', epochs: 10, distillation: { temperature: 4, alpha: 0.9 }, seed: 0 };
    expect(recipeDifferences(base, { ...base, seed: 1 })).toEqual([]);
    expect(recipeDifferences(base, { ...base, strategy: 'progressive', epochs: 8.78, seed: 1 })).toEqual(['strategy sandwich/progressive', 'epochs 10/8.78']);
    // A flag from before the field existed reads as false.
    expect(recipeDifferences(base, { ...base, kernelTransform: true })).toEqual(['kernelTransform false/true']);
    expect(recipeDifferences(base, { ...base, kernelTransform: false })).toEqual([]);
    expect(recipeDifferences({ ...base, warmupEpochs: 1 }, base)).toEqual(['warmupEpochs 1/unset']);
    expect(recipeDifferences(base, { ...base, distillation: { temperature: 4, alpha: 0 } })).toEqual(['distillation {"temperature":4,"alpha":0.9}/{"temperature":4,"alpha":0}']);
  });

  it('selection: the front a score chooses, judged by its held-out accuracies (hand-worked)', () => {
    const reference = { accuracy: 0.85, latency: 4 };
    const candidates = [
      { id: 'a', latency: 1, score: 0.9, heldOut: 0.88 },
      { id: 'b', latency: 2, score: 0.92, heldOut: 0.86 },
      { id: 'c', latency: 2, score: 0.91, heldOut: 0.9 }, // b's score beats it at the same latency
      { id: 'd', latency: 3, score: 0.93, heldOut: 0.89 },
    ];
    // Held out: a covers [1, 4] × 0.03; b's 0.01 adds nothing; d adds [3, 4] × (0.04 − 0.03).
    const first = selectionOutcome(candidates, reference);
    expect(first.front).toEqual(['a', 'b', 'd']);
    expect(first.hypervolume).toBeCloseTo(3 * 0.03 + 0.01, 12);
    expect(first.bestHeldOut).toBe(0.89);
    // Another score that puts c above b: c adds [2, 4] × (0.05 − 0.03), and d then adds nothing.
    const second = selectionOutcome(candidates.map((c) => (c.id === 'c' ? { ...c, score: 0.925 } : c)), reference);
    expect(second.front).toEqual(['a', 'c', 'd']);
    expect(second.hypervolume).toBeCloseTo(3 * 0.03 + 2 * 0.02, 12);
    expect(second.bestHeldOut).toBe(0.9);
  });
});
