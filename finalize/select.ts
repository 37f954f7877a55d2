/**
 * Which front members to finalize (pure): by default the best-scored model
 * in each third of the front's latency range, plus the knee, plus each
 * baseline's challenger; or the K best-scored. A member's score is what the
 * search ranked it by: its accuracy, or in a run ranked by log-likelihood
 * (rankBy) its log-likelihood, the less noisy reading of the same thing.
 */
import { noSlowerThan } from './dominance.js';

export interface FrontPoint {
  id: string;
  /** The search's validation accuracy, 0–1: what reports show. */
  accuracy: number;
  latency: number;
  /** What the search ranked by (FrontMember.rankScore); higher is better. */
  score: number;
}

/** The highest score of `points` (the faster of equals), or null. */
function bestScored(points: readonly FrontPoint[]): FrontPoint | null {
  return points.reduce<FrontPoint | null>((m, p) => (!m || p.score > m.score || (p.score === m.score && p.latency < m.latency) ? p : m), null);
}

/**
 * The knee: the point farthest above the straight line from the fastest to
 * the best-scored point, with both axes scaled to [0, 1] — where extra
 * latency stops buying much accuracy. Null with fewer than three points.
 */
export function kneePoint(points: readonly FrontPoint[]): FrontPoint | null {
  if (points.length < 3) return null;
  const byLatency = [...points].sort((a, b) => a.latency - b.latency || b.score - a.score);
  const first = byLatency[0];
  const last = byLatency.reduce((best, p) => (p.score > best.score ? p : best), byLatency[0]);
  const lSpan = last.latency - first.latency || 1;
  const aSpan = last.score - first.score || 1;
  const x = (p: FrontPoint) => (p.latency - first.latency) / lSpan;
  const y = (p: FrontPoint) => (p.score - first.score) / aSpan;
  // Distance above the line y = x (from the first point at 0,0 to the last at 1,1).
  let best: FrontPoint | null = null;
  let bestDistance = 0;
  for (const p of byLatency) {
    const d = (y(p) - x(p)) / Math.SQRT2;
    if (d > bestDistance + 1e-12) [best, bestDistance] = [p, d];
  }
  return best;
}

/**
 * The default selection: for each third of [fastest, slowest] latency, its
 * best-scored member, then the knee; each id once, fastest first.
 */
export function selectFront(points: readonly FrontPoint[], top?: number): FrontPoint[] {
  if (top !== undefined) {
    return [...points].sort((a, b) => b.score - a.score || a.latency - b.latency).slice(0, top);
  }
  if (!points.length) return [];
  const lo = Math.min(...points.map((p) => p.latency));
  const hi = Math.max(...points.map((p) => p.latency));
  const span = hi - lo;
  const chosen = new Map<string, FrontPoint>();
  for (let band = 0; band < 3; band++) {
    const inBand = points.filter((p) => {
      const b = span === 0 ? 0 : Math.min(2, Math.floor(((p.latency - lo) / span) * 3));
      return b === band;
    });
    const best = bestScored(inBand);
    if (best) chosen.set(best.id, best);
  }
  const knee = kneePoint(points);
  if (knee) chosen.set(knee.id, knee);
  return [...chosen.values()].sort((a, b) => a.latency - b.latency);
}

/** A baseline's latency, measured beside the front members before anything trains. */
export interface BaselineLatency {
  name: string;
  latency: number;
}

/** For one baseline, the front member it will be judged against, or null where the front has nothing that fast. */
export interface Challenger {
  baseline: string;
  challenger: FrontPoint | null;
}

/**
 * For each baseline, the front member most likely to dominate it after the
 * final training: the best by the search's score among those no
 * slower than the baseline within `latencyNoise` (the dominance test's own
 * tolerance). The latency-thirds selection can pass over exactly that model
 * (a band's best sits just above a baseline's latency, say), and then a
 * baseline is reported unbeaten although the front held a model that could
 * have beaten it.
 */
export function selectChallengers(points: readonly FrontPoint[], baselines: readonly BaselineLatency[], latencyNoise: number): Challenger[] {
  return baselines.map((b) => ({ baseline: b.name, challenger: bestScored(points.filter((p) => noSlowerThan(p.latency, b.latency, latencyNoise))) }));
}
