/**
 * The genomes `npm run bench:fidelity` trains: `sampled` distinct genomes of
 * the space drawn with seed `fidelity:<seed>`, sorted by the proxy evaluator's
 * analytic latency, and the middle genome of each of `count` equal bins of
 * that order. Shared with the test that checks the proxy evaluator's spread
 * against what the bench measured on these same genomes. Deterministic.
 */
import seedrandom from 'seedrandom';
import { ProxyEvaluator } from '../search/evaluators.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { evenlySpaced } from './fidelity-summary.js';

export interface FidelityGenome {
  id: string;
  genome: Genome;
  /** The proxy evaluator's analytic latency (ms): the order the bins follow. */
  latencyMs: number;
}

/** `count` genomes spread over the analytic latency of up to `sampled` distinct ones; a RangeError when fewer than `count` could be drawn. */
export function fidelityGenomes(space: MobileNetSpace, o: { seed: number; sampled: number; count: number }): { chosen: FidelityGenome[]; distinct: number } {
  const rng = seedrandom(`fidelity:${o.seed}`);
  const pool = new Map<string, Genome>();
  for (let tries = 0; pool.size < o.sampled && tries < o.sampled * 20; tries++) {
    const g = space.sample(rng);
    pool.set(space.id(g), g);
  }
  const analytic = new ProxyEvaluator(space);
  const byLatency = [...pool.entries()].map(([id, genome]) => ({ id, genome, latencyMs: analytic.predictLatency(genome) })).sort((a, b) => a.latencyMs - b.latencyMs || a.id.localeCompare(b.id));
  if (byLatency.length < o.count) throw new RangeError(`only ${byLatency.length} distinct genomes were sampled, ${o.count} wanted`);
  return { chosen: evenlySpaced(byLatency.length, o.count).map((i) => byLatency[i]), distinct: pool.size };
}
