/**
 * Which tensors of each node get a QuantizeLinear → DequantizeLinear pair,
 * one small operator per op type, in the shape of onnxruntime's own
 * quantizer (a registry from op type to operator; adding an op is one class
 * and one line). Each operator asks for exactly the QDQ pattern onnxruntime's
 * CPU provider fuses into an integer kernel:
 *
 * - Conv, Gemm, MatMul: quantized activation input, int8 weight, int32 bias,
 *   quantized output → QLinearConv, QGemm, QLinearMatMul.
 * - Relu, Clip: output quantized only if the input is; the quantizer then
 *   leaves the input float so onnxruntime drops the activation (its range is
 *   the quantization range) and fuses the producer.
 * - Reshape, Flatten, Transpose, Squeeze, Unsqueeze, MaxPool, Resize: the
 *   output shares the input's scale and zero point, so onnxruntime runs them
 *   on uint8 and drops the pair.
 * - Add, Mul (both operands activations), Concat, GlobalAveragePool,
 *   AveragePool, Sigmoid: inputs and output quantized → QLinear forms.
 *
 * An op not in the registry stays float; its neighbours still quantize their
 * side, so it runs between a DequantizeLinear and a QuantizeLinear.
 */
import { attribute, type NodeProto, type TensorProto } from './model.js';

/** A weight to store as int8 (per output channel on `axis`, or per tensor). */
export interface WeightSpec {
  node: NodeProto;
  input: number;
  axis: number;
  /** Store the (zero) zero point explicitly: onnxruntime's QGemm and QLinearMatMul fusions need it, QLinearConv does not. */
  zeroPoint: boolean;
}

/** A bias to store as int32 at scale activation·weight. */
export interface BiasSpec {
  node: NodeProto;
  input: number;
  activation: string;
  weightInput: number;
}

/** A node left in float, and why (for the CLI report). */
export interface FloatNode {
  node: string;
  opType: string;
  reason: string;
}

/** The quantization plan the operators fill in, node by node in graph order. */
export interface QdqPlan {
  /** Activation tensors with their own calibrated range. */
  calibrated: Set<string>;
  /** Tensors that reuse another tensor's scale and zero point. */
  shared: Map<string, string>;
  weights: WeightSpec[];
  biases: BiasSpec[];
  float: FloatNode[];
}

/** What an operator may ask about the graph. */
export interface PlanContext {
  inits: Map<string, TensorProto>;
  isQuantized(tensor: string): boolean;
}

/** One op type's quantization pattern. */
export interface QdqOperator {
  plan(node: NodeProto, ctx: PlanContext, plan: QdqPlan): void;
}

/** A node's name for reports (exporters may leave it empty). */
export const nodeName = (node: NodeProto) => node.name || `${node.opType}(${node.output?.[0]})`;
const keepFloat = (plan: QdqPlan, node: NodeProto, reason: string): void => {
  plan.float.push({ node: nodeName(node), opType: node.opType!, reason });
};
const quantizeInput = (ctx: PlanContext, plan: QdqPlan, tensor: string) => {
  if (!ctx.isQuantized(tensor)) plan.calibrated.add(tensor);
};

/** Conv, Gemm and MatMul: activation × constant weight (+ constant bias). */
class QdqWeighted implements QdqOperator {
  constructor(
    private readonly weightAxis: (node: NodeProto) => number | string,
    private readonly zeroPoint: boolean,
  ) {}
  plan(node: NodeProto, ctx: PlanContext, plan: QdqPlan): void {
    const [x, w, b] = node.input ?? [];
    if (ctx.inits.has(x)) return keepFloat(plan, node, 'its data input is a constant');
    if (!w || !ctx.inits.has(w)) return keepFloat(plan, node, 'its weight is computed at run time, not a constant');
    const axis = this.weightAxis(node);
    if (typeof axis === 'string') return keepFloat(plan, node, axis);
    if (b && !ctx.inits.has(b)) return keepFloat(plan, node, 'its bias is computed at run time, not a constant');
    quantizeInput(ctx, plan, x);
    plan.weights.push({ node, input: 1, axis, zeroPoint: this.zeroPoint });
    if (b) plan.biases.push({ node, input: 2, activation: x, weightInput: 1 });
    plan.calibrated.add(node.output![0]);
  }
}

/** Relu and Clip: quantized after a quantized producer, so onnxruntime can fold them. */
class QdqRemovableActivation implements QdqOperator {
  plan(node: NodeProto, ctx: PlanContext, plan: QdqPlan): void {
    if (ctx.isQuantized(node.input![0])) plan.calibrated.add(node.output![0]);
  }
}

/** Ops onnxruntime runs directly on 8-bit data: the output keeps the input's parameters. */
class QdqDirect8Bit implements QdqOperator {
  plan(node: NodeProto, ctx: PlanContext, plan: QdqPlan): void {
    if (ctx.isQuantized(node.input![0])) plan.shared.set(node.output![0], node.input![0]);
  }
}

/** Ops with QLinear forms over activation inputs (Add, Mul, Concat, pools, Sigmoid). */
class QdqActivationsIn implements QdqOperator {
  plan(node: NodeProto, ctx: PlanContext, plan: QdqPlan): void {
    const inputs = (node.input ?? []).filter(Boolean);
    if (inputs.some((i) => ctx.inits.has(i))) return keepFloat(plan, node, 'one operand is a constant');
    for (const i of inputs) quantizeInput(ctx, plan, i);
    plan.calibrated.add(node.output![0]);
  }
}

const convAxis = () => 0;
const gemmAxis = (node: NodeProto) => {
  if (Number(attribute(node, 'transA')?.i ?? 0)) return 'Gemm with transA has no integer form in onnxruntime';
  return Number(attribute(node, 'transB')?.i ?? 0) ? 0 : 1;
};
const matMulAxis = () => 1;

/** Op type → its quantization pattern. */
export const QDQ_REGISTRY: ReadonlyMap<string, QdqOperator> = new Map<string, QdqOperator>([
  ['Conv', new QdqWeighted(convAxis, false)],
  ['Gemm', new QdqWeighted(gemmAxis, true)],
  ['MatMul', new QdqWeighted(matMulAxis, true)],
  ['Relu', new QdqRemovableActivation()],
  ['Clip', new QdqRemovableActivation()],
  ['Reshape', new QdqDirect8Bit()],
  ['Flatten', new QdqDirect8Bit()],
  ['Transpose', new QdqDirect8Bit()],
  ['Squeeze', new QdqDirect8Bit()],
  ['Unsqueeze', new QdqDirect8Bit()],
  ['MaxPool', new QdqDirect8Bit()],
  ['Resize', new QdqDirect8Bit()],
  ['Add', new QdqActivationsIn()],
  ['Mul', new QdqActivationsIn()],
  ['Concat', new QdqActivationsIn()],
  ['GlobalAveragePool', new QdqActivationsIn()],
  ['AveragePool', new QdqActivationsIn()],
  ['Sigmoid', new QdqActivationsIn()],
]);

/** Ops onnxruntime removes in front of a QuantizeLinear whose range they already are. */
export const REMOVABLE_ACTIVATIONS = new Set(['Relu', 'Clip']);

/** Why an op type is not quantized at all (the CLI's float-node report). */
export function unregisteredReason(opType: string): string {
  return `onnxruntime's CPU provider has no integer ${opType}; it runs in float between its neighbours' QDQ pairs`;
}

