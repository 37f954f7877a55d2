import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { fidelityGenomes } from '../../bench/fidelity-genomes.js';
import { fitProxyCurve } from '../../bench/fidelity-summary.js';
import { MEASURED_REFERENCE_SPREAD, PROXY_LEARNING_CURVE, ProxyEvaluator } from '../../search/evaluators.js';
import { NAMED_SPACES } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import type { Genome } from '../../space/types.js';

const space = new MobileNetSpace(NAMED_SPACES.small, { numClasses: 10, inputChannels: 1 });
const BASE = 8000;

function sampled(n: number, seed: string): Array<{ id: string; genome: Genome }> {
  const rng = seedrandom(seed);
  return Array.from({ length: n }, () => {
    const genome = space.sample(rng);
    return { id: space.id(genome), genome };
  });
}

const sd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};

describe("the proxy evaluator's learning curve", () => {
  it('fitting its own curve the way bench:fidelity fits real training gives back its constants', () => {
    const proxy = new ProxyEvaluator(space, { baseImages: BASE });
    const observations = sampled(48, 'curve').map(({ id, genome }) => ({
      genomeId: id,
      params: space.cost(genome).params,
      base: proxy.accuracyAt(genome, id, BASE),
      later: [3 * BASE, 10 * BASE].map((images) => ({ images, accuracy: proxy.accuracyAt(genome, id, images) })),
    }));
    const fit = fitProxyCurve(observations, BASE);
    const c = PROXY_LEARNING_CURVE;
    expect(fit.k).toBeGreaterThan(c.k - 0.02);
    expect(fit.k).toBeLessThan(c.k + 0.02);
    expect(Math.abs(fit.gainMax - c.gainMax)).toBeLessThan(0.02);
    // The genome's own gain shows through, widened a little by the per-budget noise.
    expect(fit.gainSpread).toBeGreaterThan(0.75 * c.gainSpread);
    expect(fit.gainSpread).toBeLessThan(1.5 * c.gainSpread);
  });

  it('the analytic formula is the accuracy at referenceRatio first budgets; a first training reads ≈ 12 points below it', () => {
    const proxy = new ProxyEvaluator(space, { baseImages: BASE });
    const genomes = sampled(32, 'levels');
    const first = genomes.map(({ id, genome }) => proxy.accuracyAt(genome, id, BASE));
    const reference = genomes.map(({ id, genome }) => proxy.accuracyAt(genome, id, PROXY_LEARNING_CURVE.referenceRatio * BASE));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // bench:fidelity measured 77.96% after 1 epoch on 8,000 images and 89.91% after 80,000.
    expect(mean(reference) - mean(first)).toBeGreaterThan(0.1);
    expect(mean(reference) - mean(first)).toBeLessThan(0.14);
    // More images never read lower, beyond the noise's width.
    for (const { id, genome } of genomes) {
      expect(proxy.accuracyAt(genome, id, 3 * BASE)).toBeGreaterThan(proxy.accuracyAt(genome, id, BASE) - PROXY_LEARNING_CURVE.noise);
    }
  });

  it('referenceSpread shrinks the differences between genomes by the same amount at every budget, and the measured value matches bench:fidelity', () => {
    const wide = new ProxyEvaluator(space, { baseImages: BASE });
    const narrow = new ProxyEvaluator(space, { baseImages: BASE, referenceSpread: 0.5 });
    for (const { id, genome } of sampled(8, 'spread')) {
      const shifts = [BASE, 3 * BASE, 9 * BASE].map((b) => narrow.accuracyAt(genome, id, b) - wide.accuracyAt(genome, id, b));
      for (const s of shifts) expect(s).toBeCloseTo(shifts[0], 12);
      // Halfway to the reference mean: the shift is minus half the distance from it (the
      // reference budget's noise, < 0.5 points, blurs the distance read here).
      const distance = wide.accuracyAt(genome, id, 10 * BASE) - PROXY_LEARNING_CURVE.referenceMean;
      expect(Math.abs(shifts[0] + 0.5 * distance)).toBeLessThan(0.003);
    }

    // bench:fidelity's 16 genomes (seed 0: 512 sampled, the middle one of each of 16 bins of
    // analytic latency) spread 0.54 points (sd) at 80,000 images; the measured setting reproduces it.
    const { chosen } = fidelityGenomes(space, { seed: 0, sampled: 512, count: 16 });
    const measured = new ProxyEvaluator(space, { baseImages: BASE, referenceSpread: MEASURED_REFERENCE_SPREAD });
    const spreadAt = (p: ProxyEvaluator) => sd(chosen.map(({ id, genome }) => p.accuracyAt(genome, id, 10 * BASE)));
    expect(spreadAt(measured)).toBeGreaterThan(0.0049);
    expect(spreadAt(measured)).toBeLessThan(0.0059);
    expect(spreadAt(wide)).toBeGreaterThan(4 * spreadAt(measured));
  });
});
