import { describe, expect, it } from 'vitest';
import { decideLatency, decideOnPrediction } from '../../search/latency-decision.js';

const interval = (p50: number, low: number, high: number) => ({ p50, p90: p50 * 1.1, low, high });

describe('latency decision from a prediction interval', () => {
  it('accepts an interval wholly under the limit, without measuring', () => {
    const d = decideLatency(interval(0.8, 0.7, 0.9), 1);
    expect(d).toEqual({ state: 'inside', predicted: interval(0.8, 0.7, 0.9) });
    // Touching the limit from below is still within it (the limit is "p50 ≤ limit").
    expect(decideLatency(interval(0.9, 0.8, 1), 1).state).toBe('inside');
  });

  it('rejects an interval wholly over the limit', () => {
    expect(decideLatency(interval(1.3, 1.1, 1.5), 1).state).toBe('outside');
  });

  it('measures when the limit lies inside the interval, at either edge or the centre', () => {
    expect(decideLatency(interval(1, 0.9, 1.1), 1).state).toBe('uncertain');
    expect(decideLatency(interval(0.95, 0.85, 1.05), 1).state).toBe('uncertain');
    expect(decideLatency(interval(1.05, 1, 1.1), 1).state).toBe('uncertain');
  });

  it('measures when there is no prediction or it is not finite', () => {
    expect(decideLatency(null, 1).state).toBe('uncertain');
    expect(decideLatency(interval(NaN, NaN, NaN), 1).state).toBe('uncertain');
    expect(decideLatency(interval(0.5, 0.4, Infinity), 1).state).toBe('uncertain');
  });
});

describe('latency decision when the prediction is the latency (latency.source "predicted")', () => {
  it('decides on the p50 alone, whatever the interval', () => {
    // An interval straddling the limit would be measured under "measured"; here its p50 decides.
    expect(decideOnPrediction(interval(0.95, 0.8, 1.2), 1)).toEqual({ state: 'inside', predicted: interval(0.95, 0.8, 1.2) });
    expect(decideOnPrediction(interval(1, 0.8, 1.2), 1).state).toBe('inside');
    expect(decideOnPrediction(interval(1.05, 0.8, 1.2), 1).state).toBe('outside');
  });

  it('accepts every prediction without a limit, and measures only when there is none', () => {
    expect(decideOnPrediction(interval(5, 4, 6), undefined).state).toBe('inside');
    expect(decideOnPrediction(null, 1).state).toBe('uncertain');
    expect(decideOnPrediction(interval(NaN, NaN, NaN), undefined).state).toBe('uncertain');
  });
});
