/**
 * Trains one model to the end with the final recipe — a front member and a
 * baseline alike, through this one function — checkpointing after every
 * epoch into its `final/<id>/` directory and continuing from there when a
 * checkpoint exists. Writes the model's files and `record.json` at the end.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { tfjsWeights } from '../space/build-onnx.js';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { describeGenome, loadCandidateModel, saveCandidate, tfjsArtifacts, writeFileAtomic, ONNX_FILE, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE } from '../space/candidate-files.js';
import { planCost, planNetwork } from '../space/plan.js';
import { buildPlainCnnOnnx, buildPlainCnnTfjs, plainCnnCost } from '../space/plain-cnn.js';
import { selectBackend, type BackendName } from '../train/backend.js';
import { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint } from '../train/checkpoint.js';
export { CHECKPOINT_FILE };
import { loadDataset } from '../train/datasets/load.js';
import { prepareData, withTrainingSubset, type PreparedData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { requireCachedTeacher, type TeacherResult } from '../train/teacher.js';
import { recipeHash, recipeTrainOptions, type FinalRecipe } from './recipe.js';
import { FinalizeError, type FinalizeEvent, type FinalModel, type FinalRecord } from './types.js';

export const RECORD_FILE = 'record.json';
export const PROGRESS_FILE = 'progress.json';
/** The plain CNN's description, in place of genome.json. */
export const BASELINE_FILE = 'baseline.json';

export interface FinalTrainTask {
  model: FinalModel;
  data: { spec: string; validationFraction: number; seed: number; subset?: number };
  teacherKey: string | null;
  recipe: FinalRecipe;
  /** The model's directory, `final/<id>`. */
  outDir: string;
  backend?: BackendName | 'auto';
}

const progressSchema = z.object({ epoch: z.number().int(), validationCurve: z.array(z.number()), sessions: z.number().int() });

let cachedData: { key: string; data: PreparedData } | null = null;

/** A finalization's training data, loaded and prepared once per thread: what its models train on (and `--time` measures them on). */
export function finalTrainingData(spec: FinalTrainTask['data']): PreparedData {
  const key = JSON.stringify(spec);
  if (cachedData?.key !== key) {
    const full = prepareData(loadDataset(spec.spec), { validationFraction: spec.validationFraction, seed: spec.seed });
    cachedData = { key, data: spec.subset ? withTrainingSubset(full, spec.subset, spec.seed) : full };
  }
  return cachedData.data;
}

function teacherFor(key: string | null): TeacherResult | null {
  return key === null ? null : requireCachedTeacher(key);
}

/** The untrained model of a task, and its analytic size. */
export function buildFinalModel(model: FinalModel, data: PreparedData, seed: number): { tfjs: LayersModel; params: number; macs: number } {
  const shape = { numClasses: data.numClasses, inputChannels: data.train.channels };
  if (model.kind === 'baseline' && model.baseline.kind === 'plain-cnn') {
    return { tfjs: buildPlainCnnTfjs(model.baseline.spec, shape, seed), ...plainCnnCost(model.baseline.spec, shape) };
  }
  const { genome, strides } = model.kind === 'front' ? model : (model.baseline as Extract<typeof model.baseline, { kind: 'genome' }>);
  const plan = planNetwork(genome, strides, shape);
  return { tfjs: buildTfjsModel(plan, seed), ...planCost(plan) };
}

async function saveFinalModel(task: FinalTrainTask, data: PreparedData, model: LayersModel): Promise<void> {
  const preprocessing = { mean: data.normalisation.mean, std: data.normalisation.std, classNames: data.classNames };
  const shape = { numClasses: data.numClasses, inputChannels: data.train.channels };
  const m = task.model;
  if (m.kind === 'baseline' && m.baseline.kind === 'plain-cnn') {
    const { json, weights } = await tfjsArtifacts(model);
    writeFileAtomic(join(task.outDir, TFJS_WEIGHTS_FILE), weights);
    writeFileAtomic(join(task.outDir, TFJS_MODEL_FILE), json);
    writeFileAtomic(
      join(task.outDir, ONNX_FILE),
      buildPlainCnnOnnx(m.baseline.spec, shape, tfjsWeights(model), {
        baseline: m.name,
        input_layout: 'NCHW',
        preprocessing: `x = (pixel / 255 - mean[c]) / std[c]; mean=${JSON.stringify(preprocessing.mean)} std=${JSON.stringify(preprocessing.std)}`,
        class_names: JSON.stringify(data.classNames),
      }),
    );
    const cost = plainCnnCost(m.baseline.spec, shape);
    const file = { name: m.name, note: m.baseline.note, spec: m.baseline.spec, data: { ...shape, ...preprocessing }, ...cost };
    writeFileAtomic(join(task.outDir, BASELINE_FILE), JSON.stringify(file, null, 2) + '\n');
    return;
  }
  const { genome, strides } = m.kind === 'front' ? m : (m.baseline as Extract<typeof m.baseline, { kind: 'genome' }>);
  await saveCandidate(task.outDir, describeGenome(genome, strides, { ...shape, ...preprocessing }), model);
}

