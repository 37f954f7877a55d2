/**
 * The teacher trained here when the user has none: MobileNetV3-small by
 * default, or the search space's widest network, or another baseline
 * (TEACHER_ARCHITECTURES), trained with plain cross-entropy on the full training split.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { baseline } from '../space/baselines.js';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { genomeId } from '../space/genome.js';
import { planNetwork } from '../space/plan.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome, SearchSpaceConfig } from '../space/types.js';
import { selectBackend } from './backend.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { PreparedData } from './datasets/prepared.js';
import { trainCandidate } from './distill.js';
import { exportedAccuracy, onnxEvaluator, onnxLogits } from './onnx-evaluate.js';
import { DEFAULT_TEACHER_ARCHITECTURE, TEACHER_ARCHITECTURES, type TeacherArchitecture, type TeacherEpoch, type TeacherResult, type TeacherSpec } from './teacher-types.js';
import type { TrainingBudget, TrainOptions } from './types.js';

/**
 * The `widest` teacher architecture: the space's widest and deepest
 * network, at the resolution closest to the data's, with expansion capped at
 * 4 (the widest expansions cost the most memory and time for little accuracy).
 */
export function teacherGenome(space: SearchSpaceConfig, dataResolution: number): Genome {
  const max = (xs: number[]) => Math.max(...xs);
  const byDistance = [...space.resolutions].sort((a, b) => Math.abs(a - dataResolution) - Math.abs(b - dataResolution) || b - a);
  return {
    resolution: byDistance[0],
    stemWidth: max(space.stemWidths),
    headWidth: max(space.headWidths),
    stages: space.stages.map((s) => {
      const capped = s.expandRatios.filter((e) => e <= 4);
      return {
        width: max(s.widths),
        activation: s.activations.includes('hswish') ? 'hswish' : s.activations[0],
        squeezeExcite: s.squeezeExcite.includes(true),
        blocks: Array.from({ length: max(s.depths) }, () => ({
          kernel: s.kernelSizes.includes(5) ? 5 : s.kernelSizes[0],
          expand: capped.length ? max(capped) : Math.min(...s.expandRatios),
        })),
      };
    }),
  };
}

/** The genome and strides of a teacher architecture, for this space and data resolution. */
export function teacherArchitecture(
  name: TeacherArchitecture,
  space: SearchSpaceConfig,
  dataResolution: number,
): { genome: Genome; strides: { stem: number; stages: number[] } } {
  if (name === 'widest') return { genome: teacherGenome(space, dataResolution), strides: { stem: space.stemStride, stages: space.stages.map((s) => s.stride) } };
  if (!(TEACHER_ARCHITECTURES as readonly string[]).includes(name)) throw new RangeError(`teacher architecture must be one of ${TEACHER_ARCHITECTURES.join(', ')}, got '${name}'`);
  const b = baseline(name, dataResolution);
  if (b.kind !== 'genome') throw new RangeError(`teacher architecture '${name}' is not a genome`);
  return { genome: b.genome, strides: b.strides };
}

/**
 * A trained-teacher spec for a space and data of `dataResolution` pixels,
 * trained on `threads` threads, data-parallel. The architecture's genome and
 * strides are in the spec (and so in the cache key), not its name.
 */
export function trainedTeacherSpec(
  space: MobileNetSpace,
  epochs: number,
  dataResolution: number,
  seed = 0,
  threads = 1,
  architecture: TeacherArchitecture = DEFAULT_TEACHER_ARCHITECTURE,
): TeacherSpec {
  return {
    kind: 'trained',
    architecture,
    ...teacherArchitecture(architecture, space.config, dataResolution),
    epochs,
    seed,
    ...(threads > 1 ? { threads } : {}),
  };
}

/**
 * How a teacher trains: the training defaults (SGD momentum 0.9 at 0.05,
 * cosine to 0, pad-and-crop + flip, weight decay 4e-5), cross-entropy only
 * and no label smoothing — a teacher trained with label smoothing distils
 * worse (Müller et al. 2019): its logits lose the similarities between
 * classes that the student learns from.
 */
export function teacherTrainOptions(budget: TrainingBudget, seed: number, threads = 1): TrainOptions {
  return { budget, seed, distillation: { alpha: 0 }, labelSmoothing: 0, threads };
}

