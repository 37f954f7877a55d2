import { describe, expect, it } from 'vitest';
import { agreement, breakEvenCandidates, frontOverlap, perHour, seedMeans } from '../../bench/supernet-summary.js';

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
});
