import { describe, expect, it } from 'vitest';
import { mean, percentWithSd, sampleSd, summariseKd, type KdRow } from '../../bench/kd-summary.js';

const row = (student: string, alpha: number, seed: number, testAccuracy: number): KdRow => ({ student, params: student === 'small' ? 39610 : 262186, alpha, seed, testAccuracy });

describe('summariseKd', () => {
  // small: KD 0.90 / 0.92 / 0.91, plain 0.89 / 0.90 / 0.92 → gains +0.01, +0.02, −0.01.
  const rows = [
    row('small', 0.9, 1, 0.9),
    row('small', 0, 1, 0.89),
    row('small', 0.9, 2, 0.92),
    row('small', 0, 2, 0.9),
    row('small', 0.9, 3, 0.91),
    row('small', 0, 3, 0.92),
    // medium: seed 2 has only its KD arm (a run stopped half-way).
    row('medium', 0, 1, 0.93),
    row('medium', 0.9, 1, 0.935),
    row('medium', 0.9, 2, 0.99),
  ];
  const [small, medium] = summariseKd(rows);

  it('means and sample sds per arm, against hand sums', () => {
    expect(small.student).toBe('small');
    expect(small.seeds).toEqual([1, 2, 3]);
    expect(small.kdMean).toBeCloseTo(0.91, 12);
    expect(small.kdSd).toBeCloseTo(0.01, 12); // deviations −0.01, +0.01, 0: √(0.0002 / 2)
    expect(small.plainMean).toBeCloseTo(0.9033333333333333, 12);
    expect(small.plainSd).toBeCloseTo(Math.sqrt(((0.89 - 0.90333333) ** 2 + (0.9 - 0.90333333) ** 2 + (0.92 - 0.90333333) ** 2) / 2), 6);
  });

  it('the gain is paired by seed: its sd is that of the differences, not of the arms', () => {
    expect(small.gainMean).toBeCloseTo((0.01 + 0.02 - 0.01) / 3, 12);
    expect(small.gainSd).toBeCloseTo(sampleSd([0.01, 0.02, -0.01]), 12);
    expect(small.gainSd).toBeCloseTo(0.015275252316519465, 12);
  });

  it('a seed with one arm only is left out of both means', () => {
    expect(medium.seeds).toEqual([1]);
    expect(medium.kdMean).toBeCloseTo(0.935, 12);
    expect(medium.plainMean).toBeCloseTo(0.93, 12);
    expect(medium.kdSd).toBe(0);
    expect(medium.params).toBe(262186);
  });
});

describe('formatting', () => {
  it('percent with sd, signed gains', () => {
    expect(percentWithSd(0.7213, 0.0059)).toBe('72.13 ± 0.59');
    expect(percentWithSd(0.0117, 0.02, true)).toBe('+1.17 ± 2.00');
    expect(percentWithSd(-0.002, 0.0157, true)).toBe('-0.20 ± 1.57');
  });
  it('mean of nothing is NaN, sd of one value 0', () => {
    expect(mean([])).toBeNaN();
    expect(sampleSd([0.5])).toBe(0);
  });
});
