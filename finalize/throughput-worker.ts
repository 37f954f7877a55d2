/**
 * Piscina worker of `nas finalize --time`'s measurement: one model's speed
 * per task (throughput.ts), on the finalization's data loaded in this
 * thread, so that models are measured `workers` at a time, each while the
 * others keep the machine as busy as training will.
 */
import { measureThroughput, type ModelThroughput } from './throughput.js';
import type { FinalRecipe } from './recipe.js';
import { finalTrainingData, type FinalTrainTask } from './train-final.js';
import type { FinalModel } from './types.js';

/** One model to measure. */
export interface ThroughputTask {
  model: FinalModel;
  data: FinalTrainTask['data'];
  recipe: FinalRecipe;
}

/** A measurement, with the sizes of the splits it was taken on (the plan's images per epoch and per evaluation). */
export interface ThroughputResult extends ModelThroughput {
  counts: { train: number; validation: number; test: number };
}

export default async function throughputWorker(task: ThroughputTask): Promise<ThroughputResult> {
  const data = finalTrainingData(task.data);
  const measured = await measureThroughput(task.model, data, task.recipe);
  return { ...measured, counts: { train: data.train.count, validation: data.validation.count, test: data.test.count } };
}
