/**
 * Piscina worker that trains one candidate: plain task in, plain result out.
 * Data and teacher logits are loaded once per worker and reused.
 */
import { buildTfjsModel } from '../space/build-tfjs.js';
import { describeGenome, saveCandidate } from '../space/candidate-files.js';
import { genomeId } from '../space/genome.js';
import { planNetwork } from '../space/plan.js';
import type { Genome } from '../space/types.js';
import { selectBackend, type BackendName } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData, withTrainingSubset, type PreparedData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { onnxEvaluator } from '../train/onnx-evaluate.js';
import { readCachedTeacher, type TeacherResult } from '../train/teacher.js';
import type { TrainOptions } from '../train/types.js';

export interface TrainTask {
  genome: Genome;
  strides: { stem: number; stages: number[] };
  data: { spec: string; validationFraction: number; seed: number; subset?: number };
  teacherKey: string | null;
  options: Omit<TrainOptions, 'onProgress' | 'evaluator'>;
  /** Candidate files go to `<saveDir>/<id>/`. */
  saveDir: string;
  backend?: BackendName | 'auto';
}

export interface TrainTaskResult {
  accuracy: number;
  trainSeconds: number;
  imagesPerSecond: number;
  lossCurve: number[];
  backend: string;
}

let cachedData: { key: string; data: PreparedData } | null = null;
let cachedTeacher: { key: string; teacher: TeacherResult } | null = null;

function dataFor(task: TrainTask): PreparedData {
  const key = JSON.stringify(task.data);
  if (cachedData?.key !== key) {
    const full = prepareData(loadDataset(task.data.spec), { validationFraction: task.data.validationFraction, seed: task.data.seed });
    const data = task.data.subset ? withTrainingSubset(full, task.data.subset, task.data.seed) : full;
    cachedData = { key, data };
  }
  return cachedData.data;
}

function teacherFor(key: string | null): TeacherResult | null {
  if (key === null) return null;
  if (cachedTeacher?.key !== key) {
    const teacher = readCachedTeacher(key);
    if (!teacher) throw new Error(`teacher logits ${key} are not in the cache`);
    cachedTeacher = { key, teacher };
  }
  return cachedTeacher.teacher;
}

export default async function train(task: TrainTask): Promise<TrainTaskResult> {
  await selectBackend(task.backend ?? 'auto');
  const data = dataFor(task);
  const plan = planNetwork(task.genome, task.strides, { numClasses: data.numClasses, inputChannels: data.train.channels });
  const model = buildTfjsModel(plan, task.options.seed ?? 0);
  try {
    const result = await trainCandidate(model, data, teacherFor(task.teacherKey), { ...task.options, evaluateTest: false, evaluator: onnxEvaluator(plan) });
    const id = genomeId(task.genome);
    const file = describeGenome(task.genome, task.strides, {
      numClasses: data.numClasses,
      inputChannels: data.train.channels,
      mean: data.normalisation.mean,
      std: data.normalisation.std,
      classNames: data.classNames,
    });
    await saveCandidate(`${task.saveDir}/${id}`, file, model);
    return {
      accuracy: result.validationAccuracy,
      trainSeconds: result.trainSeconds,
      imagesPerSecond: result.trainImagesPerSecond,
      lossCurve: result.lossCurve,
      backend: result.backend.name,
    };
  } finally {
    model.dispose();
  }
}
