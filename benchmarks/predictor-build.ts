/**
 * Builds a calibrated latency predictor for one target: samples genomes
 * spread over the space's MAC range (seeded), measures each whole network
 * (fp32, or INT8 as onnx/quantize.ts makes it) on the target, and fits
 * non-negative per-feature costs for relative error. The interval comes from
 * leave-one-out residuals (split conformal). Whole networks are measured
 * rather than parts alone, so input/output copies a part pays alone never
 * bias the sum; the build time is bounded by a budget in seconds.
 */
import { existsSync } from 'node:fs';
import seedrandom from 'seedrandom';
import { quantizeModel } from '../onnx/quantize.js';
import { randomCalibrationBatch } from './deployed-latency.js';
import { buildOnnxModel } from '../space/build-onnx.js';
import { randomWeights } from '../space/random-weights.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { conformalHalfWidth, fitRelativeNonNegative, leaveOneOutRelativeResiduals, linearPrediction } from './calibration.js';
import { captureEnvironment } from './environment.js';
import { BenchError } from './errors.js';
import { LATENCY_FEATURES, latencyFeatures } from './latency-features.js';
import type { LatencyPool } from './pool.js';
import {
  loadPredictor,
  predictorEnvironmentOf,
  savePredictor,
  spaceFingerprint,
  type PredictorEnvironment,
  type PredictorFile,
  type PredictorPrecision,
} from './predictor-file.js';
import { measureRemote, type RemoteTarget } from './remote.js';
import { environmentSchema } from './schema.js';
import type { Measurement, MeasureOptions } from './types.js';

/** Calibration genomes measured when not told otherwise. */
export const DEFAULT_CALIBRATION_GENOMES = 30;
/** Build time limit (s) when not told otherwise. */
export const DEFAULT_BUILD_BUDGET_SECONDS = 600;
/** Fewer measured genomes than this cannot give a fit and an interval. */
export const MIN_CALIBRATION_GENOMES = 3;
/** Intended coverage of the prediction interval. */
export const DEFAULT_INTERVAL_COVERAGE = 0.9;
/** Per-network measurement settings: whole networks, enough runs for a stable median. */
/**
 * One calibration measurement: a second of runs. On a shared VM a model's
 * runs switch between a fast and a ~1.7× slower state for tens to hundreds
 * of milliseconds at a time; measured twice at 250 ms, 16 small-space models'
 * fastest runs agreed within ±10% for 69% of them, at 1 s for 94% (p50: 50%
 * and 69%; AMD EPYC Zen3 VM, idle).
 */
export const CALIBRATION_MEASURE_OPTIONS: MeasureOptions = { iterations: 100, time: 1000, warmupIterations: 10, warmupTime: 100, maxRepeats: 1 };

/** Where measurements run: this machine's pool, or a bench agent. */
export interface LatencyTarget {
  measure(bytes: Uint8Array, name: string, options: MeasureOptions): Promise<Measurement>;
  /** The target's key fields, for `threads` intra-op threads. */
  environment(threads: number): Promise<PredictorEnvironment>;
}

/** This machine: measurements in `pool`, environment from benchmarks/environment.ts. */
export function localTarget(pool: LatencyPool): LatencyTarget {
  return {
    measure: (bytes, name, options) => pool.measure(bytes, name, options),
    environment: async (threads) => predictorEnvironmentOf(captureEnvironment(), threads),
  };
}

/** A bench agent: measurements over HTTP, environment from its /health. */
export function remoteTarget(target: RemoteTarget): LatencyTarget {
  return {
    measure: (bytes, name, options) => measureRemote(target, bytes, name, options),
    environment: async (threads) => {
      let json: unknown;
      try {
        json = await (await fetch(new URL('/health', target.url))).json();
      } catch (error) {
        throw new BenchError(`agent ${target.url}/health unreachable or not JSON (${(error as Error).message})`);
      }
      const parsed = environmentSchema.safeParse((json as { environment?: unknown })?.environment);
      if (!parsed.success) throw new BenchError(`agent ${target.url}/health: no valid environment in its answer`);
      return predictorEnvironmentOf(parsed.data, threads);
    },
  };
}

