/**
 * Contracts of the training stage: data in memory, teacher logits, and what
 * training a candidate returns. Types and docs only.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { BackendChoice } from './backend.js';
import type { TrainingCheckpoint } from './checkpoint.js';

/** Images of one split, uint8 as read from disk, NHWC. */
export interface ImageSet {
  /** Pixel values 0–255, NHWC order, `count·height·width·channels` long. */
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** A dataset as the loaders return it: a training and a test split. */
export interface Dataset {
  /** Short name for logs and hashes, e.g. `fashion-mnist-sample`. */
  name: string;
  /** Where it was read from (a directory or file). */
  source: string;
  numClasses: number;
  /** Class names where the format has them, else "0", "1", … */
  classNames: string[];
  train: ImageSet;
  test: ImageSet;
  /** A validation split shipped with the data (MedMNIST has one). */
  validation?: ImageSet;
}

/** Per-channel normalisation applied after scaling pixels to [0, 1]. */
export interface Normalisation {
  mean: number[];
  std: number[];
}

/** A split as training consumes it: float32 NHWC, normalised. */
export interface TensorSplit {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** Augmentation applied to training batches only. */
export interface AugmentOptions {
  /** Zero-pad by this many pixels, then crop back at a random offset. @default 2 */
  padCrop: number;
  /** Mirror left-right with probability 1/2. @default true */
  horizontalFlip: boolean;
}

/** Distillation hyper-parameters. */
export interface DistillationOptions {
  /** Softmax temperature of the KL term. @default 4 */
  temperature: number;
  /** Weight of the KL term; 1 − alpha weighs cross-entropy. 0 is plain training. @default 0.9 */
  alpha: number;
}

/** Training budget: whole epochs or a number of images seen. */
export type TrainingBudget = { epochs: number } | { images: number };

/** Optimiser of a training run. */
export type OptimizerName = 'sgd' | 'adam';

/** Everything `trainCandidate` may be told; all optional, see constants.ts. */
export interface TrainOptions {
  /** @default { epochs: 1 } */
  budget?: TrainingBudget;
  /** @default 64 */
  batchSize?: number;
  /** @default 'sgd' (with Nesterov-free momentum 0.9) */
  optimizer?: OptimizerName;
  /** Peak learning rate; decays to 0 along a cosine. @default 0.05 for sgd, 0.003 for adam */
  learningRate?: number;
  /** L2 weight decay on conv and dense kernels. @default 4e-5 */
  weightDecay?: number;
  /** @default { temperature: 4, alpha: 0.9 } */
  distillation?: Partial<DistillationOptions>;
  /** `false` switches augmentation off. @default { padCrop: 2, horizontalFlip: true } */
  augment?: Partial<AugmentOptions> | false;
  /** Seed of weight init, shuffling and augmentation. @default 0 */
  seed?: number;
  /**
   * Seed of shuffling and augmentation alone, when they should not follow
   * `seed`: candidates given one `dataSeed` see the same batches in the same
   * order (common random numbers), so that part of the training noise is
   * shared by every candidate and cancels when they are compared. @default seed
   */
  dataSeed?: number;
  /** Also measure test accuracy (the search skips it: test is for final reports). @default true */
  evaluateTest?: boolean;
  /** Linear learning-rate warm-up over this many epochs before the cosine. @default 0 */
  warmupEpochs?: number;
  /** Label smoothing of the cross-entropy term, 0–1. @default 0 */
  labelSmoothing?: number;
  /** Called after each batch with progress; must not throw. */
  onProgress?: (progress: TrainingProgress) => void;
  /**
   * How validation and test logits are computed after training. Callers that
   * know the model's plan pass `onnxEvaluator(plan)` (train/onnx-evaluate.ts),
   * which is faster. @default tfjs predict ({@link SplitEvaluator} `tfjsEvaluator`)
   */
  evaluator?: SplitEvaluator;
  /**
   * Called after the batch that completes each epoch (and after the last
   * batch) with a checkpoint from which {@link resumeFrom} continues exactly.
   * Training waits for it (e.g. to write the checkpoint).
   */
  onEpoch?: (checkpoint: TrainingCheckpoint, model: LayersModel) => void | Promise<void>;
  /** Continue from this checkpoint (same model, data, options) instead of from the start. */
  resumeFrom?: TrainingCheckpoint | null;
  /**
   * After training, batch-norm statistics are computed again over this many
   * training images for the final weights (train/batch-norm-recalibration.ts);
   * false keeps the moving averages training left. @default DEFAULT_BN_RECALIBRATION_IMAGES (512)
   */
  batchNormRecalibration?: number | false;
  /**
   * Train on from the end of an earlier, finished session of this model (a
   * multi-fidelity promotion): its weights, optimizer state, data order and
   * losses carry over, and `budget` counts images in all, so this session
   * trains `budget − checkpoint.imagesSeen` more on a new cosine segment from
   * the peak learning rate (a warm restart, as in SGDR) without warm-up.
   */
  continueFrom?: TrainingCheckpoint | null;
  /**
   * Threads training this one model, data-parallel (train/data-parallel.ts):
   * each batch is cut into `threads` contiguous shards, each thread computes
   * its shard's gradients on its own replica, and every replica applies their
   * average (weighted by shard size, summed in a fixed order). Batch-norm uses
   * per-shard batch statistics, as PyTorch DDP without SyncBN, so a run is
   * reproducible for a given seed and thread count but is not the run of
   * `threads: 1`. Checkpoints are the same format either way. @default 1
   */
  threads?: number;
}

/** Computes a model's logits over whole splits: tfjs predict, or onnxruntime on its export. */
export interface SplitEvaluator {
  /** For reports: `tfjs` or `onnxruntime`. */
  name: string;
  /** Logits [count × classes] of each split, in order. */
  logits(model: LayersModel, splits: TensorSplit[]): Promise<Float32Array[]>;
}

/** Reported to `onProgress` during training. */
export interface TrainingProgress {
  imagesSeen: number;
  imagesTotal: number;
  loss: number;
}

/** What training one candidate yields. */
export interface TrainingResult {
  /** Top-1 accuracy on the validation split, 0–1: what the search optimises. */
  validationAccuracy: number;
  /** Mean log-probability of the true class on the validation split (≤ 0), from the same logits. */
  validationLogLikelihood: number;
  /** Top-1 accuracy on the test split, 0–1: for final reporting only. */
  testAccuracy?: number;
  /** Mean loss of each tenth of training, for a loss curve. */
  lossCurve: number[];
  imagesSeen: number;
  trainSeconds: number;
  trainImagesPerSecond: number;
  backend: BackendChoice;
}
