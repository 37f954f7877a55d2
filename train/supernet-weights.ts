/**
 * The supernet's weights as tfjs variables, and a subnet's forward pass over
 * slices of them. Training needs the slices inside the gradient tape, so a
 * subnet cannot be a tfjs-layers model with copied weights: its forward pass
 * is written out here with the same ops, in the same order, as
 * space/build-tfjs.ts builds them (a test holds the two equal), and
 * `tf.slice` on a variable sends each subnet's gradient into the leading
 * channels (and centre taps) it used. Scoring and export do not come through
 * here: they take space/supernet.ts's `subnetWeights` view into the existing
 * builders.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildTfjsModel } from '../space/build-tfjs.js';
import type { WeightSource } from '../space/build-onnx.js';
import { BATCH_NORM_TRAINING } from '../space/fused-batch-norm.js';
import { hardSwishOp } from './kernels/hard-swish.js';
import type { ConvSpec, NetworkPlan } from '../space/plan.js';
import { KERNEL_TRANSFORM_SUFFIX, planWeightShapes, sliceBegin, supernetWeightShapes } from '../space/supernet.js';

/** BN epsilon of the builders (build-tfjs.ts, build-onnx.ts). */
const BN_EPSILON = 1e-3;

let instances = 0;

/** One variable per weight tensor of the supernet's plan, by layer name in tfjs order. */
export class SupernetWeights {
  readonly #layers = new Map<string, tf.Variable[]>();
  readonly #prefix = `supernet${instances++}`;

  /** `kernelTransform`: the depthwise layers carry Once-for-All's kernel transformation matrices (space/supernet.ts). */
  private constructor(
    readonly plan: NetworkPlan,
    readonly kernelTransform: boolean,
  ) {}

  /**
   * He-normal initial weights: the supernet's plan built as buildTfjsModel
   * builds any genome with `seed`; transformation matrices start as the
   * identity (a smaller kernel starts as the bare centre).
   */
  static initial(plan: NetworkPlan, seed: number, kernelTransform = false): SupernetWeights {
    const model = buildTfjsModel(plan, seed);
    try {
      const weights = new SupernetWeights(plan, kernelTransform);
      for (const layer of model.layers) {
        const tensors = layer.getWeights();
        if (tensors.length) weights.#set(layer.name, tensors.map((t) => t.dataSync() as Float32Array), tensors.map((t) => t.shape));
      }
      for (const [name, shapes] of supernetWeightShapes(plan, kernelTransform)) {
        if (!name.endsWith(KERNEL_TRANSFORM_SUFFIX)) continue;
        const identity = (n: number) => Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
        weights.#set(name, shapes.map(([n]) => identity(n)), shapes);
      }
      return weights;
    } finally {
      model.dispose();
    }
  }

  /** Weights read from `source` (a checkpoint, a cached supernet), shaped as the plan says. */
  static fromSource(plan: NetworkPlan, source: WeightSource, kernelTransform = false): SupernetWeights {
    const weights = new SupernetWeights(plan, kernelTransform);
    for (const [name, shapes] of supernetWeightShapes(plan, kernelTransform)) {
      const tensors = source(name);
      if (tensors.length !== shapes.length || tensors.some((t, k) => t.values.length !== shapes[k].reduce((a, b) => a * b, 1))) {
        throw new RangeError(`supernet layer ${name}: the weights given do not have the plan's shapes ${JSON.stringify(shapes)}`);
      }
      weights.#set(name, tensors.map((t) => t.values), shapes);
    }
    return weights;
  }

  #set(name: string, values: Float32Array[], shapes: number[][]): void {
    // BN's moving statistics are not trained: every subnet's are recomputed before it is scored.
    const trainable = (k: number) => !(name.endsWith('_bn') && k >= 2);
    this.#layers.set(
      name,
      values.map((v, k) => tf.variable(tf.tensor(v, shapes[k]), trainable(k), `${this.#prefix}/${name}/${k}`)),
    );
  }

  /** The variables of one layer (tfjs order). */
  layer(name: string): tf.Variable[] {
    const v = this.#layers.get(name);
    if (!v) throw new Error(`the supernet has no layer ${name}`);
    return v;
  }

  /** Layer names in a fixed order: checkpoints list tensors in it. */
  names(): string[] {
    return [...supernetWeightShapes(this.plan, this.kernelTransform).keys()];
  }

  /** Every variable, layer by layer in {@link names} order. */
  all(): tf.Variable[] {
    return this.names().flatMap((n) => this.layer(n));
  }

  /** The variables gradients update (not BN's moving statistics). */
  trainable(): tf.Variable[] {
    return this.all().filter((v) => v.trainable);
  }

  /** Conv and dense kernels: what weight decay applies to (as decayedWeights in training-loop.ts). */
  decayed(): tf.Variable[] {
    return this.names()
      .filter((n) => !n.endsWith('_bn') && !n.endsWith(KERNEL_TRANSFORM_SUFFIX))
      .map((n) => this.layer(n)[0]);
  }

  /** The current values as a {@link WeightSource} (copies), for subnetWeights and the builders. */
  source(): WeightSource {
    return (name) => this.layer(name).map((v) => ({ shape: v.shape, values: Float32Array.from(v.dataSync() as Float32Array) }));
  }

  /** Every tensor's values in {@link all} order (a checkpoint's weights). */
  values(): Float32Array[] {
    return this.all().map((v) => Float32Array.from(v.dataSync() as Float32Array));
  }

  /** Overwrites every variable from values in {@link all} order. */
  assign(values: Float32Array[]): void {
    const all = this.all();
    if (values.length !== all.length || all.some((v, i) => v.size !== values[i].length)) {
      throw new RangeError(`${values.length} weight tensors do not fit this supernet's ${all.length}`);
    }
    all.forEach((v, i) => v.assign(tf.tensor(values[i], v.shape)));
  }

  dispose(): void {
    for (const vs of this.#layers.values()) vs.forEach((v) => v.dispose());
    this.#layers.clear();
  }
}