/** The ONNX bytes whose latency a predictor of `precision` stands for. */
export async function candidateModelBytes(space: MobileNetSpace, genome: Genome, precision: PredictorPrecision): Promise<Uint8Array> {
  const plan = space.plan(genome);
  const fp32 = buildOnnxModel(plan, randomWeights(plan));
  if (precision === 'fp32') return fp32;
  // Latency does not depend on the calibration values; one seeded batch sets the ranges.
  return (await quantizeModel(fp32, space.id(genome), [randomCalibrationBatch(plan, space.id(genome))])).bytes;
}

/**
 * `count` distinct genomes spread over the MAC range: many are sampled, sorted
 * by MACs and taken at even quantiles, so both ends of the space are fitted.
 */
export function spreadGenomes(space: MobileNetSpace, count: number, seed: string): Genome[] {
  const rng = seedrandom(seed);
  const seen = new Map<string, { genome: Genome; macs: number }>();
  for (let i = 0; i < count * 20 && seen.size < count * 20; i++) {
    const g = space.sample(rng);
    seen.set(space.id(g), { genome: g, macs: space.cost(g).macs });
  }
  const sorted = [...seen.values()].sort((a, b) => a.macs - b.macs);
  if (sorted.length <= count) return sorted.map((s) => s.genome);
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.round((i * (sorted.length - 1)) / Math.max(1, count - 1)));
  return [...picked].map((i) => sorted[i].genome);
}

/** How {@link buildPredictor} measures and fits; all optional. */
export interface PredictorBuildOptions {
  /** @default 'fp32' */
  precision?: PredictorPrecision;
  /** Calibration genomes to measure. @default 30 */
  genomes?: number;
  /** Stop measuring after this many seconds (keeping what was measured). @default 600 */
  budgetSeconds?: number;
  /** intra-op threads of the measurements (the search's latency.threads). @default 1 */
  threads?: number;
  /** @default {@link CALIBRATION_MEASURE_OPTIONS} */
  measure?: MeasureOptions;
  /** @default 'predictor-calibration' */
  seed?: string;
  /** A label for the space in the file. @default 'custom' */
  spaceLabel?: string;
  /** @default 0.9 */
  coverage?: number;
  onProgress?: (done: number, total: number, id: string) => void;
}

/** Measures calibration genomes on `target` and fits a predictor file. */
export async function buildPredictor(space: MobileNetSpace, target: LatencyTarget, options: PredictorBuildOptions = {}): Promise<PredictorFile> {
  const started = performance.now();
  const precision = options.precision ?? 'fp32';
  const threads = options.threads ?? 1;
  const budgetMs = (options.budgetSeconds ?? DEFAULT_BUILD_BUDGET_SECONDS) * 1000;
  const count = options.genomes ?? DEFAULT_CALIBRATION_GENOMES;
  const environment = await target.environment(threads);
  const measureOptions: MeasureOptions = { ...CALIBRATION_MEASURE_OPTIONS, ...options.measure, session: { ...options.measure?.session, intraOpThreads: threads } };
  // Measured in an interleaved order (small, large, small…) so a load change mid-build spreads over the range.
  const genomes = spreadGenomes(space, count, options.seed ?? 'predictor-calibration');
  const order = genomes.map((_, i) => (i % 2 === 0 ? i / 2 : genomes.length - 1 - (i - 1) / 2));
  const rows: CalibrationRow[] = [];
  for (const index of order) {
    if (performance.now() - started > budgetMs) break;
    const genome = genomes[index];
    const id = space.id(genome);
    const m = await target.measure(await candidateModelBytes(space, genome, precision), id, measureOptions);
    if (m.state === 'errored') throw new BenchError(`predictor calibration, ${id}: ${m.error.message}`);
    rows.push({ id, macs: space.cost(genome).macs, features: latencyFeatures(space.plan(genome)), p50: m.stats.p50, p90: m.stats.p90 });
    options.onProgress?.(rows.length, genomes.length, id);
  }
  if (rows.length < MIN_CALIBRATION_GENOMES) {
    throw new BenchError(`predictor build: only ${rows.length} genomes measured within ${budgetMs / 1000} s; at least ${MIN_CALIBRATION_GENOMES} are needed (raise --budget-seconds)`);
  }
  return fitPredictor(rows, {
    environment,
    space,
    precision,
    spaceLabel: options.spaceLabel,
    coverage: options.coverage,
    buildSeconds: (performance.now() - started) / 1000,
  });
}

