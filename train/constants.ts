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
