/**
 * Front against hand design (pure): for every baseline, the front model that
 * dominates it — at least as accurate within the accuracy interval and no
 * slower within the latency noise — or, when none does, the latency band
 * where the search lost and why.
 */

export interface ScoredModel {
  id: string;
  name: string;
  /** Test accuracy, 0–1, and its 95% interval. */
  accuracy: number;
  accuracyLow: number;
  accuracyHigh: number;
  /** Latency p50 in ms, from the one interleaved measurement. */
  latency: number;
}

/** Relative latency difference read as noise: the harness's repeat-to-repeat spread is 1–3%. @default 0.05 */
export const DEFAULT_LATENCY_NOISE = 0.05;

/** A baseline's verdict: the front member that dominates it, or the band where none does. */
export type DominanceResult =
  | {
      state: 'dominated';
      baseline: ScoredModel;
      /** The most accurate front model among those that dominate the baseline. */
      by: ScoredModel;
      /** Accuracy points the front model has over the baseline (may be slightly negative, within the interval). */
      accuracyGain: number;
      /** Front latency / baseline latency. */
      latencyRatio: number;
    }
  | {
      state: 'not-dominated';
      baseline: ScoredModel;
      /** The most accurate front model no slower than the baseline (within noise), if any. */
      bestAtLatency: ScoredModel | null;
      /** Why: plain words naming the band. */
      reason: string;
    };

/** Whether a latency is no slower than `limit`, within the noise: the one latency test of dominance and challenger choice. */
export function noSlowerThan(latency: number, limit: number, latencyNoise = DEFAULT_LATENCY_NOISE): boolean {
  return latency <= limit * (1 + latencyNoise);
}

/** The most accurate of `models` no slower than `limit` within the noise (the faster of equals), or null. */
export function mostAccurateAtLatency<T extends { accuracy: number; latency: number }>(models: readonly T[], limit: number, latencyNoise = DEFAULT_LATENCY_NOISE): T | null {
  return models
    .filter((m) => noSlowerThan(m.latency, limit, latencyNoise))
    .reduce<T | null>((best, m) => (!best || m.accuracy > best.accuracy || (m.accuracy === best.accuracy && m.latency < best.latency) ? m : best), null);
}

/** Whether `front` dominates `baseline`: not clearly less accurate, and not clearly slower. */
export function dominatesBaseline(front: ScoredModel, baseline: ScoredModel, latencyNoise = DEFAULT_LATENCY_NOISE): boolean {
  return front.accuracy >= baseline.accuracyLow && noSlowerThan(front.latency, baseline.latency, latencyNoise);
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** One result per baseline, in the baselines' order. */
export function compareWithBaselines(front: readonly ScoredModel[], baselines: readonly ScoredModel[], latencyNoise = DEFAULT_LATENCY_NOISE): DominanceResult[] {
  return baselines.map((b) => {
    const bestAtLatency = mostAccurateAtLatency(front, b.latency, latencyNoise);
    const dominators = front.filter((f) => dominatesBaseline(f, b, latencyNoise));
    if (dominators.length) {
      const by = dominators.reduce((m, f) => (f.accuracy > m.accuracy || (f.accuracy === m.accuracy && f.latency < m.latency) ? f : m));
      return { state: 'dominated', baseline: b, by, accuracyGain: by.accuracy - b.accuracy, latencyRatio: by.latency / b.latency };
    }
    const band = `latency ≤ ${b.latency.toFixed(4)} ms`;
    const reason = bestAtLatency
      ? `in the band ${band} the most accurate front model, ${bestAtLatency.id} at ${pct(bestAtLatency.accuracy)}, is below ${b.name}'s ${pct(b.accuracy)} (interval ${pct(b.accuracyLow)}–${pct(b.accuracyHigh)})`
      : `no front model is as fast as ${b.name} (${b.latency.toFixed(4)} ms): the search found nothing in the band ${band}`;
    return { state: 'not-dominated', baseline: b, bestAtLatency, reason };
  });
}