/** One measured calibration genome. */
export interface CalibrationRow {
  id: string;
  macs: number;
  features: number[];
  p50: number;
  p90: number;
}

/** Fits a predictor file to measured calibration rows; pure apart from the timestamp. */
export function fitPredictor(
  rows: readonly CalibrationRow[],
  meta: { environment: PredictorEnvironment; space: MobileNetSpace; precision: PredictorPrecision; spaceLabel?: string; coverage?: number; buildSeconds: number },
): PredictorFile {
  const X = rows.map((r) => r.features);
  const y = rows.map((r) => r.p50);
  const coefficients = fitRelativeNonNegative(X, y);
  const residuals = leaveOneOutRelativeResiduals(X, y);
  const coverage = meta.coverage ?? DEFAULT_INTERVAL_COVERAGE;
  const ratios = rows.map((r) => r.p90 / r.p50).sort((a, b) => a - b);
  return {
    kind: 'nas-edge-latency-predictor',
    version: 1,
    createdAt: new Date().toISOString(),
    environment: meta.environment,
    space: {
      label: meta.spaceLabel ?? 'custom',
      fingerprint: spaceFingerprint(meta.space.config, meta.space.data),
      config: meta.space.config,
      data: { inputChannels: meta.space.data.inputChannels, numClasses: meta.space.data.numClasses },
    },
    precision: meta.precision,
    features: [...LATENCY_FEATURES],
    coefficients,
    p90Ratio: Math.max(1, ratios[Math.floor(ratios.length / 2)]),
    interval: { coverage, halfWidth: conformalHalfWidth(residuals, coverage) },
    calibration: {
      genomes: rows.map((r) => ({ id: r.id, macs: r.macs, measuredP50: r.p50, predictedP50: linearPrediction(coefficients, r.features) })),
      leaveOneOutMape: (100 * residuals.reduce((s, r) => s + Math.abs(r), 0)) / residuals.length,
      buildSeconds: meta.buildSeconds,
    },
  };
}

/** What {@link ensurePredictor} did. */
export type EnsuredPredictor = { state: 'reused'; file: PredictorFile } | { state: 'built'; file: PredictorFile };

/**
 * Reuses the predictor at `path` when it was built for this target, space and
 * precision; refuses it (PredictorFileError naming the field) when it was
 * built for another, unless `rebuild`; otherwise builds and writes one.
 */
export async function ensurePredictor(
  path: string,
  space: MobileNetSpace,
  target: LatencyTarget,
  options: PredictorBuildOptions & { rebuild?: boolean } = {},
): Promise<EnsuredPredictor> {
  if (existsSync(path) && !options.rebuild) {
    const file = loadPredictor(path, {
      environment: await target.environment(options.threads ?? 1),
      spaceFingerprint: spaceFingerprint(space.config, space.data),
      precision: options.precision ?? 'fp32',
    });
    return { state: 'reused', file };
  }
  const file = await buildPredictor(space, target, options);
  savePredictor(path, file);
  return { state: 'built', file };
}
