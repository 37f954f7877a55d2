/**
 * One candidate's training as one plain function: a job (data only) in, the
 * training result and the candidate's files as bytes out. The local Piscina
 * pool (train-worker.ts) and the queue workers of `nas worker` run this same
 * function. A job is validated with zod — its genome with the space schema
 * and against the space's choices — before anything is built; nothing in it
 * is used as a path or executed: the data comes from where this machine was
 * told (`dataSpec`), and must have the content hash the job names.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { describeGenome, exportOnnx, writeFileAtomic, GENOME_FILE, ONNX_FILE, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, tfjsArtifacts } from '../space/candidate-files.js';
import { genomeId } from '../space/genome.js';
import { planNetwork } from '../space/plan.js';
import type { Genome } from '../space/types.js';
import { genomeSchema, parseGenome, parseSearchSpace, searchSpaceSchema, SpaceConfigError } from '../space/schema.js';
import { BACKENDS, selectBackend } from './backend.js';
import { DatasetError } from './datasets/errors.js';
import { loadDataset } from './datasets/load.js';
import { fingerprint, prepareData, trainingImagesOutsideSubset, withTrainingSubset, type PreparedData } from './datasets/prepared.js';
import { accuracyFromLogits, meanLogLikelihood } from './evaluate.js';
import { CHECKPOINT_FILE, decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from './checkpoint.js';
import { trainCandidate } from './distill.js';
import { onnxEvaluator } from './onnx-evaluate.js';
import { requireCachedTeacher, type TeacherResult } from './teacher.js';
import type { Dataset, TensorSplit } from './types.js';
import { CodedError } from '../errors.js';

const hex = (digits: number) => z.string().regex(new RegExp(`^[0-9a-f]{${digits}}$`), `expected ${digits} lowercase hex digits`);

/** The data a queued job trains on, as a search's and a finalization's jobs carry it. */
export const jobDataSchema = z.strictObject({
  /** The run's data as the user named it: for messages, and used to load only when it is a built-in name. */
  name: z.string().max(4096),
  /** {@link datasetContentHash} of the run's data. */
  contentHash: hex(16),
  validationFraction: z.number().gt(0).lt(1),
  seed: z.number().int(),
  subset: z.number().int().positive().optional(),
});

/** A training job: everything is data, checked field by field. */
export const trainingJobSchema = z.strictObject({
  /** The search space the genome belongs to: the genome's choices are checked against it, strides come from it. */
  space: searchSpaceSchema,
  genome: genomeSchema,
  data: jobDataSchema.extend({
    /**
     * Training-split images outside `subset` (at most this many, a seeded draw
     * the same for every candidate) validated on beside the validation split:
     * the accuracy that ranks candidates is read on both together.
     */
    outsideSubset: z.number().int().positive().optional(),
  }),
  /** Teacher logits by their cache key (a content hash), or null for no distillation. */
  teacherKey: hex(20).nullable(),
  options: z.strictObject({
    budget: z.union([z.strictObject({ epochs: z.number().positive().max(1000) }), z.strictObject({ images: z.number().int().positive() })]),
    batchSize: z.number().int().positive().max(65536),
    optimizer: z.enum(['sgd', 'adam']),
    learningRate: z.number().positive().optional(),
    distillation: z.strictObject({ temperature: z.number().positive(), alpha: z.number().min(0).max(1) }),
    augment: z.boolean(),
    seed: z.number().int().min(0).max(2 ** 32 - 1),
    /** Seed of the batch order and augmentation when it is not `seed` (a search's shared data order). */
    dataSeed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    /** Return the end-of-training checkpoint among the files (a later promotion trains on from it). */
    keepCheckpoint: z.boolean().optional(),
  }),
  /**
   * A promotion: the checkpoint (base64 of train/checkpoint.ts's format) of this
   * candidate's previous rung, trained on to `options.budget` images in all.
   */
  continueFrom: z.base64().optional(),
  backend: z.enum([...BACKENDS, 'auto']),
});
export type TrainingJob = z.output<typeof trainingJobSchema>;

/** A job payload that is not what it must be: names the field. */
export class TrainingJobError extends CodedError {
  readonly code = 'E_TRAINING_JOB';
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly source = 'training job',
  ) {
    super(`${source}: ${field}: ${problem}`);
  }
}

