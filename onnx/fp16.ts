/**
 * float16 ONNX for GPU targets: every float32 initializer stored as float16,
 * every float tensor computed in float16, with a Cast after the input and
 * before the output so callers still feed and read float32. Halves the file;
 * the speed gain needs an execution provider with float16 kernels (CUDA,
 * DirectML, CoreML), not onnxruntime's default CPU provider.
 */
import { onnx } from './onnx-proto.js';
import { decodeModel, encodeModel, floatValues, intAttribute, newNode } from './model.js';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE 754 binary16 bits of a number, round to nearest even; overflow to ±Inf, tiny values to subnormals or ±0. */
export function toHalfBits(value: number): number {
  scratch.setFloat32(0, value);
  const x = scratch.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf or NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Converts a float32 model to float16 compute with float32 input and output. */
export function toFloat16Model(bytes: Uint8Array, name: string): Uint8Array {
  const model = decodeModel(bytes, name);
  const graph = model.graph!;
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== FLOAT) continue;
    const values = floatValues(t);
    const halves = Uint16Array.from(values, toHalfBits);
    t.dataType = FLOAT16;
    t.floatData = [];
    t.rawData = new Uint8Array(halves.buffer);
  }
  const input = graph.input![0].name!;
  const output = graph.output![0].name!;
  const castIn = `${input}_fp16`;
  const castOut = `${output}_fp16`;
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map((i) => (i === input ? castIn : i));
    node.output = (node.output ?? []).map((o) => (o === output ? castOut : o));
    // Casts inside the graph that produced float32 now produce float16.
    for (const a of node.attribute ?? []) if (node.opType === 'Cast' && a.name === 'to' && Number(a.i) === FLOAT) a.i = FLOAT16;
  }
  graph.node = [
    newNode({ op: 'Cast', inputs: [input], outputs: [castIn], name: 'input_to_float16', attributes: [intAttribute('to', FLOAT16)] }),
    ...(graph.node ?? []),
    newNode({ op: 'Cast', inputs: [castOut], outputs: [output], name: 'output_to_float32', attributes: [intAttribute('to', FLOAT)] }),
  ];
  graph.valueInfo = [];
  model.docString = `${model.docString ?? ''} (float16 weights and compute; float32 input and output)`.trim();
  return encodeModel(model);
}