/**
 * Where a teacher was trained, as users compare training times: the CPU
 * model and the threads it trained on. A resumed teacher names the machine
 * that finished it.
 */
export function trainingMachine(threads: number, cpuModel: string = os.cpus()[0]?.model?.trim() || 'unknown CPU'): string {
  return `${cpuModel}, ${threads} thread${threads === 1 ? '' : 's'}`;
}

/** Where {@link trainedTeacher} reports and keeps its progress; all optional. */
export interface TrainedTeacherOptions {
  onProgress?: (done: number, total: number) => void;
  onEpoch?: (epoch: TeacherEpoch) => void;
  /** Checkpoint after every epoch here, and continue from it when it exists. */
  checkpointPath?: string;
  /** The validation curve so far, kept beside the checkpoint for a resumed session. */
  curvePath?: string;
}

const curveFileSchema = z.object({ validationCurve: z.array(z.number().min(0).max(1)) });

/** The curve a killed session left, or null: it only informs, so a missing or damaged file never stops a teacher. */
function readCurveFile(path: string): number[] | null {
  if (!existsSync(path)) return null;
  try {
    const parsed = curveFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data.validationCurve : null;
  } catch {
    return null;
  }
}

/**
 * Trains the teacher of `spec` (plain cross-entropy) and returns its logits
 * over the full training split, with its validation accuracy after each
 * epoch (onnxruntime: a few seconds against minutes of training, and no
 * effect on the weights). With `checkpointPath`, training is checkpointed
 * after every epoch there and continues from it when it exists, so a killed
 * teacher loses at most one epoch.
 */
export async function trainedTeacher(
  data: PreparedData,
  spec: Extract<TeacherSpec, { kind: 'trained' }>,
  options: TrainedTeacherOptions = {},
): Promise<Omit<TeacherResult, 'key' | 'fromCache'>> {
  const { onProgress, onEpoch, checkpointPath, curvePath } = options;
  await selectBackend();
  const plan = planNetwork(spec.genome, spec.strides, { numClasses: data.numClasses, inputChannels: data.train.channels });
  const model = buildTfjsModel(plan, spec.seed);
  const resumeFrom = checkpointPath ? readCheckpoint(checkpointPath) : null;
  // The curve file is written before the checkpoint: a kill between the two leaves it an epoch ahead, trimmed here.
  const curve = (resumeFrom && curvePath ? readCurveFile(curvePath) : null)?.slice(0, resumeFrom!.epoch) ?? [];
  // A checkpoint without its curve (written before curves were kept) gives a curve that starts late: not worth showing.
  const curveComplete = !resumeFrom || curve.length === resumeFrom.epoch;
  const result = await trainCandidate(model, data, null, {
    ...teacherTrainOptions({ epochs: spec.epochs }, spec.seed, spec.threads ?? 1),
    onProgress: (p) => onProgress?.(p.imagesSeen, p.imagesTotal),
    evaluator: onnxEvaluator(plan),
    resumeFrom,
    onEpoch: async (checkpoint, trained) => {
      if (data.validation.count) {
        const validationAccuracy = await exportedAccuracy(plan, trained, data.validation);
        curve.push(validationAccuracy);
        if (curvePath) writeFileAtomic(curvePath, JSON.stringify({ validationCurve: curve }) + '\n');
        onEpoch?.({ epoch: checkpoint.epoch, epochs: spec.epochs, validationAccuracy });
      }
      if (checkpointPath) writeCheckpoint(checkpointPath, checkpoint);
    },
  });
  const [logits] = await onnxLogits(plan, model, [data.fullTrain()]);
  const params = model.countParams();
  model.dispose();
  return {
    logits,
    classes: data.numClasses,
    testAccuracy: result.testAccuracy ?? 0,
    description: `trained here: ${spec.architecture ? `${spec.architecture}, ` : ''}genome ${genomeId(spec.genome)}, ${params} params, ${spec.epochs} epochs, seed ${spec.seed}${(spec.threads ?? 1) > 1 ? `, ${spec.threads} threads` : ''}`,
    trainSeconds: result.trainSeconds,
    trainedOn: trainingMachine(spec.threads ?? 1),
    validationCurve: curveComplete && curve.length ? curve : null,
  };
}
