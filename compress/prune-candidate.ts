/**
 * Pruning one trained candidate: a sensitivity sweep per group (each pruned
 * alone at 10–90%, validation accuracy without fine-tuning), ratios chosen
 * for a MACs reduction target with the least loss (prune.ts), the weight
 * surgery, then distillation fine-tuning.
 */
import { tfjsWeights, type WeightSource, type WeightTensor } from '../space/build-onnx.js';
import { buildTfjsModel, setModelWeights } from '../space/build-tfjs.js';
import { describeGenome, planOf, type GenomeFile } from '../space/candidate-files.js';
import { planNetwork } from '../space/plan.js';
import type { PreparedData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import type { TeacherLogits } from '../train/training-loop.js';
import { exportedAccuracy, onnxEvaluator } from '../train/onnx-evaluate.js';
import { chooseRatios, keptByRatio, prunedGenome, prunedWeights, pruneGroups, SWEEP_RATIOS, type Sensitivity } from './prune.js';
import type { FineTuneSettings, PruneOptions } from './types.js';

/** A model's weights read once, served by layer name. */
export function snapshotWeights(model: ReturnType<typeof buildTfjsModel>): WeightSource {
  const read = tfjsWeights(model);
  const cache = new Map<string, WeightTensor[]>();
  return (name) => {
    if (!cache.has(name)) cache.set(name, read(name));
    return cache.get(name)!;
  };
}

/**
 * Prunes a trained candidate (see prune.ts) and fine-tunes it with
 * distillation, with the run's own training settings (optimizer, learning
 * rate, temperature, α) and a seed derived from the run's seed and the id.
 */
export async function pruneCandidate(
  file: GenomeFile,
  trained: ReturnType<typeof buildTfjsModel>,
  data: PreparedData,
  teacher: TeacherLogits | null,
  options: PruneOptions = {},
  fineTune: FineTuneSettings = {},
): Promise<{ file: GenomeFile; model: ReturnType<typeof buildTfjsModel>; ratios: Map<string, number> }> {
  const plan = planOf(file);
  const shape = { numClasses: file.data.numClasses, inputChannels: file.data.inputChannels };
  const weights = snapshotWeights(trained);
  const val = { ...data.validation, ...subsetSplit(data.validation, options.sensitivityImages ?? 1000) };
  const baseline = await exportedAccuracy(plan, trained, val);
  const sensitivity: Sensitivity = new Map();
  for (const group of pruneGroups(file.genome, file.strides, shape)) {
    const byRatio = new Map<number, number>();
    for (const ratio of SWEEP_RATIOS) {
      const kept = keptByRatio(file.genome, plan, weights, new Map([[group.name, ratio]]));
      let genome;
      try {
        genome = prunedGenome(file.genome, plan, kept, file.strides);
      } catch {
        continue; // this ratio would move a residual add
      }
      const prunedPlan = planNetwork(genome, file.strides, shape);
      const model = buildTfjsModel(prunedPlan);
      setModelWeights(model, prunedWeights(file.genome, plan, weights, kept));
      byRatio.set(ratio, await exportedAccuracy(prunedPlan, model, val));
      model.dispose();
    }
    sensitivity.set(group.name, byRatio);
    options.onProgress?.(`  sensitivity ${group.name}: ${[...byRatio].map(([r, a]) => `${r}:${(a * 100).toFixed(1)}`).join(' ')}`);
  }
  const ratios = chooseRatios(file.genome, file.strides, shape, baseline, sensitivity, options.targetReduction ?? 0.4);
  const kept = keptByRatio(file.genome, plan, weights, ratios);
  const genome = prunedGenome(file.genome, plan, kept, file.strides);
  const prunedPlan = planNetwork(genome, file.strides, shape);
  const model = buildTfjsModel(prunedPlan);
  setModelWeights(model, prunedWeights(file.genome, plan, weights, kept));
  if ((options.fineTuneEpochs ?? 1) > 0) {
    await trainCandidate(model, data, teacher, {
      budget: { epochs: options.fineTuneEpochs ?? 1 },
      batchSize: fineTune.batchSize,
      optimizer: fineTune.optimizer,
      // Fine-tuning starts from trained weights: a tenth of a from-scratch rate unless the run set one.
      learningRate: fineTune.learningRate ?? 0.01,
      distillation: { temperature: fineTune.temperature, alpha: teacher ? (fineTune.alpha ?? 0.9) : 0 },
      seed: fineTune.seed ?? 0,
      evaluateTest: false,
      evaluator: onnxEvaluator(prunedPlan),
    });
  }
  return { file: describeGenome(genome, file.strides, file.data), model, ratios };
}

function subsetSplit(split: PreparedData['validation'], n: number) {
  const count = Math.min(n, split.count);
  const size = split.height * split.width * split.channels;
  return { images: split.images.subarray(0, count * size), labels: split.labels.subarray(0, count), count };
}
