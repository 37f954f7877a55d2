/**
 * What an exporter writes, reduced to what the quantizer reasons about:
 * Constant nodes become initializers (PyTorch writes Clip bounds and shapes
 * as Constant nodes), Identity nodes are bypassed (PyTorch routes shared
 * conv weights through them, which hid 40 of MobileNetV2's 52 weights from
 * the quantizer), and each Conv is classified (depthwise, pointwise,
 * spatial) so variants can keep a kind in float. The float model is
 * unchanged in meaning; only the quantized copy is built from this form.
 */
import { attribute, copyModel, dims, type ModelProto, type NodeProto, type TensorProto } from './model.js';

/** Kinds of quantizable nodes a variant may keep in float. */
export const NODE_KINDS = ['spatial-conv', 'pointwise-conv', 'depthwise-conv', 'gemm', 'matmul', 'elementwise', 'pool'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** What normalisation removed, for the report. */
export interface NormaliseSummary {
  constantsFolded: number;
  identitiesBypassed: number;
}

/**
 * A copy of the model with Constant nodes as initializers and Identity nodes
 * bypassed (an Identity whose output is a graph output is kept: the output
 * name must stay).
 */
export function normaliseGraph(model: ModelProto): { model: ModelProto; summary: NormaliseSummary } {
  const copy = copyModel(model);
  const graph = copy.graph!;
  const outputs = new Set((graph.output ?? []).map((o) => o.name!));
  const alias = new Map<string, string>();
  const resolve = (name: string) => {
    let n = name;
    while (alias.has(n)) n = alias.get(n)!;
    return n;
  };
  const kept: NodeProto[] = [];
  let constantsFolded = 0;
  let identitiesBypassed = 0;
  for (const node of graph.node ?? []) {
    const value = node.opType === 'Constant' ? attribute(node, 'value')?.t : undefined;
    if (value && !outputs.has(node.output![0])) {
      graph.initializer!.push({ ...value, name: node.output![0] } as TensorProto);
      constantsFolded++;
      continue;
    }
    if (node.opType === 'Identity' && !outputs.has(node.output![0])) {
      alias.set(node.output![0], resolve(node.input![0]));
      identitiesBypassed++;
      continue;
    }
    kept.push({ ...node, input: (node.input ?? []).map((i) => (i ? resolve(i) : i)) });
  }
  graph.node = kept;
  return { model: copy, summary: { constantsFolded, identitiesBypassed } };
}

/** The kind of a node the registry quantizes, for variant filters and reports. */
export function nodeKind(node: NodeProto, inits: Map<string, TensorProto>): NodeKind | null {
  switch (node.opType) {
    case 'Conv': {
      const w = inits.get(node.input?.[1] ?? '');
      const shape = w ? dims(w) : [];
      const group = Number(attribute(node, 'group')?.i ?? 1);
      if (group > 1 && shape[1] === 1) return 'depthwise-conv';
      return shape.length === 4 && shape[2] === 1 && shape[3] === 1 ? 'pointwise-conv' : 'spatial-conv';
    }
    case 'Gemm':
      return 'gemm';
    case 'MatMul':
      return 'matmul';
    case 'Add':
    case 'Mul':
    case 'Concat':
    case 'Sigmoid':
      return 'elementwise';
    case 'GlobalAveragePool':
    case 'AveragePool':
      return 'pool';
    default:
      return null;
  }
}

/** The default domain's opset of a model. */
export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return Number(entry?.version ?? 0);
}

/** Each tensor's consuming nodes. */
export function consumerMap(nodes: NodeProto[]): Map<string, NodeProto[]> {
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) for (const i of node.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), node]);
  return consumers;
}