/** How a subnet's forward pass normalises. */
export type BatchNormMode = 'batch' | 'moving';

/**
 * A subnet's logits from the supernet's weights. `plan` must be a subnet of
 * the supernet's plan (same layer names, no larger shapes). With `batch`
 * (training) BN uses the batch's statistics; with `moving`, the sliced
 * moving mean and variance, as a standalone model in inference mode.
 */
export function subnetLogits(weights: SupernetWeights, plan: NetworkPlan, x: tf.Tensor4D, bn: BatchNormMode): tf.Tensor2D {
  const shapes = planWeightShapes(plan);
  const sliced = (name: string): tf.Tensor[] =>
    weights.layer(name).map((v, k) => {
      const shape = shapes.get(name)![k];
      if (shape.every((s, axis) => s === v.shape[axis])) return v;
      return tf.slice(v, sliceBegin(v.shape, shape, name), shape);
    });

  const activate = (y: tf.Tensor4D, activation: ConvSpec['activation']): tf.Tensor4D => {
    if (activation === null) return y;
    if (activation === 'relu6') return tf.relu6(y);
    return hardSwishOp(y);
  };

  const normalise = (y: tf.Tensor4D, name: string): tf.Tensor4D => {
    const [gamma, beta, mean, variance] = sliced(name);
    if (bn === 'moving') return tf.batchNorm(y, mean, variance, beta, gamma, BN_EPSILON) as tf.Tensor4D;
    if (tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend())) {
      const [out] = tf.engine().runKernel(BATCH_NORM_TRAINING, { x: y, scale: gamma, offset: beta }, { epsilon: BN_EPSILON }) as tf.Tensor[];
      return out as tf.Tensor4D;
    }
    const moments = tf.moments(y, [0, 1, 2]);
    return tf.batchNorm(y, moments.mean, moments.variance, beta, gamma, BN_EPSILON) as tf.Tensor4D;
  };

  // Once-for-All's kernel transformation: each step down, the centre of every channel's kernel times the step's matrix.
  const transformed = (c: ConvSpec): tf.Tensor => {
    const full = weights.layer(c.name)[0];
    const matrices = weights.layer(`${c.name}${KERNEL_TRANSFORM_SUFFIX}`);
    let kernel: tf.Tensor = tf.slice(full, [0, 0, 0, 0], [full.shape[0] as number, full.shape[1] as number, c.outChannels, 1]);
    for (let step = 0, size = full.shape[0] as number; size > c.kernel; step++, size -= 2) {
      const next = size - 2;
      const centre = tf.reshape(tf.slice(kernel, [1, 1, 0, 0], [next, next, c.outChannels, 1]), [next * next, c.outChannels]);
      kernel = tf.reshape(tf.transpose(tf.matMul(tf.transpose(centre), matrices[step])), [next, next, c.outChannels, 1]);
    }
    return kernel;
  };

  const convBn = (input: tf.Tensor4D, c: ConvSpec): tf.Tensor4D => {
    const useTransform = c.depthwise && weights.kernelTransform && c.kernel < weights.layer(c.name)[0].shape[0];
    const [kernel] = useTransform ? [transformed(c)] : sliced(c.name);
    const y = c.depthwise
      ? tf.depthwiseConv2d(input, kernel as tf.Tensor4D, c.stride, 'same')
      : tf.conv2d(input, kernel as tf.Tensor4D, c.stride, 'same');
    return activate(normalise(y, `${c.name}_bn`), c.activation);
  };

  let h = convBn(x, plan.stem);
  for (const block of plan.blocks) {
    const shortcut = h;
    if (block.expand) h = convBn(h, block.expand);
    h = convBn(h, block.depthwise);
    const se = block.squeezeExcite;
    if (se) {
      const [reduceKernel, reduceBias] = sliced(`${se.name}_reduce`);
      const [expandKernel, expandBias] = sliced(`${se.name}_expand`);
      let s = tf.reshape(tf.mean(h, [1, 2]), [-1, 1, 1, se.channels]) as tf.Tensor4D;
      s = tf.relu(tf.add(tf.conv2d(s, reduceKernel as tf.Tensor4D, 1, 'valid'), reduceBias));
      s = tf.clipByValue(tf.add(0.5, tf.mul(0.2, tf.add(tf.conv2d(s, expandKernel as tf.Tensor4D, 1, 'valid'), expandBias))), 0, 1);
      h = tf.mul(h, s);
    }
    h = convBn(h, block.project);
    if (block.residual) h = tf.add(shortcut, h);
  }
  h = convBn(h, plan.head);
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
  const [kernel, bias] = sliced(plan.classifier.name);
  return tf.add(tf.matMul(pooled, kernel as tf.Tensor2D), bias);
}
