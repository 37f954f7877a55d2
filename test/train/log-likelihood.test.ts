import { describe, expect, it } from 'vitest';
import { meanLogLikelihood } from '../../train/evaluate.js';

describe('meanLogLikelihood', () => {
  it('is the mean log-softmax of the true class, worked by hand', () => {
    // Row 1: softmax(0, ln 3) = (1/4, 3/4), true class 1. Row 2: (1/2, 1/2), true class 0.
    const logits = new Float32Array([0, Math.log(3), 0, 0]);
    expect(meanLogLikelihood(logits, new Int32Array([1, 0]), 2)).toBeCloseTo((Math.log(0.75) + Math.log(0.5)) / 2, 6);
  });

  it('stays finite for large logits, and is 0 for no images', () => {
    expect(meanLogLikelihood(new Float32Array([1000, 1000, 990]), new Int32Array([2]), 3)).toBeCloseTo(-10 - Math.log(2 + Math.exp(-10)), 4);
    expect(meanLogLikelihood(new Float32Array([]), new Int32Array([]), 3)).toBe(0);
  });
});
