/** Defaults of the training stage, applied once where options are resolved. */
import type { AugmentOptions, DistillationOptions, TrainingBudget } from './types.js';

export const DEFAULT_BATCH_SIZE = 64;
export const DEFAULT_BUDGET: TrainingBudget = { epochs: 1 };
export const DEFAULT_SGD_LEARNING_RATE = 0.05;
export const DEFAULT_ADAM_LEARNING_RATE = 0.003;
export const SGD_MOMENTUM = 0.9;
export const DEFAULT_WEIGHT_DECAY = 4e-5;
export const DEFAULT_DISTILLATION: DistillationOptions = { temperature: 4, alpha: 0.9 };
export const DEFAULT_AUGMENT: AugmentOptions = { padCrop: 2, horizontalFlip: true };
/** Share of the training split held out for validation when the data have none. */
export const DEFAULT_VALIDATION_FRACTION = 0.1;
/** Images per forward pass when evaluating or computing logits. */
export const EVAL_BATCH_SIZE = 256;
/** Points in a training result's loss curve. */
export const LOSS_CURVE_POINTS = 10;
/**
 * Training images a subnet's batch-norm statistics are computed from. Each
 * channel's mean and variance then average 512·H·W values (8,192 at the
 * smallest 4×4 maps of the small space). Once-for-All uses 2,000 ImageNet
 * images; whether fewer rank subnets differently here is measured by
 * bench:supernet (docs/bench/supernet.md). The pass runs in onnxruntime
 * (train/onnx-batch-norm.ts): on tfjs in training mode it cost 1.37 s a subnet
 * against onnxruntime's 2.45 s for the 6,000 validation images (AMD EPYC
 * Zen 5, both cores busy).
 */
export const SUBNET_BN_IMAGES = 512;