/** Validates a job payload: its shape, the space's own checks, and the genome against the space. */
export function parseTrainingJob(value: unknown, source = 'training job'): TrainingJob {
  const parsed = trainingJobSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    let problem = issue.message;
    if (issue.code === 'unrecognized_keys') {
      field = [field, (issue as { keys: string[] }).keys[0]].filter(Boolean).join('.');
      problem = 'unknown field';
    }
    throw new TrainingJobError(field || '(root)', problem, source);
  }
  try {
    parseSearchSpace(parsed.data.space);
  } catch (error) {
    if (error instanceof SpaceConfigError) throw new TrainingJobError(`space.${error.field}`, error.problem, source);
    throw error;
  }
  try {
    parseGenome(parsed.data.genome, parsed.data.space);
  } catch (error) {
    if (error instanceof SpaceConfigError) throw new TrainingJobError(`genome.${error.field}`, error.problem, source);
    throw error;
  }
  if (parsed.data.data.outsideSubset !== undefined && parsed.data.data.subset === undefined) {
    throw new TrainingJobError('data.outsideSubset', 'needs data.subset: only a subset leaves training images out to validate on', source);
  }
  return parsed.data;
}

/**
 * Content hash of a dataset: every split's pixels and labels (16 hex digits).
 * Equal only when a worker trains and validates on exactly the search's images.
 */
export function datasetContentHash(dataset: Dataset): string {
  const hash = createHash('sha256').update(`classes:${dataset.numClasses};train:${fingerprint(dataset.train)};test:${fingerprint(dataset.test)}`);
  if (dataset.validation) hash.update(`;validation:${fingerprint(dataset.validation)}`);
  return hash.digest('hex').slice(0, 16);
}

/** What a training thread runs: a job, and where this machine reads the data from. */
export interface TrainingTask {
  job: TrainingJob;
  /** `--data` of this machine: an alias or a path given by its user, never taken from a job. */
  dataSpec: string;
}

/** A candidate directory's files by name (genome.json, model.onnx, model.json, weights.bin). */
export type CandidateFiles = Record<string, Uint8Array>;

/** What training one job yields. */
export interface TrainingJobResult {
  id: string;
  /** Accuracy on the validation split and the job's images outside the subset together: what ranks candidates. */
  accuracy: number;
  /** Images `accuracy` was read on. */
  accuracyImages: number;
  /** Accuracy on the validation split alone. */
  validationAccuracy: number;
  /** Mean log-probability of the true class on the images `accuracy` was read on (≤ 0): what `"rankBy": "log-likelihood"` ranks by. */
  logLikelihood?: number;
  trainSeconds: number;
  imagesPerSecond: number;
  lossCurve: number[];
  backend: string;
  files: CandidateFiles;
}

/** The files a candidate directory holds; see space/candidate-files.ts. */
export const CANDIDATE_FILE_NAMES = [GENOME_FILE, ONNX_FILE, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE] as const;
/** Files a candidate directory may also hold: the end-of-training checkpoint of a multi-fidelity search. */
export const OPTIONAL_CANDIDATE_FILE_NAMES = [CHECKPOINT_FILE] as const;

// Loaded once per thread (or process) and reused by every job with the same data.
let cachedData: { key: string; contentHash: string; data: PreparedData; outside: TensorSplit | null } | null = null;

/** The job's training data, and the training images outside its subset that it also validates on (null: none asked). */
function dataFor(task: TrainingTask): { data: PreparedData; outside: TensorSplit | null } {
  const { job, dataSpec } = task;
  const key = JSON.stringify([dataSpec, job.data.validationFraction, job.data.seed, job.data.subset, job.data.outsideSubset]);
  if (cachedData?.key !== key) {
    const dataset = loadDataset(dataSpec);
    const contentHash = datasetContentHash(dataset);
    const full = prepareData(dataset, { validationFraction: job.data.validationFraction, seed: job.data.seed });
    const { subset, outsideSubset } = job.data;
    const data = subset ? withTrainingSubset(full, subset, job.data.seed) : full;
    const outside = subset && outsideSubset ? trainingImagesOutsideSubset(full, subset, job.data.seed, outsideSubset) : null;
    cachedData = { key, contentHash, data, outside };
  }
  if (cachedData.contentHash !== job.data.contentHash) {
    throw new DatasetError(
      dataSpec,
      `content hash ${cachedData.contentHash} is not the search's data '${job.data.name}' (${job.data.contentHash}); give this worker the search's data with --data`,
    );
  }
  return { data: cachedData.data, outside: cachedData.outside };
}

function teacherFor(key: string | null): TeacherResult | null {
  return key === null ? null : requireCachedTeacher(key);
}

