/**
 * A model's training and evaluation speed on this machine, measured in a
 * few seconds, for `nas finalize --time` to plan with (time-plan.ts). The
 * training step is the finalization's own: `trainCandidate` with the
 * recipe's options (batch, optimizer, augmentation, threads) on the
 * finalization's data, so what is measured is what will run. Teacher logits
 * are left out: with them a step only looks up a row per image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_BN_RECALIBRATION_IMAGES } from '../train/batch-norm-recalibration.js';
import { selectBackend } from '../train/backend.js';
import { CHECKPOINT_FILE, writeCheckpoint } from '../train/checkpoint.js';
import type { PreparedData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { predictLogits } from '../train/evaluate.js';
import type { SplitEvaluator, TensorSplit } from '../train/types.js';
import { recipeTrainOptions, type FinalRecipe } from './recipe.js';
import { buildFinalModel } from './train-final.js';
import type { FinalModel } from './types.js';

/** Seconds of steady-state training to aim for per model: a few, so that a plan of ten models measures in about a minute. */
export const THROUGHPUT_SECONDS = 3;
/** Measured steps per model, at least and at most, whatever their speed. */
export const MIN_MEASURED_STEPS = 3;
export const MAX_MEASURED_STEPS = 40;
/** Validation images inferred to measure evaluation speed. */
export const EVALUATION_SAMPLE = 512;

/** What {@link measureThroughput} found, and what it cost. */
export interface ModelThroughput {
  /** Training images per second, steady state (from the end of the first step). */
  imagesPerSecond: number;
  /** Inference images per second (evaluation, batch-norm recalibration). */
  evaluationImagesPerSecond: number;
  /** Seconds to take and write one checkpoint, as training does after every epoch. */
  checkpointSeconds: number;
  /** Steps it timed. */
  steps: number;
}

/** Training's own evaluation is not what is measured: zero logits. */
function noEvaluation(classes: number): SplitEvaluator {
  return { name: 'none', logits: async (_, splits) => splits.map((s) => new Float32Array(s.count * classes)) };
}

function firstImages(split: TensorSplit, count: number): TensorSplit {
  const n = Math.min(count, split.count);
  const size = split.height * split.width * split.channels;
  return { ...split, images: split.images.subarray(0, n * size), labels: split.labels.subarray(0, n), count: n };
}

/**
 * Seconds per step, steady state, of a training of `steps + 1` steps (the
 * first is start-up: threads, kernels, allocation); with `checkpointTo`,
 * also the seconds from the last step to its checkpoint written there.
 */
async function timedSteps(model: FinalModel, data: PreparedData, recipe: FinalRecipe, steps: number, checkpointTo?: string): Promise<{ stepSeconds: number; checkpointSeconds: number }> {
  const built = buildFinalModel(model, data, recipe.seed);
  const batch = recipe.batchSize;
  const total = (steps + 1) * batch;
  let from = 0;
  let to = 0;
  let written = 0;
  try {
    await trainCandidate(built.tfjs, data, null, {
      ...recipeTrainOptions(recipe),
      budget: { images: total },
      evaluateTest: false,
      evaluator: noEvaluation(data.numClasses),
      batchNormRecalibration: false,
      onProgress: (p) => {
        if (p.imagesSeen === batch) from = performance.now();
        if (p.imagesSeen === p.imagesTotal) to = performance.now();
      },
      ...(checkpointTo
        ? {
            onEpoch: (checkpoint) => {
              if (checkpoint.imagesSeen !== total) return;
              writeCheckpoint(checkpointTo, checkpoint);
              written = performance.now();
            },
          }
        : {}),
    });
    return { stepSeconds: (to - from) / 1000 / steps, checkpointSeconds: checkpointTo ? (written - to) / 1000 : 0 };
  } finally {
    built.tfjs.dispose();
  }
}

/**
 * Times `model`'s training step with `recipe` on `data` (a short probe that
 * also times a checkpoint, then as many steps as fill about
 * {@link THROUGHPUT_SECONDS}) and its inference over a sample of the
 * validation split.
 */
export async function measureThroughput(model: FinalModel, data: PreparedData, recipe: FinalRecipe): Promise<ModelThroughput> {
  await selectBackend('auto');
  const scratch = mkdtempSync(join(tmpdir(), 'nas-throughput-'));
  let probe: Awaited<ReturnType<typeof timedSteps>>;
  try {
    probe = await timedSteps(model, data, recipe, 1, join(scratch, CHECKPOINT_FILE));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const steps = Math.max(MIN_MEASURED_STEPS, Math.min(MAX_MEASURED_STEPS, Math.ceil(THROUGHPUT_SECONDS / Math.max(probe.stepSeconds, 1e-6))));
  const { stepSeconds } = await timedSteps(model, data, recipe, steps);
  const built = buildFinalModel(model, data, recipe.seed);
  try {
    // One warm-up batch, then a sample of the validation split.
    const sample = firstImages(data.validation, EVALUATION_SAMPLE);
    predictLogits(built.tfjs, firstImages(sample, 64));
    const started = performance.now();
    predictLogits(built.tfjs, sample);
    const seconds = (performance.now() - started) / 1000;
    return { imagesPerSecond: recipe.batchSize / stepSeconds, evaluationImagesPerSecond: sample.count / Math.max(seconds, 1e-6), checkpointSeconds: probe.checkpointSeconds, steps };
  } finally {
    built.tfjs.dispose();
  }
}

/** Inference images a model's training evaluates besides its epochs' validation: batch-norm recalibration and the final validation and test passes. */
export function finalEvaluationImages(counts: { validation: number; test: number }): number {
  return DEFAULT_BN_RECALIBRATION_IMAGES + counts.validation + counts.test;
}
