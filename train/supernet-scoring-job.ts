/**
 * One candidate scored by a supernet, as one plain function: a job (data
 * only) in, the accuracy and the candidate's files out, the same shape a
 * training job returns, so the search keeps either the same way. A thread
 * loads the supernet and the data once and scores many subnets with them.
 * The files are the subnet with its inherited weights and recomputed BN
 * statistics: a front member deploys without training. They are made only
 * when the job asks (`files`): a supernet search scores thousands of
 * subnets an hour, at 2.3 MB of files each, and keeps only its front's,
 * made again at the end from the same supernet, which gives the same
 * weights and the same accuracy.
 */
import { z } from 'zod';
import { genomeId } from '../space/genome.js';
import { planNetwork } from '../space/plan.js';
import { genomeSchema, parseGenome, parseSearchSpace, searchSpaceSchema } from '../space/schema.js';
import { checkSubnetSpace, flatWeightSource, largestGenome, stridesOf } from '../space/supernet.js';
import type { WeightSource } from '../space/build-onnx.js';
import { BACKENDS, selectBackend } from './backend.js';
import { DatasetError } from './datasets/errors.js';
import { loadDataset } from './datasets/load.js';
import { prepareData, type PreparedData } from './datasets/prepared.js';
import { SupernetError, requireSupernet, supernetFiles } from './supernet-cache.js';
import { ResizedSplits, scoreSubnet, subnetModel } from './supernet-score.js';
import { SUBNET_BN_IMAGES } from './constants.js';
import { candidateFilesOf, datasetContentHash, TrainingJobError, type TrainingJobResult } from './training-job.js';

/** A scoring job: everything is data, checked field by field. */
export const subnetScoringJobSchema = z.strictObject({
  /** The cached supernet's key. */
  supernet: z.string().regex(/^[0-9a-f]{20}$/),
  /** The search's space; every genome of it must be a subnet of the supernet's. */
  space: searchSpaceSchema,
  genome: genomeSchema,
  data: z.strictObject({
    name: z.string().max(4096),
    contentHash: z.string().regex(/^[0-9a-f]{16}$/),
    validationFraction: z.number().gt(0).lt(1),
    seed: z.number().int(),
  }),
  backend: z.enum([...BACKENDS, 'auto']),
  /** Whether to build the subnet's files (ONNX, tfjs, genome.json) besides scoring it. */
  files: z.boolean(),
  /** Training images the BN statistics come from (SUBNET_BN_IMAGES when absent). */
  bnImages: z.number().int().positive().optional(),
  /** The validation split's first images that score the subnet (all when absent). */
  validationImages: z.number().int().positive().optional(),
});
export type SubnetScoringJob = z.output<typeof subnetScoringJobSchema>;

/** A scored subnet, as a training job's result; `files` only when the job asked for them. */
export type SubnetScoringResult = Omit<TrainingJobResult, 'files'> & { files: TrainingJobResult['files'] | null };

/** What a scoring thread runs: a job, and where this machine reads the data from. */
export interface SubnetScoringTask {
  job: SubnetScoringJob;
  dataSpec: string;
}

// Loaded once per thread and reused by every job of the same run.
let cachedData: { key: string; contentHash: string; data: PreparedData; resized: ResizedSplits } | null = null;
let cachedSupernet: { key: string; source: WeightSource; kernelTransform: boolean } | null = null;

function dataFor(task: SubnetScoringTask): { data: PreparedData; resized: ResizedSplits } {
  const { job, dataSpec } = task;
  const key = JSON.stringify([dataSpec, job.data.validationFraction, job.data.seed]);
  if (cachedData?.key !== key) {
    const dataset = loadDataset(dataSpec);
    const data = prepareData(dataset, { validationFraction: job.data.validationFraction, seed: job.data.seed });
    cachedData = { key, contentHash: datasetContentHash(dataset), data, resized: new ResizedSplits(data.train, data.validation) };
  }
  const { bn, validation } = cachedData.resized;
  const bnImages = job.bnImages ?? SUBNET_BN_IMAGES;
  const validationImages = job.validationImages ?? validation.count;
  if (cachedData.resized.bnImages !== bnImages || cachedData.resized.validationImages !== validationImages) {
    // Another scoring size: the same data, resized again at it (a run keeps one size, so this happens once a thread).
    cachedData = { ...cachedData, resized: new ResizedSplits(bn, validation, bnImages, validationImages) };
  }
  if (cachedData.contentHash !== job.data.contentHash) {
    throw new DatasetError(dataSpec, `content hash ${cachedData.contentHash} is not the search's data '${job.data.name}' (${job.data.contentHash})`);
  }
  return cachedData;
}

function supernetFor(job: SubnetScoringJob, data: PreparedData): { source: WeightSource; kernelTransform: boolean } {
  if (cachedSupernet?.key !== job.supernet) {
    const { meta, weights } = requireSupernet(job.supernet);
    if (!meta.data.fingerprint.startsWith(data.fingerprint)) {
      throw new SupernetError(supernetFiles(job.supernet).meta, `data.fingerprint: the supernet was trained on ${meta.data.name} (${meta.data.fingerprint}), not on the search's data (${data.fingerprint})`);
    }
    checkSubnetSpace(job.space, meta.space, `the search's space against supernet ${job.supernet}`);
    const largest = planNetwork(largestGenome(meta.space), stridesOf(meta.space), { numClasses: meta.data.numClasses, inputChannels: meta.data.inputChannels });
    const kernelTransform = meta.recipe.kernelTransform ?? false;
    cachedSupernet = { key: job.supernet, source: flatWeightSource(largest, weights, kernelTransform), kernelTransform };
  }
  return cachedSupernet;
}

/** Scores one subnet: see the file comment. Throws before building anything when the job, the data or the supernet is not what it must be. */
export async function runSubnetScoringJob(task: SubnetScoringTask): Promise<SubnetScoringResult> {
  const parsed = subnetScoringJobSchema.safeParse(task.job);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TrainingJobError(issue.path.join('.') || '(root)', issue.message);
  }
  const job = parsed.data;
  const space = parseSearchSpace(job.space, 'scoring job: space');
  const genome = parseGenome(job.genome, space, 'scoring job: genome');
  const { data, resized } = dataFor({ job, dataSpec: task.dataSpec });
  const supernet = supernetFor(job, data);
  await selectBackend(job.backend);
  const started = performance.now();
  const strides = stridesOf(space);
  const plan = planNetwork(genome, strides, { numClasses: data.numClasses, inputChannels: data.train.channels });
  const { accuracy, logLikelihood, weights } = await scoreSubnet(supernet.source, plan, { ...resized.at(genome.resolution), numClasses: data.numClasses }, resized.bnImages, supernet.kernelTransform);
  let files: TrainingJobResult['files'] | null = null;
  if (job.files) {
    const model = subnetModel(plan, weights);
    try {
      files = await candidateFilesOf(model, genome, strides, data);
    } finally {
      model.dispose();
    }
  }
  return {
    id: genomeId(genome),
    accuracy,
    accuracyImages: resized.validationCount,
    validationAccuracy: accuracy,
    logLikelihood,
    trainSeconds: (performance.now() - started) / 1000,
    imagesPerSecond: 0,
    lossCurve: [],
    backend: 'supernet',
    files,
  };
}
