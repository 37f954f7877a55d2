import { describe, expect, it } from 'vitest';
import { latencyStats, quantile } from '../../benchmarks/stats.js';

describe('latency statistics', () => {
  it('quantiles interpolate linearly, as numpy does', () => {
    const sorted = [1, 2, 3, 4, 10];
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 0.9)).toBeCloseTo(7.6, 10); // numpy.percentile([1,2,3,4,10], 90) = 7.6
    expect(quantile(sorted, 0.25)).toBe(2);
  });

  it('matches figures computed by hand for a small sample', () => {
    // samples 1..10 ms (unsorted on purpose)
    const s = latencyStats([5, 3, 9, 1, 7, 2, 10, 4, 8, 6]);
    expect(s.samples).toBe(10);
    expect(s.mean).toBe(5.5);
    expect([s.min, s.max]).toEqual([1, 10]);
    expect(s.p50).toBe(5.5);
    expect(s.p90).toBeCloseTo(9.1, 10);
    expect(s.p99).toBeCloseTo(9.91, 10);
    expect(s.mad).toBe(2.5); // |x − 5.5| → 0.5,0.5,1.5,1.5,…,4.5; median 2.5
    const sd = Math.sqrt(82.5 / 9);
    expect(s.cv).toBeCloseTo(sd / 5.5, 12);
    expect(s.robustCv).toBeCloseTo((1.4826 * 2.5) / 5.5, 12);
    expect(s.rme).toBeCloseTo((100 * 2.262 * (sd / Math.sqrt(10))) / 5.5, 10); // t(0.975, 9) = 2.262
  });

  it('one pre-empted run moves cv a lot and robustCv not at all', () => {
    const steady = Array.from({ length: 99 }, (_, i) => 1 + (i % 3) * 0.01);
    const a = latencyStats(steady);
    const b = latencyStats([...steady, 20]);
    expect(b.cv).toBeGreaterThan(10 * a.cv);
    expect(b.robustCv).toBeCloseTo(a.robustCv, 2);
  });

  it('refuses an empty sample', () => {
    expect(() => latencyStats([])).toThrow(RangeError);
  });
});
