/**
 * The calibrated latency predictor as a file: coefficients over the fused-unit
 * features of latency-features.ts, a conformal interval width, and the target
 * it was built on. A predictor is only valid on the target that measured it,
 * so loading it for a target whose CPU, onnxruntime version, threads or
 * platform differ (or for another space or precision) is refused with an
 * error naming the file and the field.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../space/candidate-files.js';
import type { NetworkPlan } from '../space/plan.js';
import { searchSpaceSchema } from '../space/schema.js';
import { subspaceProblem } from '../space/subspace.js';
import type { DataShape, SearchSpaceConfig } from '../space/types.js';
import { linearPrediction } from './calibration.js';
import { LATENCY_FEATURES, latencyFeatures } from './latency-features.js';
import type { Environment } from './types.js';
import { CodedError } from '../errors.js';

/** Precisions a predictor can be built for: float32 models, or INT8 as onnx/quantize.ts makes them. */
export const PREDICTOR_PRECISIONS = ['fp32', 'int8'] as const;
/** One of {@link PREDICTOR_PRECISIONS}. */
export type PredictorPrecision = (typeof PREDICTOR_PRECISIONS)[number];

/** Fields of a target a predictor is keyed by. */
export const predictorEnvironmentSchema = z.strictObject({
  cpuModel: z.string(),
  onnxruntime: z.string(),
  /** intra-op threads of the measurement sessions */
  threads: z.number().int().positive(),
  platform: z.string(),
});
/** The key fields of a target (see {@link predictorEnvironmentSchema}). */
export type PredictorEnvironment = z.infer<typeof predictorEnvironmentSchema>;

/** zod schema of a predictor file, as `nas predictor build` writes it. */
export const predictorFileSchema = z.strictObject({
  kind: z.literal('nas-edge-latency-predictor'),
  version: z.literal(1),
  createdAt: z.string(),
  environment: predictorEnvironmentSchema,
  /**
   * sha256 of the space config and data shape, and a label for people; the config and
   * shape themselves (files from before they were written lack them), so that a run on a
   * subspace (a supernet search's narrowed space) can use the predictor.
   */
  space: z.strictObject({
    label: z.string(),
    fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
    config: searchSpaceSchema.optional(),
    data: z.strictObject({ inputChannels: z.number().int().positive(), numClasses: z.number().int().positive() }).optional(),
  }),
  precision: z.enum(PREDICTOR_PRECISIONS),
  features: z.array(z.string()),
  coefficients: z.array(z.number().min(0)),
  /** p50 → p90: the median p90/p50 ratio of the calibration measurements. */
  p90Ratio: z.number().min(1),
  interval: z.strictObject({
    /** Intended share of true latencies inside [p50·(1 − h), p50·(1 + h)]. */
    coverage: z.number().gt(0).lt(1),
    halfWidth: z.number().min(0),
  }),
  calibration: z.strictObject({
    genomes: z.array(z.strictObject({ id: z.string(), macs: z.number().min(0), measuredP50: z.number().positive(), predictedP50: z.number() })),
    /** leave-one-out MAPE on the calibration genomes, percent */
    leaveOneOutMape: z.number(),
    buildSeconds: z.number().min(0),
  }),
});
/** A predictor file's contents. */
export type PredictorFile = z.infer<typeof predictorFileSchema>;

