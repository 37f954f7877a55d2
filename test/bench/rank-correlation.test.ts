import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { averageRanks, kendallTauB, kendallTauInterval, pearsonR, RankCorrelationError, spearmanRho, topKOverlap } from '../../bench/rank-correlation.js';

// Reference values from scipy 1.17 (scipy.stats.kendalltau — τ-b by default — and scipy.stats.spearmanr).
const SCIPY_CASES: Array<{ name: string; x: number[]; y: number[]; tau: number; rho: number }> = [
  { name: 'scipy docs example, ties in both', x: [12, 2, 1, 12, 2], y: [1, 4, 7, 1, 0], tau: -0.4714045207910316, rho: -0.5407380704358752 },
  { name: 'one tie in y', x: [1, 2, 3, 4, 5], y: [5, 6, 7, 8, 7], tau: 0.7378647873726218, rho: 0.8207826816681233 },
  {
    name: 'accuracies with ties on both sides',
    x: [0.81, 0.79, 0.84, 0.8, 0.84, 0.77, 0.8, 0.82],
    y: [0.86, 0.85, 0.88, 0.84, 0.89, 0.83, 0.85, 0.87],
    tau: 0.8680790595108567,
    rho: 0.9394111922831736,
  },
];

describe('Kendall τ-b and Spearman ρ', () => {
  for (const c of SCIPY_CASES) {
    it(`match scipy: ${c.name}`, () => {
      expect(kendallTauB(c.x, c.y)).toBeCloseTo(c.tau, 12);
      expect(spearmanRho(c.x, c.y)).toBeCloseTo(c.rho, 12);
    });
  }

  it('hand-computed without ties: one swapped pair of 4 gives τ = (5 − 1)/6 and ρ = 1 − 6·2/(4·15)', () => {
    const x = [1, 2, 3, 4];
    const y = [1, 3, 2, 4];
    expect(kendallTauB(x, y)).toBeCloseTo(4 / 6, 15);
    expect(spearmanRho(x, y)).toBeCloseTo(1 - 12 / 60, 15);
  });

  it('are ±1 for identical and reversed orders, and depend on ranks only', () => {
    const x = [0.1, 0.5, 0.3, 0.9];
    expect(kendallTauB(x, x.map((v) => v ** 3 + 7))).toBe(1);
    expect(spearmanRho(x, x.map((v) => -v))).toBeCloseTo(-1, 15);
    expect(kendallTauB([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
  });

  it('are symmetric in their arguments', () => {
    const { x, y } = SCIPY_CASES[0];
    expect(kendallTauB(y, x)).toBeCloseTo(kendallTauB(x, y), 15);
    expect(spearmanRho(y, x)).toBeCloseTo(spearmanRho(x, y), 15);
  });

  it("Pearson's r of two accuracy vectors matches numpy.corrcoef", () => {
    const x = [0.801, 0.812, 0.795, 0.83, 0.822, 0.78];
    const y = [0.899, 0.905, 0.9, 0.91, 0.903, 0.893];
    expect(pearsonR(x, y)).toBeCloseTo(0.9378389455354549, 13); // numpy 2.4: np.corrcoef(x, y)[0, 1]
    expect(pearsonR(y, x)).toBeCloseTo(pearsonR(x, y), 15);
  });

  it('are NaN when one scoring is constant (as scipy)', () => {
    expect(pearsonR([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(kendallTauB([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(spearmanRho([5, 5, 5], [1, 2, 3])).toBeNaN();
  });

  it('refuse unequal lengths, fewer than 2 candidates and non-finite scores with a coded error', () => {
    expect(() => kendallTauB([1, 2], [1])).toThrow(/differ in length: 2 and 1/);
    expect(() => spearmanRho([1], [1])).toThrow(/at least 2/);
    expect(() => kendallTauB([1, Number.NaN], [1, 2])).toThrow(RankCorrelationError);
    expect(() => spearmanRho([1], [1])).toThrow(expect.objectContaining({ code: 'E_RANK_CORRELATION' }));
  });
});

describe('averageRanks', () => {
  it('gives ties the mean of the ranks they span (scipy rankdata "average")', () => {
    expect(averageRanks([12, 2, 1, 12, 2])).toEqual([4.5, 2.5, 1, 4.5, 2.5]);
    expect(averageRanks([3, 3, 3])).toEqual([2, 2, 2]);
  });
});

describe('topKOverlap', () => {
  it('is the shared share of the two top-k sets', () => {
    const proxy = [0.9, 0.8, 0.7, 0.6];
    const reference = [0.7, 0.95, 0.9, 0.5];
    // top-2 by reference: {1, 2}; by proxy: {0, 1} → 1 of 2 shared.
    expect(topKOverlap(proxy, reference, 2)).toBe(0.5);
    expect(topKOverlap(proxy, reference, 4)).toBe(1);
    expect(topKOverlap(proxy, reference, 1)).toBe(0);
  });

  it('refuses a k outside 1…n', () => {
    expect(() => topKOverlap([1, 2], [1, 2], 3)).toThrow(/k must be an integer from 1 to 2, got 3/);
  });
});

describe('kendallTauInterval', () => {
  it('covers the true τ about 95% of the time for 16 bivariate-normal genomes (seeded Monte Carlo)', () => {
    // True τ of a bivariate normal with correlation r is 2/π·asin r; r = 0.7 gives τ ≈ 0.494.
    const r = 0.7;
    const trueTau = (2 / Math.PI) * Math.asin(r);
    const rng = seedrandom('kendall-interval');
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const trials = 2000;
    let covered = 0;
    let width = 0;
    for (let t = 0; t < trials; t++) {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < 16; i++) {
        const a = normal();
        x.push(a);
        y.push(r * a + Math.sqrt(1 - r * r) * normal());
      }
      const { low, high } = kendallTauInterval(kendallTauB(x, y), 16);
      if (low <= trueTau && trueTau <= high) covered++;
      width += high - low;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.975);
    // And the interval is what makes 16 genomes a blunt instrument: about ±0.3 around τ ≈ 0.5.
    expect(width / trials).toBeGreaterThan(0.5);
    expect(width / trials).toBeLessThan(0.7);
  });

  it('follows atanh(τ) ± z·√(0.437/(n − 4)): narrower with more candidates, NaN at n ≤ 4 and at |τ| = 1, a bad z is named', () => {
    const at16 = kendallTauInterval(0.15, 16);
    // Hand-computed: atanh 0.15 = 0.15114, 1.95996·√(0.437/12) = 0.37403.
    expect(at16.low).toBeCloseTo(Math.tanh(0.15114 - 0.37403), 4);
    expect(at16.high).toBeCloseTo(Math.tanh(0.15114 + 0.37403), 4);
    const at172 = kendallTauInterval(0.15, 172);
    expect(at172.high - at172.low).toBeLessThan(0.21);
    expect(at172.high - at172.low).toBeGreaterThan(0.19);
    expect(kendallTauInterval(0.15, 16, 0.674).high).toBeLessThan(at16.high); // a 50% interval is narrower
    expect(Number.isNaN(kendallTauInterval(0.5, 4).low)).toBe(true);
    expect(Number.isNaN(kendallTauInterval(Number.NaN, 16).high)).toBe(true);
    expect(kendallTauInterval(1, 16)).toEqual({ low: Number.NaN, high: Number.NaN });
    expect(() => kendallTauInterval(0.5, 16, -1.96)).toThrow(/z must be a positive normal quantile, got -1.96/);
  });
});
