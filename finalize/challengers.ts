/**
 * Before anything trains: the front members and the baselines measured in
 * one interleaved latency run — the baselines untrained, since latency does
 * not depend on weight values — and for each baseline the front member it
 * will be judged against (select.ts `selectChallengers`). The final verdict
 * is still the interleaved measurement after training; this one only
 * decides what to train.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareModels } from '../benchmarks/compare.js';
import type { Baseline } from '../space/baselines.js';
import { buildOnnxModel } from '../space/build-onnx.js';
import { ONNX_FILE } from '../space/candidate-files.js';
import { buildPlainCnnOnnx, plainCnnRandomWeights } from '../space/plain-cnn.js';
import { planNetwork } from '../space/plan.js';
import { randomWeights } from '../space/random-weights.js';
import type { DataShape } from '../space/types.js';
import { DEFAULT_LATENCY_NOISE } from './dominance.js';
import type { FrontMember } from './types.js';
import { selectChallengers, type Challenger, type FrontPoint } from './select.js';

/** A baseline's ONNX model with seeded random weights: it runs exactly as long as the trained one. */
export function untrainedBaselineOnnx(baseline: Baseline, data: DataShape): Uint8Array {
  if (baseline.kind === 'plain-cnn') return buildPlainCnnOnnx(baseline.spec, data, plainCnnRandomWeights(baseline.spec, data));
  const plan = planNetwork(baseline.genome, baseline.strides, data);
  return buildOnnxModel(plan, randomWeights(plan));
}

export interface ChallengerOptions {
  /** Measuring time per model (ms) and minimum runs, models interleaved. */
  time: number;
  iterations: number;
  /** onnxruntime intra-op threads: the run's latency setting. */
  threads: number;
  latencyNoise?: number;
}

export interface MeasuredChallengers {
  /** Front members with their search accuracy and the latency measured now; members whose model.onnx is missing or failed to run are left out. */
  front: FrontPoint[];
  /** p50 of each baseline measured now; a baseline whose measurement failed has none and no challenger. */
  baselines: Array<{ name: string; latency: number }>;
  challengers: Challenger[];
}

/** Measures the run's front and the untrained baselines interleaved, then picks each baseline's challenger. */
export async function measureChallengers(run: { dir: string; front: readonly FrontMember[] }, baselines: readonly Baseline[], data: DataShape, options: ChallengerOptions): Promise<MeasuredChallengers> {
  const front = run.front.filter((r) => r.frontDir !== null && existsSync(join(run.dir, r.frontDir, ONNX_FILE)));
  const measured = await compareModels(
    [
      ...front.map((r) => ({ name: r.id, source: join(run.dir, r.frontDir!, ONNX_FILE) })),
      ...baselines.map((b) => ({ name: b.name, source: untrainedBaselineOnnx(b, data) })),
    ],
    { time: options.time, iterations: options.iterations, session: { intraOpThreads: options.threads } },
  );
  const p50 = (i: number) => {
    const m = measured[i];
    return m.state === 'errored' ? null : m.stats.p50;
  };
  const frontPoints = front.flatMap((r, i): FrontPoint[] => {
    const latency = p50(i);
    return latency === null ? [] : [{ id: r.id, accuracy: r.accuracy, latency, score: r.rankScore }];
  });
  const baselineLatencies = baselines.flatMap((b, i) => {
    const latency = p50(front.length + i);
    return latency === null ? [] : [{ name: b.name, latency }];
  });
  return {
    front: frontPoints,
    baselines: baselineLatencies,
    challengers: selectChallengers(frontPoints, baselineLatencies, options.latencyNoise ?? DEFAULT_LATENCY_NOISE),
  };
}
