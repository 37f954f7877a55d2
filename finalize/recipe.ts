/**
 * The final training recipe: one object that front members and baselines
 * are all trained with, so their accuracies compare. Everything a run needs
 * to reproduce it is in the object; its hash is recorded with every model.
 */
import { createHash } from 'node:crypto';
import type { TrainOptions } from '../train/types.js';

/** How every model of a finalization trains: fixed in final/plan.json, its hash in each record. */
export interface FinalRecipe {
  epochs: number;
  batchSize: number;
  optimizer: 'sgd';
  /** Peak learning rate, reached after the warm-up, then a cosine to 0. */
  learningRate: number;
  warmupEpochs: number;
  weightDecay: number;
  labelSmoothing: number;
  augment: { padCrop: number; horizontalFlip: boolean };
  /** α = 0 when the run has no teacher. */
  distillation: { alpha: number; temperature: number };
  /**
   * Where a front member's weights start: `scratch`, a seeded initialisation;
   * `inherited`, the weights its front/<id>/ files hold (a supernet search's
   * subnet with inherited weights, or a trained search's short training),
   * fine-tuned at {@link FINE_TUNE_LEARNING_RATE_SCALE} of the peak rate.
   * Baselines have no such weights and start from scratch either way.
   */
  init: 'scratch' | 'inherited';
  seed: number;
  /**
   * Threads each model trains on, data-parallel (train/data-parallel.ts);
   * absent is 1. Part of the recipe because it changes the result (per-shard
   * batch-norm statistics): a run is reproducible for a given seed and
   * thread count. Absent rather than 1, so one-thread recipes keep their hash.
   */
  threads?: number;
}

/**
 * Default epochs: Fashion-MNIST networks of this size are within a few
 * tenths of a point of their best after about 30 epochs of a cosine
 * schedule (each model's validation curve is recorded to check it).
 */
export const DEFAULT_FINAL_EPOCHS = 30;
export const FINAL_BATCH_SIZE = 64;
export const FINAL_LEARNING_RATE = 0.05;
export const FINAL_WEIGHT_DECAY = 4e-5;
/** Warm-up: one epoch, or 5% of a short schedule. */
export const MAX_WARMUP_EPOCHS = 1;
export const WARMUP_SHARE = 0.05;
/**
 * `--time`'s floor: a finalization given too little time drops models rather
 * than train any for fewer epochs than this (finalize/time-plan.ts).
 */
export const MIN_TIMED_EPOCHS = 5;
export const FINAL_SEED = 1;
/**
 * Fine-tuning from inherited weights starts from a trained network: a fifth
 * of the peak learning rate, as weight-sharing methods fine-tune their
 * subnets at a lower rate than they train. A starting point, not yet
 * measured against others here (docs/supernet.md).
 */
export const FINE_TUNE_LEARNING_RATE_SCALE = 0.2;

export interface RecipeOptions {
  /** @default DEFAULT_FINAL_EPOCHS */
  epochs?: number;
  /** Whether teacher logits exist; without, α is 0. @default true */
  teacher?: boolean;
  /** KD weight and temperature (the search's, normally). @default 0.9 and 4 */
  alpha?: number;
  temperature?: number;
  /**
   * Label smoothing of the cross-entropy term. @default 0 with a teacher
   * (the teacher's soft targets already do its job), 0.1 without.
   */
  labelSmoothing?: number;
  /** @default FINAL_SEED */
  seed?: number;
  /** Data-parallel threads per model. @default 1 */
  threads?: number;
  /** Where front members' weights start. @default 'scratch' */
  init?: FinalRecipe['init'];
  /** With `init` inherited: the peak learning rate's share, in (0, 1]. @default FINE_TUNE_LEARNING_RATE_SCALE */
  fineTuneRate?: number;
}

/** The one recipe every finalized model trains with: the defaults above, checked, with `options` applied. */
export function finalRecipe(options: RecipeOptions = {}): FinalRecipe {
  const epochs = options.epochs ?? DEFAULT_FINAL_EPOCHS;
  if (!(epochs > 0 && Number.isInteger(epochs))) throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  const threads = options.threads ?? 1;
  if (!(threads >= 1 && Number.isInteger(threads))) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const teacher = options.teacher ?? true;
  const init = options.init ?? 'scratch';
  const fineTuneRate = options.fineTuneRate ?? FINE_TUNE_LEARNING_RATE_SCALE;
  if (!(fineTuneRate > 0 && fineTuneRate <= 1)) throw new RangeError(`fineTuneRate must be in (0, 1], got ${fineTuneRate}`);
  if (options.fineTuneRate !== undefined && init !== 'inherited') throw new RangeError('fineTuneRate: only with init inherited (training from scratch runs at the peak rate)');
  return {
    epochs,
    batchSize: FINAL_BATCH_SIZE,
    optimizer: 'sgd',
    learningRate: FINAL_LEARNING_RATE * (init === 'inherited' ? fineTuneRate : 1),
    warmupEpochs: warmupEpochsFor(epochs),
    weightDecay: FINAL_WEIGHT_DECAY,
    labelSmoothing: options.labelSmoothing ?? (teacher ? 0 : 0.1),
    augment: { padCrop: 2, horizontalFlip: true },
    distillation: { alpha: teacher ? (options.alpha ?? 0.9) : 0, temperature: options.temperature ?? 4 },
    init,
    seed: options.seed ?? FINAL_SEED,
    ...(threads > 1 ? { threads } : {}),
  };
}

/** The warm-up of an `epochs`-long schedule: one epoch, or 5% of a short one. */
export function warmupEpochsFor(epochs: number): number {
  return Math.min(MAX_WARMUP_EPOCHS, WARMUP_SHARE * epochs);
}

/**
 * The same recipe as a complete schedule of `epochs` (its warm-up follows,
 * and the cosine decays to zero at its end): one model's recipe when
 * `--time` gives models their own epochs. Keys keep their order, so the
 * recipe at its own epochs keeps its hash.
 */
export function recipeWithEpochs(recipe: FinalRecipe, epochs: number): FinalRecipe {
  if (!(epochs > 0 && Number.isInteger(epochs))) throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  return epochs === recipe.epochs ? recipe : { ...recipe, epochs, warmupEpochs: warmupEpochsFor(epochs) };
}

/**
 * Threads per model for `--threads auto`: the cores left over when
 * `modelsAtOnce` models train side by side, shared out evenly (at least 1).
 */
export function spareThreadsPerModel(cores: number, modelsAtOnce: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, modelsAtOnce)));
}

/** The recipe as `trainCandidate` options. */
export function recipeTrainOptions(recipe: FinalRecipe): TrainOptions {
  return {
    budget: { epochs: recipe.epochs },
    batchSize: recipe.batchSize,
    optimizer: recipe.optimizer,
    learningRate: recipe.learningRate,
    warmupEpochs: recipe.warmupEpochs,
    weightDecay: recipe.weightDecay,
    labelSmoothing: recipe.labelSmoothing,
    augment: recipe.augment,
    distillation: recipe.distillation,
    seed: recipe.seed,
    threads: recipe.threads ?? 1,
  };
}

/** 12 hex digits of sha256 of the recipe's JSON (keys in declaration order, as finalRecipe builds it). */
export function recipeHash(recipe: FinalRecipe): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12);
}
