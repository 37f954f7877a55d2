/**
 * Where an INT8 file's bytes go: int8 weights, scales and zero points, int32
 * biases, float initializers left (weights of nodes kept in float, shapes),
 * and the graph itself (nodes, names, metadata: the rest of the protobuf).
 */
import { onnx } from './onnx-proto.js';
import { decodeModel } from './model.js';

export interface SizeBreakdown {
  total: number;
  weights: number;
  scalesAndZeroPoints: number;
  biases: number;
  floatInitializers: number;
  graph: number;
}

/** Splits a QDQ model's size by what the bytes hold (initializer payloads by type and role). */
export function sizeBreakdown(bytes: Uint8Array, name = 'model'): SizeBreakdown {
  const D = onnx.TensorProto.DataType;
  const out: SizeBreakdown = { total: bytes.length, weights: 0, scalesAndZeroPoints: 0, biases: 0, floatInitializers: 0, graph: 0 };
  for (const t of decodeModel(bytes, name).graph!.initializer ?? []) {
    const size = t.rawData?.length ?? 0;
    const role = t.name ?? '';
    if (role.endsWith('_scale') || role.endsWith('_zero_point')) out.scalesAndZeroPoints += size;
    else if (t.dataType === D.INT8) out.weights += size;
    else if (t.dataType === D.INT32) out.biases += size; // int32 initializers are quantized biases
    else out.floatInitializers += size;
  }
  out.graph = out.total - out.weights - out.scalesAndZeroPoints - out.biases - out.floatInitializers;
  return out;
}
