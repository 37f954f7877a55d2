/**
 * Whether a candidate's latency needs measuring, given a predicted interval
 * and the limit: a pure function the engine calls before measuring. An
 * interval wholly under the limit is accepted on the prediction, one wholly
 * over it is rejected, and one that straddles it is measured.
 */

/** A predicted latency and the interval the true value is expected in (ms). */
export interface PredictedLatency {
  p50: number;
  p90: number;
  low: number;
  high: number;
}

/** What to do about a candidate's latency, keyed on `state`. */
export type LatencyDecision =
  /** Certainly within the limit: use the prediction, skip the measurement. */
  | { state: 'inside'; predicted: PredictedLatency }
  /** Certainly over the limit: reject without measuring. */
  | { state: 'outside'; predicted: PredictedLatency }
  /** The limit lies inside the interval (or there is no prediction): measure. */
  | { state: 'uncertain' };

/** Decides on `predicted` against `limitMs`; null predictions are uncertain. */
export function decideLatency(predicted: PredictedLatency | null, limitMs: number): LatencyDecision {
  if (predicted === null || ![predicted.p50, predicted.low, predicted.high].every(Number.isFinite)) return { state: 'uncertain' };
  if (predicted.high <= limitMs) return { state: 'inside', predicted };
  if (predicted.low > limitMs) return { state: 'outside', predicted };
  return { state: 'uncertain' };
}

/**
 * With latency.source "predicted" the prediction is the latency: its p50
 * against `limitMs` (none: every candidate is inside). The interval is not
 * consulted, since nothing will be measured to settle it. A null prediction
 * (an evaluator without a predictor) is uncertain, so it is measured.
 */
export function decideOnPrediction(predicted: PredictedLatency | null, limitMs: number | undefined): LatencyDecision {
  if (predicted === null || !Number.isFinite(predicted.p50)) return { state: 'uncertain' };
  return limitMs !== undefined && predicted.p50 > limitMs ? { state: 'outside', predicted } : { state: 'inside', predicted };
}
