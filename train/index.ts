/**
 * `nas-edge/train`: datasets, teachers and their cached logits, and
 * knowledge-distillation training on tfjs.
 */
export { loadDataset, DEFAULT_DATASET, DATASET_ALIASES, FASHION_MNIST_CLASSES } from './datasets/load.js';
export { DatasetError } from './datasets/errors.js';
export { prepareData, withTrainingSubset } from './datasets/prepared.js';
export type { PreparedData, PrepareOptions } from './datasets/prepared.js';
export { trainCandidate } from './distill.js';
export { distillationLoss } from './training-loop.js';
export type { TeacherLogits } from './training-loop.js';
export { evaluateAccuracy, predictLogits, accuracyFromLogits } from './evaluate.js';
export { teacherLogits, teacherKey } from './teacher.js';
export { DEFAULT_TEACHER_ARCHITECTURE, TEACHER_ARCHITECTURES, TeacherError } from './teacher-types.js';
export type { TeacherArchitecture, TeacherSpec, TeacherResult } from './teacher-types.js';
export { teacherArchitecture, trainedTeacherSpec } from './trained-teacher.js';
export { INPUT_SCALES } from './input-adapter.js';
export type { InputScale } from './input-adapter.js';
export { selectBackend, BACKENDS } from './backend.js';
export type { BackendName, BackendChoice } from './backend.js';
export { embeddedSampleDir } from './paths.js';
export type {
  ImageSet,
  Dataset,
  Normalisation,
  TensorSplit,
  AugmentOptions,
  DistillationOptions,
  TrainingBudget,
  OptimizerName,
  TrainOptions,
  TrainingProgress,
  TrainingResult,
} from './types.js';
export { trainSupernet } from './supernet-train.js';
export type { SupernetTrainOptions, SupernetTrainingResult, SupernetEpoch } from './supernet-train.js';
export { DEFAULT_SUPERNET_RECIPE } from './supernet-phases.js';
export type { SupernetRecipe, SupernetStrategy } from './supernet-phases.js';
export { supernetFor } from './supernet-run.js';
export { scoreSubnet, subnetModel } from './supernet-score.js';
export { listSupernets, readSupernet, SupernetError } from './supernet-cache.js';
export type { SupernetMeta } from './supernet-cache.js';
