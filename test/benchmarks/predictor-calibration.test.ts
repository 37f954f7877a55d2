import { describe, expect, it } from 'vitest';
import { conformalHalfWidth, fitRelativeNonNegative, fitScaleOffset, leaveOneOutRelativeResiduals, nonNegativeLeastSquares } from '../../benchmarks/calibration.js';
import { kendallTau, meanAbsolutePercentError, shareWithin } from '../../bench/predictor-accuracy.js';

describe('calibration maths', () => {
  it('fits a scale and offset by least squares, as computed by hand', () => {
    // x = 1,2,3,4; y = 2,3,5,6: x̄ = 2.5, ȳ = 4, Sxy = 3 + 0.5 + 0.5 + 3 = 7, Sxx = 5 → scale 1.4, offset 4 − 1.4·2.5 = 0.5.
    const { scale, offset } = fitScaleOffset([1, 2, 3, 4], [2, 3, 5, 6]);
    expect(scale).toBeCloseTo(1.4, 12);
    expect(offset).toBeCloseTo(0.5, 12);
    expect(() => fitScaleOffset([2, 2], [1, 3])).toThrow(/distinct/);
  });

  it('solves non-negative least squares: the unconstrained answer when it is positive, a clamped one otherwise', () => {
    // Exact system: x = (1, 2).
    const A = [[1, 0], [0, 1], [1, 1]];
    const x = nonNegativeLeastSquares(A, [1, 2, 3]);
    expect(x[0]).toBeCloseTo(1, 6);
    expect(x[1]).toBeCloseTo(2, 6);
    // Unconstrained LS of [[1,1],[1,2],[1,3]]·x ≈ [3,2,1] is (4, −1); with x ≥ 0 the slope is 0
    // and the intercept is the mean, 2.
    const clamped = nonNegativeLeastSquares([[1, 1], [1, 2], [1, 3]], [3, 2, 1]);
    expect(clamped[1]).toBe(0);
    expect(clamped[0]).toBeCloseTo(2, 6);
  });

  it('fits for relative error: exact data is recovered; a 1% and a 100% miss weigh by their targets', () => {
    const X = [[1, 1], [1, 2], [1, 4], [1, 8]];
    const y = X.map(([c, f]) => 0.5 * c + 0.25 * f);
    const coefficients = fitRelativeNonNegative(X, y);
    expect(coefficients[0]).toBeCloseTo(0.5, 6);
    expect(coefficients[1]).toBeCloseTo(0.25, 6);
    // Single constant feature: minimising Σ((c − yᵢ)/yᵢ)² gives c = Σ(1/yᵢ) / Σ(1/yᵢ²).
    const ys = [1, 2, 4];
    const c = fitRelativeNonNegative(ys.map(() => [1]), ys)[0];
    const expected = (1 + 1 / 2 + 1 / 4) / (1 + 1 / 4 + 1 / 16);
    expect(c).toBeCloseTo(expected, 6);
  });

  it('leave-one-out residuals and the conformal half-width', () => {
    // Constant model on ys = 1, 2, 4: predicting 4 from {1, 2} gives c = 1.5/1.25 = 1.2, residual (4 − 1.2)/1.2.
    const ys = [1, 2, 4];
    const residuals = leaveOneOutRelativeResiduals(ys.map(() => [1]), ys);
    expect(residuals[2]).toBeCloseTo((4 - 1.2) / 1.2, 6);
    // ⌈(n+1)·0.9⌉ = ⌈9.9⌉ = 10th smallest |r| of ten residuals: the largest.
    const r = [0.01, -0.02, 0.03, -0.04, 0.05, 0.06, -0.07, 0.08, 0.09, -0.1];
    expect(conformalHalfWidth(r, 0.9)).toBe(0.1);
    // ⌈11·0.5⌉ = 6th smallest.
    expect(conformalHalfWidth(r, 0.5)).toBe(0.06);
    // Too few residuals for the rank: the largest, doubled.
    expect(conformalHalfWidth([0.1, -0.2], 0.9)).toBeCloseTo(0.4, 12);
  });

  it('scores predictions: MAPE, share within ±10%, Kendall τ', () => {
    const measured = [1, 2, 4, 8];
    const predicted = [1.05, 1.8, 4.8, 8];
    expect(meanAbsolutePercentError(predicted, measured)).toBeCloseTo((5 + 10 + 20 + 0) / 4, 10);
    expect(shareWithin(predicted, measured, 10)).toBe(0.75);
    expect(kendallTau(predicted, measured)).toBe(1);
    // One swapped pair of six: (5 − 1)/6.
    expect(kendallTau([1, 3, 2, 4], [1, 2, 3, 4])).toBeCloseTo(4 / 6, 12);
  });
});
