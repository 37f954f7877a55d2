/**
 * Reading and rewriting ONNX models at the protobuf level (onnx/onnx-proto.js,
 * generated from ONNX's schema): decode, look up float initializers, list activation tensors, encode.
 */
import protobuf from 'protobufjs/minimal.js';
import { CodedError } from '../errors.js';
import { onnx } from './onnx-proto.js';

export type ModelProto = onnx.ModelProto;
export type NodeProto = onnx.INodeProto;
export type TensorProto = onnx.ITensorProto;

/** A model that cannot be compressed; exits with code 9 in the CLI. */
export class CompressError extends CodedError {
  readonly code = 'E_COMPRESS';
}

/**
 * Decodes keeping the fields this schema does not know (protobufjs drops them
 * unless told), so that encoding writes them back: a model from an ONNX newer
 * than onnx/onnx-proto.js loses nothing on the messages a rewrite keeps.
 */
function decodeKeepingUnknownFields(bytes: Uint8Array): ModelProto {
  const reader = protobuf.Reader.create(bytes);
  reader.discardUnknown = false;
  return onnx.ModelProto.decode(reader);
}

export function decodeModel(bytes: Uint8Array, name: string): ModelProto {
  try {
    const model = decodeKeepingUnknownFields(bytes);
    if (!model.graph) throw new Error('no graph');
    return model;
  } catch (error) {
    throw new CompressError(`${name}: not an ONNX model (${(error as Error).message})`);
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** A deep copy, through the bytes, with the fields unknown to the schema kept. */
export function copyModel(model: ModelProto): ModelProto {
  return decodeKeepingUnknownFields(encodeModel(model));
}

/** A float32 initializer's values (raw_data or float_data). */
export function floatValues(t: TensorProto): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new CompressError(`initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData);
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

export function dims(t: TensorProto): number[] {
  return (t.dims ?? []).map(Number);
}

/** Initializers by name. */
export function initializerMap(model: ModelProto): Map<string, TensorProto> {
  return new Map((model.graph!.initializer ?? []).map((t) => [t.name!, t]));
}

/** A tensor proto of the given type from values. */
export function tensorProto(name: string, shape: number[], values: ArrayLike<number>, type: 'float' | 'int8' | 'uint8' | 'int32'): TensorProto {
  const D = onnx.TensorProto.DataType;
  const raw =
    type === 'float' ? new Uint8Array(Float32Array.from(values).buffer)
    : type === 'int8' ? new Uint8Array(Int8Array.from(values).buffer)
    : type === 'uint8' ? Uint8Array.from(values)
    : new Uint8Array(Int32Array.from(values).buffer);
  const dataType = type === 'float' ? D.FLOAT : type === 'int8' ? D.INT8 : type === 'uint8' ? D.UINT8 : D.INT32;
  return { name, dims: shape, dataType, rawData: raw };
}

export function attribute(node: NodeProto, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** A copy of the model with these extra float outputs (calibration). */
export function withExtraOutputs(model: ModelProto, names: string[]): ModelProto {
  const copy = copyModel(model);
  const existing = new Set((copy.graph!.output ?? []).map((o) => o.name));
  for (const name of names) {
    if (existing.has(name)) continue;
    copy.graph!.output!.push({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  }
  return copy;
}

export const newNode = (spec: { op: string; inputs: string[]; outputs: string[]; name: string; attributes?: onnx.IAttributeProto[] }): NodeProto => ({
  opType: spec.op,
  input: spec.inputs,
  output: spec.outputs,
  name: spec.name,
  attribute: spec.attributes ?? [],
});

export const intAttribute = (name: string, value: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