/** Trains one candidate: see the file comment. Throws {@link TrainingJobError} or {@link DatasetError} before building anything. */
export async function runTrainingJob(task: TrainingTask): Promise<TrainingJobResult> {
  const job = parseTrainingJob(task.job);
  const { data, outside } = dataFor({ job, dataSpec: task.dataSpec });
  const teacher = teacherFor(job.teacherKey);
  await selectBackend(job.backend);
  const strides = { stem: job.space.stemStride, stages: job.space.stages.map((s) => s.stride) };
  const plan = planNetwork(job.genome, strides, { numClasses: data.numClasses, inputChannels: data.train.channels });
  const model = buildTfjsModel(plan, job.options.seed);
  try {
    const { augment, keepCheckpoint, ...options } = job.options;
    const continueFrom = job.continueFrom === undefined ? null : decodeCheckpoint(Buffer.from(job.continueFrom, 'base64'), 'training job: continueFrom');
    let last: TrainingCheckpoint | null = null;
    const evaluator = onnxEvaluator(plan);
    const result = await trainCandidate(model, data, teacher, {
      ...options,
      augment: augment ? undefined : false,
      evaluateTest: false,
      evaluator,
      continueFrom,
      ...(keepCheckpoint ? { onEpoch: (checkpoint: TrainingCheckpoint) => void (last = checkpoint) } : {}),
    });
    const files = await candidateFilesOf(model, job.genome, strides, data);
    if (last) files[CHECKPOINT_FILE] = encodeCheckpoint(last);
    const validationImages = data.validation.count;
    let accuracy = result.validationAccuracy;
    let logLikelihood = result.validationLogLikelihood;
    let accuracyImages = validationImages;
    if (outside && outside.count > 0) {
      // The trained (and batch-norm recalibrated) weights, as the validation split saw them.
      const [logits] = await evaluator.logits(model, [outside]);
      const outsideCorrect = accuracyFromLogits(logits, outside.labels, data.numClasses) * outside.count;
      const outsideLogLikelihood = meanLogLikelihood(logits, outside.labels, data.numClasses) * outside.count;
      accuracyImages = validationImages + outside.count;
      accuracy = (result.validationAccuracy * validationImages + outsideCorrect) / accuracyImages;
      logLikelihood = (result.validationLogLikelihood * validationImages + outsideLogLikelihood) / accuracyImages;
    }
    return {
      id: genomeId(job.genome),
      accuracy,
      accuracyImages,
      validationAccuracy: result.validationAccuracy,
      logLikelihood,
      trainSeconds: result.trainSeconds,
      imagesPerSecond: result.trainImagesPerSecond,
      lossCurve: result.lossCurve,
      backend: result.backend.name,
      files,
    };
  } finally {
    model.dispose();
  }
}

/** A model's candidate files as bytes: genome.json (with the data's preprocessing), model.onnx, and the tfjs model. */
export async function candidateFilesOf(model: LayersModel, genome: Genome, strides: { stem: number; stages: number[] }, data: PreparedData): Promise<CandidateFiles> {
  const file = describeGenome(genome, strides, {
    numClasses: data.numClasses,
    inputChannels: data.train.channels,
    mean: data.normalisation.mean,
    std: data.normalisation.std,
    classNames: data.classNames,
  });
  const { json, weights } = await tfjsArtifacts(model);
  return {
    [TFJS_WEIGHTS_FILE]: weights,
    [TFJS_MODEL_FILE]: Buffer.from(json),
    [ONNX_FILE]: exportOnnx(file, model),
    [GENOME_FILE]: Buffer.from(JSON.stringify(file, null, 2) + '\n'),
  };
}

/**
 * Writes a candidate's files into `dir`, each atomically, in an order that
 * leaves genome.json last (a directory with it is complete). Only the known
 * names are written, whatever else `files` holds.
 */
export function writeCandidateFiles(dir: string, files: CandidateFiles): void {
  mkdirSync(dir, { recursive: true });
  // An optional file the new files lack is stale (a top-rung result keeps no checkpoint): removed.
  for (const name of OPTIONAL_CANDIDATE_FILE_NAMES) {
    if (files[name]) writeFileAtomic(join(dir, name), files[name]);
    else rmSync(join(dir, name), { force: true });
  }
  for (const name of [TFJS_WEIGHTS_FILE, TFJS_MODEL_FILE, ONNX_FILE, GENOME_FILE]) {
    const bytes = files[name];
    if (!bytes) throw new Error(`candidate files for ${dir} lack ${name}`);
    writeFileAtomic(join(dir, name), bytes);
  }
}
