/**
 * A subnet's accuracy with weights inherited from the supernet: its weights
 * sliced out (space/supernet.ts subnetWeights) into a standalone tfjs model,
 * batch-norm statistics computed afresh for that subnet (the supernet keeps
 * none that fit it), then the validation split through onnxruntime, as a
 * trained candidate is evaluated. No training, hence no training noise: the
 * same supernet scores the same subnet the same way every time.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { WeightSource } from '../space/build-onnx.js';
import { buildTfjsModel, setModelWeights } from '../space/build-tfjs.js';
import type { NetworkPlan } from '../space/plan.js';
import { subnetWeights } from '../space/supernet.js';
import { recalibrateBatchNorm } from './batch-norm-recalibration.js';
import { accuracyFromLogits } from './evaluate.js';
import { onnxEvaluator } from './onnx-evaluate.js';
import type { TensorSplit } from './types.js';

/**
 * Training images a subnet's batch-norm statistics are computed from: more
 * than after a training (512), since these start from nothing; Once-for-All
 * uses 2,000.
 */
export const SUBNET_BN_IMAGES = 2048;

/** A subnet scored: its accuracy and the standalone model (the caller exports and disposes it). */
export interface ScoredSubnet {
  accuracy: number;
  model: LayersModel;
}

/** The standalone model of `plan` with the supernet's weights and its own BN statistics (from the first `bnImages` of `bnSplit`). */
export function inheritedModel(supernet: WeightSource, plan: NetworkPlan, bnSplit: TensorSplit, bnImages = SUBNET_BN_IMAGES): LayersModel {
  const model = buildTfjsModel(plan, 0);
  setModelWeights(model, subnetWeights(supernet, plan));
  recalibrateBatchNorm(model, bnSplit, bnImages);
  return model;
}

/** Accuracy of the subnet `plan` on `validation` (see the file comment). */
export async function scoreSubnet(
  supernet: WeightSource,
  plan: NetworkPlan,
  splits: { bn: TensorSplit; validation: TensorSplit; numClasses: number },
  bnImages = SUBNET_BN_IMAGES,
): Promise<ScoredSubnet> {
  const model = inheritedModel(supernet, plan, splits.bn, bnImages);
  const [logits] = await onnxEvaluator(plan).logits(model, [splits.validation]);
  return { accuracy: accuracyFromLogits(logits, splits.validation.labels, splits.numClasses), model };
}
