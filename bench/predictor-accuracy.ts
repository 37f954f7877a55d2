/**
 * How well a latency predictor's figures match measurements: the summary
 * statistics bench/predictor.ts reports (error, share within a band, rank
 * agreement). Only the bench reports them; the predictor itself
 * (benchmarks/calibration.ts) needs none.
 */
/** Mean absolute percentage error of predictions, in percent. */
export function meanAbsolutePercentError(predicted: readonly number[], measured: readonly number[]): number {
  return (100 * predicted.reduce((s, p, i) => s + Math.abs(p - measured[i]) / measured[i], 0)) / predicted.length;
}

/** Share (0–1) of predictions within ±`percent`% of the measurement. */
export function shareWithin(predicted: readonly number[], measured: readonly number[], percent: number): number {
  return predicted.filter((p, i) => Math.abs(p - measured[i]) <= (percent / 100) * measured[i]).length / predicted.length;
}

/** Kendall's τ-a: (concordant − discordant) / pairs; ties count as neither. */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  let score = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      pairs++;
      score += Math.sign(a[i] - a[j]) * Math.sign(b[i] - b[j]);
    }
  }
  return pairs ? score / pairs : NaN;
}