/** Copies the weights of the model saved in `dir` (model.json, weights.bin) into `model`, which must have its architecture. */
async function inheritWeights(model: LayersModel, dir: string): Promise<void> {
  const saved = await loadCandidateModel(dir);
  try {
    const from = saved.getWeights();
    const to = model.getWeights();
    if (from.length !== to.length || from.some((w, i) => w.size !== to[i].size)) {
      throw new FinalizeError(`${dir}: its weights do not fit the model it describes (${from.length} tensors, the model ${to.length})`);
    }
    model.setWeights(from);
  } finally {
    saved.dispose();
  }
}

/** The finished record in `dir`, if that model is done. */
export function readFinalRecord(dir: string): FinalRecord | null {
  const file = join(dir, RECORD_FILE);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as FinalRecord;
}

/**
 * Trains `task.model` with `task.recipe` (continuing from its checkpoint if
 * there is one), saves it and returns its record. Front members and
 * baselines take exactly this path.
 */
export async function trainFinalModel(task: FinalTrainTask, onEvent: (event: FinalizeEvent) => void = () => {}): Promise<FinalRecord> {
  await selectBackend(task.backend ?? 'auto');
  const data = finalTrainingData(task.data);
  const teacher = teacherFor(task.recipe.distillation.alpha > 0 ? task.teacherKey : null);
  mkdirSync(task.outDir, { recursive: true });
  const { tfjs: model, params, macs } = buildFinalModel(task.model, data, task.recipe.seed);
  const checkpointPath = join(task.outDir, CHECKPOINT_FILE);
  const progressPath = join(task.outDir, PROGRESS_FILE);
  const resume = readCheckpoint(checkpointPath);
  const saved = resume && existsSync(progressPath) ? progressSchema.parse(JSON.parse(readFileSync(progressPath, 'utf8'))) : null;
  const curve = saved ? saved.validationCurve.slice(0, resume!.epoch) : [];
  const sessions = (saved?.sessions ?? 0) + 1;
  const { id, name } = task.model;
  // Fine-tuning starts from the front member's own weights; a resumed one from its checkpoint.
  if (!resume && task.recipe.init === 'inherited' && task.model.kind === 'front' && task.model.inheritFrom) await inheritWeights(model, task.model.inheritFrom);
  const epochs = task.recipe.epochs;
  onEvent({ type: 'start', id, name, fromEpoch: resume?.epoch ?? 0, epochs });
  let lastProgress = 0;
  const firstEpoch = resume?.epoch ?? 0;
  const sessionStarted = performance.now();
  try {
    const result = await trainCandidate(model, data, teacher, {
      ...recipeTrainOptions(task.recipe),
      resumeFrom: resume,
      onProgress: (p) => {
        // A few messages per epoch are enough for a progress bar.
        if (p.imagesSeen - lastProgress >= data.train.count / 20 || p.imagesSeen === p.imagesTotal) {
          lastProgress = p.imagesSeen;
          onEvent({ type: 'progress', id, imagesSeen: p.imagesSeen, imagesTotal: p.imagesTotal });
        }
      },
      onEpoch: (checkpoint, trained) => {
        const validationAccuracy = evaluateAccuracy(trained, data.validation);
        curve.push(validationAccuracy);
        // Progress first: a kill between the two leaves a curve one epoch ahead of the checkpoint, which resume trims.
        writeFileAtomic(progressPath, JSON.stringify({ epoch: checkpoint.epoch, validationCurve: curve, sessions }) + '\n');
        writeCheckpoint(checkpointPath, checkpoint);
        // ETA from this session's wall-clock per epoch, validation included.
        const wall = (performance.now() - sessionStarted) / 1000;
        const perEpoch = wall / Math.max(1, checkpoint.epoch - firstEpoch);
        const loss = checkpoint.stepLosses.at(-1) ?? NaN;
        onEvent({ type: 'epoch', id, name, epoch: checkpoint.epoch, epochs, loss, validationAccuracy, elapsedSeconds: (resume?.trainSeconds ?? 0) + wall, etaSeconds: perEpoch * (epochs - checkpoint.epoch) });
      },
    });
    await saveFinalModel(task, data, model);
    const record: FinalRecord = {
      state: 'trained',
      id,
      kind: task.model.kind,
      name,
      testAccuracy: result.testAccuracy ?? evaluateAccuracy(model, data.test),
      testCount: data.test.count,
      validationAccuracy: result.validationAccuracy,
      validationCurve: curve,
      params,
      macs,
      epochs,
      trainSeconds: result.trainSeconds,
      sessions,
      recipeHash: recipeHash(task.recipe),
    };
    writeFileAtomic(join(task.outDir, RECORD_FILE), JSON.stringify(record, null, 2) + '\n');
    rmSync(checkpointPath, { force: true });
    onEvent({ type: 'done', record });
    return record;
  } finally {
    model.dispose();
  }
}
