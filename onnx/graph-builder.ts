/**
 * A small writer for ONNX graphs over the ONNX protobuf code generated from
 * ONNX's schema (onnx/onnx-proto.js): named initializers, nodes with typed attributes, one float input and output with a symbolic batch
 * dimension. Used by the model exporter and by INT8 quantization.
 */
import { onnx } from './onnx-proto.js';

/** The opset every model this package writes targets (HardSwish needs 14). */
export const OPSET = 17;
/** IR version 8 goes with opset 17 (ONNX 1.12+). */
export const IR_VERSION = 8;

export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

/** Builds one graph; `toBytes` encodes the ModelProto. */
export class OnnxGraphBuilder {
  readonly #nodes: onnx.INodeProto[] = [];
  readonly #initializers: onnx.ITensorProto[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  /** A fresh value name with the given prefix. */
  fresh(prefix: string): string {
    let name = prefix;
    while (this.#names.has(name)) name = `${prefix}_${++this.#counter}`;
    this.#names.add(name);
    return name;
  }

  /** Adds a float32 constant tensor and returns its name. */
  float(name: string, dims: number[], values: ArrayLike<number>): string {
    const data = Float32Array.from(values);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    const unique = this.fresh(name);
    this.#initializers.push({
      name: unique,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return unique;
  }

  /** Adds an integer constant (int8, uint8, int32 or int64) and returns its name. */
  integer(name: string, dims: number[], values: ArrayLike<number>, type: 'int8' | 'uint8' | 'int32' | 'int64'): string {
    const unique = this.fresh(name);
    const D = onnx.TensorProto.DataType;
    let raw: Uint8Array;
    let dataType: number;
    if (type === 'int8') [raw, dataType] = [new Uint8Array(Int8Array.from(values).buffer), D.INT8];
    else if (type === 'uint8') [raw, dataType] = [Uint8Array.from(values), D.UINT8];
    else if (type === 'int32') [raw, dataType] = [new Uint8Array(Int32Array.from(values).buffer), D.INT32];
    else [raw, dataType] = [new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer), D.INT64];
    this.#initializers.push({ name: unique, dims, dataType, rawData: raw });
    return unique;
  }

  /** Adds a node; returns its first output's name. */
  node(spec: NodeSpec): string {
    this.#nodes.push({
      opType: spec.op,
      name: spec.name ?? this.fresh(`${spec.op}_node`),
      input: spec.inputs,
      output: spec.outputs,
      attribute: Object.entries(spec.attributes ?? {}).map(([k, v]) => attribute(k, v)),
    });
    return spec.outputs[0];
  }

  /** A single-output node whose output gets a fresh name from `prefix`. */
  op(op: string, inputs: string[], prefix: string, attributes?: Record<string, AttributeValue>): string {
    return this.node({ op, inputs, outputs: [this.fresh(prefix)], name: this.fresh(`${prefix}_op`), attributes });
  }

  /**
   * Encodes the model. Input and output are float tensors; a string in a
   * shape is a symbolic dimension (e.g. 'batch').
   */
  toBytes(options: {
    graphName: string;
    input: { name: string; shape: Array<number | string> };
    output: { name: string; shape: Array<number | string> };
    /** Further graph outputs after `output` (e.g. a statistics graph's per-layer means). */
    extraOutputs?: ReadonlyArray<{ name: string; shape: Array<number | string> }>;
    docString?: string;
    metadata?: Record<string, string>;
  }): Uint8Array {
    const valueInfo = (name: string, shape: Array<number | string>): onnx.IValueInfoProto => ({
      name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
        },
      },
    });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'nas-edge',
      producerVersion: '0.1.0',
      docString: options.docString ?? '',
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.graphName,
        node: this.#nodes,
        initializer: this.#initializers,
        input: [valueInfo(options.input.name, options.input.shape)],
        output: [options.output, ...(options.extraOutputs ?? [])].map((o) => valueInfo(o.name, o.shape)),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
