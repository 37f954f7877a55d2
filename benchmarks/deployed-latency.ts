/**
 * A candidate's latency at the precision it will be deployed in (the
 * search's `latency.precision`). INT8 does not change latency by one factor:
 * on AVX2 without VNNI small depthwise and 1×1 convolutions run slower in
 * INT8, on a VNNI CPU most models run faster, and by how much depends on the
 * model. So a search for deployed INT8 models measures each candidate as the
 * INT8 model compress would ship for it: the same variants (int8-variants.ts),
 * measured against fp32 in one interleaved run, the same choice.
 *
 * - `int8`: the fastest INT8 variant, whatever its speed against fp32 (a
 *   deployment that must be INT8: size, memory, an INT8-only runtime).
 * - `best`: compress's own rule, INT8 only when a variant beats fp32 by more
 *   than the noise and holds when measured again; otherwise fp32.
 *
 * An INT8 latency is the chosen variant's in the second, confirming run
 * against fp32 alone, not its figure from the run that chose it: the fastest
 * of seven noisy figures is biased low, and a search ranking by it favoured
 * candidates that had been measured lucky (bench:precision, docs/bench/precision.md).
 *
 * Calibration: the untrained candidate is quantized with one seeded batch of
 * random pixels. The kernels onnxruntime runs depend on the graph, not on
 * the scales, so the latency is that of the calibrated model
 * (bench:precision measures both to show it).
 */
import seedrandom from 'seedrandom';
import type { NetworkPlan } from '../space/plan.js';
import type { CalibrationBatch } from '../onnx/quantize.js';
import { chooseInt8, type CompareModels } from './int8-variants.js';

/** What a search's latency stands for: fp32 models, the INT8 model, or whichever of the two compress would ship. */
export const LATENCY_PRECISIONS = ['fp32', 'int8', 'best'] as const;
/** One of {@link LATENCY_PRECISIONS}. */
export type LatencyPrecision = (typeof LATENCY_PRECISIONS)[number];

/** A latency at the precision chosen for a candidate. */
export interface DeployedLatency {
  p50: number;
  p90: number;
  /** The precision the figures are of (under `best`, the winner). */
  precision: 'fp32' | 'int8';
  /** The INT8 variant measured, when `precision` is int8. */
  int8Variant?: string;
  /** fp32's p50 in the same interleaved run, for the ratio. */
  fp32P50: number;
  /** Why this precision (int8-choice.ts's words). */
  reason: string;
}

/** One seeded batch of random pixels in the plan's input shape: enough to set INT8 ranges when only latency matters. */
export function randomCalibrationBatch(plan: Pick<NetworkPlan, 'inputChannels' | 'resolution'>, seed: string): CalibrationBatch {
  const rng = seedrandom(`int8-calibration:${seed}`);
  const dims = [1, plan.inputChannels, plan.resolution, plan.resolution];
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1);
  return { data, dims };
}

export interface DeployedLatencyOptions {
  /** How models are measured against each other (a worker pool here, or a bench agent). */
  compare: CompareModels;
  /** Measuring time per model in the interleaved run (ms). */
  time: number;
  /** The deployment's intra-op threads. */
  threads: number;
  /** Calibration batches; the untrained candidate's latency needs only {@link randomCalibrationBatch}. */
  calibration: CalibrationBatch[];
}

/** Measures fp32 against its INT8 variants and returns the latency of the model `precision` deploys; throws when INT8 is required and none could be measured. */
export async function deployedLatency(fp32: Uint8Array, name: string, precision: Exclude<LatencyPrecision, 'fp32'>, options: DeployedLatencyOptions): Promise<DeployedLatency> {
  const selection = await chooseInt8(fp32, name, options.calibration, null, {
    compare: options.compare,
    latencyTime: options.time,
    session: { intraOpThreads: options.threads },
    ...(precision === 'int8' ? { maxLatencyRatio: Infinity } : {}),
  });
  const fp32P50 = selection.fp32.p50;
  if (fp32P50 === null) throw new Error(`${name}: fp32 could not be measured beside its INT8 variants`);
  const { choice, chosen } = selection;
  if (choice.state === 'int8' && chosen) {
    // The second run's figures: a search ranking by the first run's would favour candidates measured lucky.
    const c = selection.confirmation;
    if (c) return { p50: c.p50, p90: c.p90, precision: 'int8', int8Variant: chosen.name, fp32P50: c.fp32P50, reason: choice.reason };
  }
  if (precision === 'int8') throw new Error(`${name}: no INT8 model to measure (${choice.state === 'fp32' ? choice.reason : 'the chosen variant was not measured'})`);
  return { p50: fp32P50, p90: selection.fp32.p90 ?? fp32P50, precision: 'fp32', fp32P50, reason: choice.reason };
}
