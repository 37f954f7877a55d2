/**
 * The teacher trained here when the user has none: a wide network from the
 * search space, trained with plain cross-entropy on the full training split.
 */
import { buildTfjsModel } from '../space/build-tfjs.js';
import { genomeId } from '../space/genome.js';
import { planNetwork } from '../space/plan.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome, SearchSpaceConfig } from '../space/types.js';
import { selectBackend } from './backend.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { PreparedData } from './datasets/prepared.js';
import { trainCandidate } from './distill.js';
import { onnxEvaluator, onnxLogits } from './onnx-evaluate.js';
import type { TeacherResult, TeacherSpec } from './teacher-types.js';

/**
 * The default teacher when the user has none: the space's widest and deepest
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

/**
 * A trained-teacher spec for a space and data of `dataResolution` pixels (see
 * {@link teacherGenome}), trained on `threads` threads, data-parallel.
 */
export function trainedTeacherSpec(space: MobileNetSpace, epochs: number, dataResolution: number, seed = 0, threads = 1): TeacherSpec {
  return {
    kind: 'trained',
    genome: teacherGenome(space.config, dataResolution),
    strides: { stem: space.config.stemStride, stages: space.config.stages.map((s) => s.stride) },
    epochs,
    seed,
    ...(threads > 1 ? { threads } : {}),
  };
}

/**
 * Trains the teacher of `spec` (plain cross-entropy) and returns its logits
 * over the full training split. With `checkpointPath`, training is
 * checkpointed after every epoch there and continues from it when it exists,
 * so a killed teacher loses at most one epoch.
 */
export async function trainedTeacher(
  data: PreparedData,
  spec: Extract<TeacherSpec, { kind: 'trained' }>,
  onProgress?: (done: number, total: number) => void,
  checkpointPath?: string,
): Promise<Omit<TeacherResult, 'key' | 'fromCache'>> {
  await selectBackend();
  const plan = planNetwork(spec.genome, spec.strides, { numClasses: data.numClasses, inputChannels: data.train.channels });
  const model = buildTfjsModel(plan, spec.seed);
  const result = await trainCandidate(model, data, null, {
    budget: { epochs: spec.epochs },
    seed: spec.seed,
    distillation: { alpha: 0 },
    onProgress: (p) => onProgress?.(p.imagesSeen, p.imagesTotal),
    evaluator: onnxEvaluator(plan),
    resumeFrom: checkpointPath ? readCheckpoint(checkpointPath) : null,
    onEpoch: checkpointPath ? (c) => writeCheckpoint(checkpointPath, c) : undefined,
    threads: spec.threads ?? 1,
  });
  const [logits] = await onnxLogits(plan, model, [data.fullTrain()]);
  const params = model.countParams();
  model.dispose();
  return {
    logits,
    classes: data.numClasses,
    testAccuracy: result.testAccuracy ?? 0,
    description: `trained here: genome ${genomeId(spec.genome)}, ${params} params, ${spec.epochs} epochs, seed ${spec.seed}${(spec.threads ?? 1) > 1 ? `, ${spec.threads} threads` : ''}`,
  };
}
