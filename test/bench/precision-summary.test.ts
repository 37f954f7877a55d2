import { describe, expect, it } from 'vitest';
import { calibrationAgreement, frontIds, summarisePrecision, summariseSearchPairs, type PrecisionRow } from '../../bench/precision-summary.js';

const row = (id: string, accuracy: number, fp32P50: number, int8P50: number, int8Variant = 'all'): PrecisionRow => ({ space: 's', threads: 1, id, accuracy, fp32P50, int8P50, int8Variant, allP50: null });

describe('bench:precision maths', () => {
  // Worked by hand: B turns slow in INT8 and leaves the front, D turns fast and joins it.
  const rows = [row('A', 0.9, 1.0, 0.8), row('B', 0.85, 0.5, 0.9, 'per-tensor'), row('C', 0.8, 0.4, 0.3), row('D', 0.7, 0.6, 0.25)];

  it('reads each front by its own latency from the same accuracies', () => {
    expect(frontIds(rows, (r) => r.fp32P50).sort()).toEqual(['A', 'B', 'C']);
    expect(frontIds(rows, (r) => r.int8P50).sort()).toEqual(['A', 'C', 'D']);
  });

  it('gives τ, the shares where INT8 is slower or fp32 would be kept, the variants that won and the fronts shared', () => {
    const s = summarisePrecision(rows);
    // Pairs AB, BD, CD discordant; AC, AD, BC concordant.
    expect(s.tau).toBe(0);
    expect(s).toMatchObject({ genomes: 4, int8Slower: 0.25, fp32Kept: 0.25, fp32FrontSize: 3, int8FrontSize: 3, sharedFront: 2, frontsDiffer: true, variantWins: { all: 3, 'per-tensor': 1 } });
    expect(s.sharedOfSmaller).toBeCloseTo(2 / 3, 12);
    expect(s.medianRatio).toBeCloseTo((0.75 + 0.8) / 2, 12);
    expect(s.minRatio).toBeCloseTo(0.25 / 0.6, 12);
    expect(s.maxRatio).toBeCloseTo(1.8, 12);
  });

  it('calls fronts the same when the order holds and they share most members', () => {
    const same = [row('A', 0.9, 1.0, 0.5), row('B', 0.85, 0.5, 0.25), row('C', 0.8, 0.4, 0.2), row('D', 0.7, 0.6, 0.3), row('E', 0.6, 0.3, 0.15)];
    const s = summarisePrecision(same);
    expect(s.tau).toBe(1);
    expect(s.frontsDiffer).toBe(false);
    expect(s.fp32Kept).toBe(0);
  });

  it('refuses rows of several thread counts, and no rows', () => {
    expect(() => summarisePrecision([row('A', 0.9, 1, 1), { ...row('B', 0.9, 1, 1), threads: 2 }])).toThrow(/one space and thread count/);
    expect(() => summarisePrecision([])).toThrow(/no rows/);
  });

  it('calibration agreement: calibrated over random p50', () => {
    const c = calibrationAgreement([
      { space: 's', id: 'a', variant: 'all', randomP50: 1, calibratedP50: 1.02 },
      { space: 's', id: 'b', variant: 'all', randomP50: 2, calibratedP50: 1.9 },
    ]);
    expect(c.genomes).toBe(2);
    expect(c.medianRatio).toBeCloseTo(0.985, 12);
    expect(c.minRatio).toBeCloseTo(0.95, 12);
    expect(c.maxRatio).toBeCloseTo(1.02, 12);
  });

  it('sums up pairs of searches: wins, the geometric mean ratio and a one-sided sign test, by hand', () => {
    const s = summariseSearchPairs([
      { seed: 0, fp32Hypervolume: 0.2, int8Hypervolume: 0.4 },
      { seed: 1, fp32Hypervolume: 0.4, int8Hypervolume: 0.2 },
      { seed: 2, fp32Hypervolume: 0.1, int8Hypervolume: 0.2 },
    ]);
    expect(s.pairs).toBe(3);
    expect(s.int8Wins).toBe(2);
    expect(s.ratios).toEqual([2, 0.5, 2]);
    // (2 · 0.5 · 2)^(1/3) = 2^(1/3); a ratio and its inverse cancel.
    expect(s.geometricMeanRatio).toBeCloseTo(2 ** (1 / 3), 12);
    // log ratios ln2·(1, −1, 1): mean ln2/3, SD ln2 · √((4/9 + 16/9 + 4/9) / 2) = ln2 · √(4/3).
    expect(s.logRatioSd).toBeCloseTo(Math.LN2 * Math.sqrt(4 / 3), 12);
    // P(at least 2 wins of 3 at one half) = (3 + 1) / 8.
    expect(s.signTestP).toBeCloseTo(0.5, 12);
    expect(summariseSearchPairs([{ seed: 0, fp32Hypervolume: 1, int8Hypervolume: 1.1 }]).signTestP).toBe(0.5);
    expect(summariseSearchPairs(Array.from({ length: 6 }, (_, seed) => ({ seed, fp32Hypervolume: 1, int8Hypervolume: 1.1 }))).signTestP).toBeCloseTo(1 / 64, 12);
    expect(() => summariseSearchPairs([])).toThrow('no pairs');
  });
});