/** A predictor file that cannot be read, or was built for another target; `code` E_PREDICTOR. */
export class PredictorFileError extends CodedError {
  readonly code = 'E_PREDICTOR';
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}: ${field}: ${message}`);
  }
}

/** The key fields of an environment measured with `threads` intra-op threads. */
export function predictorEnvironmentOf(environment: Pick<Environment, 'cpuModel' | 'onnxruntime' | 'platform'>, threads: number): PredictorEnvironment {
  return { cpuModel: environment.cpuModel, onnxruntime: environment.onnxruntime, threads, platform: environment.platform };
}

/** Identifies a space and data shape: a predictor fitted on one says nothing certain about another. */
export function spaceFingerprint(config: SearchSpaceConfig, data: DataShape): string {
  return createHash('sha256').update(JSON.stringify({ config, data })).digest('hex').slice(0, 16);
}

/** Latency interval of one prediction, in ms. */
export interface LatencyInterval {
  p50: number;
  p90: number;
  low: number;
  high: number;
}

/** Predicts a plan's p50 with its interval; pure. */
export function predictInterval(file: PredictorFile, plan: NetworkPlan): LatencyInterval {
  const p50 = linearPrediction(file.coefficients, latencyFeatures(plan));
  const h = file.interval.halfWidth;
  return { p50, p90: p50 * file.p90Ratio, low: p50 * Math.max(0, 1 - h), high: p50 * (1 + h) };
}

/** Writes a predictor atomically. */
export function savePredictor(path: string, file: PredictorFile): void {
  writeFileAtomic(path, JSON.stringify(file, null, 1) + '\n');
}

/** What a loaded predictor must match. */
export interface PredictorExpectation {
  environment: PredictorEnvironment;
  spaceFingerprint: string;
  /** The run's space and data: with them, a predictor built for a space that holds this one is accepted. */
  space?: { config: SearchSpaceConfig; data: DataShape };
  precision: PredictorPrecision;
}

/** Reads and validates a predictor file; with `expected`, refuses one built for another target, space or precision. */
export function loadPredictor(path: string, expected?: PredictorExpectation): PredictorFile {
  if (!existsSync(path)) throw new PredictorFileError(path, '(file)', "not found; build one with 'nas predictor build'");
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PredictorFileError(path, '(file)', `is not valid JSON (${(error as Error).message})`);
  }
  const parsed = predictorFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PredictorFileError(path, issue.path.join('.') || '(root)', `${issue.message}; expected a predictor written by 'nas predictor build'`);
  }
  const file = parsed.data;
  if (file.features.join(',') !== LATENCY_FEATURES.join(',') || file.coefficients.length !== LATENCY_FEATURES.length) {
    throw new PredictorFileError(path, 'features', `built with [${file.features.join(', ')}], this version uses [${LATENCY_FEATURES.join(', ')}]; rebuild it with 'nas predictor build --rebuild'`);
  }
  if (expected) checkPredictor(path, file, expected);
  return file;
}

/** Throws naming the first field where `file` differs from what this run measures on. */
export function checkPredictor(path: string, file: PredictorFile, expected: PredictorExpectation): void {
  for (const key of Object.keys(expected.environment) as Array<keyof PredictorEnvironment>) {
    if (file.environment[key] !== expected.environment[key]) {
      throw new PredictorFileError(
        path,
        `environment.${key}`,
        `built for ${JSON.stringify(file.environment[key])}, this target has ${JSON.stringify(expected.environment[key])}; rebuild with 'nas predictor build --rebuild'`,
      );
    }
  }
  if (file.space.fingerprint !== expected.spaceFingerprint) spaceMismatch(path, file, expected);
  if (file.precision !== expected.precision) {
    throw new PredictorFileError(path, 'precision', `built for ${file.precision}, this run needs ${expected.precision}`);
  }
}

/**
 * A predictor for another space is refused unless that space holds the run's,
 * on the same data shape: a subspace only draws fewer of the units the
 * predictor was fitted on.
 */
function spaceMismatch(path: string, file: PredictorFile, expected: PredictorExpectation): void {
  const built = `built for space ${file.space.label} (${file.space.fingerprint}), this run's space is ${expected.spaceFingerprint}`;
  const own = file.space;
  if (!expected.space || !own.config || !own.data) throw new PredictorFileError(path, 'space.fingerprint', built);
  const data = expected.space.data;
  if (own.data.inputChannels !== data.inputChannels || own.data.numClasses !== data.numClasses) {
    throw new PredictorFileError(path, 'space.data', `${built}: fitted on ${own.data.inputChannels}-channel input and ${own.data.numClasses} classes, this run has ${data.inputChannels} and ${data.numClasses}`);
  }
  const problem = subspaceProblem(expected.space.config, own.config, `the predictor's space (${own.label})`);
  if (problem) throw new PredictorFileError(path, `space.config.${problem.field}`, `${built}, and not within it: the run's ${problem.field} ${problem.problem}`);
}
