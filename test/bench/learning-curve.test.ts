import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { curveAccuracy, fitLearningCurve, LearningCurveError } from '../../bench/learning-curve.js';

const BUDGETS = [1000, 2000, 4000, 8000, 24000, 80000];

describe('fitLearningCurve: acc(b) = a − c·b^(−k)', () => {
  it('recovers the parameters of an exact curve', () => {
    const truth = { a: 0.91, c: 6, k: 0.55 };
    const fit = fitLearningCurve(BUDGETS.map((images) => ({ images, accuracy: curveAccuracy(truth, images) })));
    expect(fit.k).toBeCloseTo(truth.k, 6);
    expect(fit.c).toBeCloseTo(truth.c, 4);
    expect(fit.a).toBeCloseTo(truth.a, 8);
    expect(fit.rmse).toBeLessThan(1e-9);
    expect(fit.points).toBe(BUDGETS.length);
  });

  it('fits 3 points exactly (3 parameters)', () => {
    const points = [
      { images: 2000, accuracy: 0.7 },
      { images: 6000, accuracy: 0.8 },
      { images: 20000, accuracy: 0.85 },
    ];
    const fit = fitLearningCurve(points);
    for (const p of points) expect(curveAccuracy(fit, p.images)).toBeCloseTo(p.accuracy, 8);
    // Closed form: the gaps 0.1 and 0.05 over budget ratios 3 and 10/3 give 3^(−k)·(1 − (10/3)^(−k)) / (1 − 3^(−k)) = 0.5.
    const ratio = (k: number) => (3 ** -k * (1 - (10 / 3) ** -k)) / (1 - 3 ** -k);
    expect(ratio(fit.k)).toBeCloseTo(0.5, 8);
  });

  it('with noise, no k on a fine grid does better than the fit', () => {
    const rng = seedrandom('curve-noise');
    const truth = { a: 0.88, c: 3, k: 0.4 };
    const points = BUDGETS.flatMap((images) => [0, 1].map(() => ({ images, accuracy: curveAccuracy(truth, images) + (rng() - 0.5) * 0.01 })));
    const fit = fitLearningCurve(points);
    const sse = (f: { a: number; c: number; k: number }) => points.reduce((s, p) => s + (p.accuracy - curveAccuracy(f, p.images)) ** 2, 0);
    for (let k = 0.02; k <= 3; k += 0.01) {
      // The fit with k pinned to this grid value: the best (a, c) at that k.
      const pinned = fitLearningCurve(points, { kMin: k, kMax: k + 1e-9 });
      expect(sse(fit)).toBeLessThanOrEqual(sse(pinned) + 1e-12);
    }
    expect(fit.k).toBeGreaterThan(0.2);
    expect(fit.k).toBeLessThan(0.7);
  });

  it('refuses fewer than 3 distinct budgets and bad points, naming the problem', () => {
    expect(() =>
      fitLearningCurve([
        { images: 1000, accuracy: 0.5 },
        { images: 1000, accuracy: 0.6 },
        { images: 2000, accuracy: 0.7 },
      ]),
    ).toThrow(/3 or more distinct budgets, got 2/);
    expect(() => fitLearningCurve([{ images: 0, accuracy: 0.5 }])).toThrow(LearningCurveError);
    expect(() => fitLearningCurve([{ images: 10, accuracy: Number.NaN }])).toThrow(/accuracy must be finite/);
  });
});
