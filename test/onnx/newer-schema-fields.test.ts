/**
 * `nas quantize` and `nas fp16` decode a model and encode it again, so any
 * field the protobuf code does not know is lost. onnx-proto knew ONNX 1.10's
 * schema; models from IR 9–10 exporters carry more. Here a model carries
 * fields added in ONNX 1.16 (IR 10), `metadata_props` on GraphProto (field 16),
 * ValueInfoProto (field 4) and NodeProto (field 9), plus a field number no ONNX
 * release uses yet. They are written as raw protobuf bytes, not through the
 * generated code, so the test does not assume the schema it checks.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { toFloat16Model } from '../../onnx/fp16.js';
import { decodeModel } from '../../onnx/model.js';
import { quantizeModel } from '../../onnx/quantize.js';
import { onnx } from '../../onnx/onnx-proto.js';
import { buildOnnxModel } from '../../space/build-onnx.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { randomWeights } from '../../space/random-weights.js';
import { MobileNetSpace } from '../../space/space.js';
import { seededArray } from '../helpers.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

function concat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** A length-delimited field: tag (number, wire type 2), length, payload. */
const field = (number: number, payload: Uint8Array) => concat(varint(number * 8 + 2), varint(payload.length), payload);
/** A StringStringEntryProto: key = 1, value = 2. */
const entry = (key: string, value: string) => concat(field(1, utf8(key)), field(2, utf8(value)));

const GRAPH_ENTRY = field(16, entry('graph-note', 'exported by an IR 10 exporter'));
const INPUT_ENTRY = field(4, entry('input-note', 'pixels in [0, 1]'));
const NODE_ENTRY = field(9, entry('node-note', 'the classifier'));
/** Field 999 of GraphProto: in no ONNX schema yet. */
const UNKNOWN_GRAPH_FIELD = field(999, utf8('from a future ONNX'));

/**
 * A small float model whose graph, graph input and last node carry the fields above.
 * The parts are encoded separately and joined as raw bytes: appending a field to a
 * message's bytes adds it to that message, and the last node stays last.
 */
function modelWithNewerFields(): { bytes: Uint8Array; resolution: number } {
  const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
  const plan = space.plan(space.sample(seedrandom('newer-fields')));
  const model = onnx.ModelProto.decode(buildOnnxModel(plan, randomWeights(plan, 1)));
  const graph = model.graph!;
  const [input] = graph.input!.splice(0, 1);
  const last = graph.node!.pop()!;
  model.graph = null;
  const graphBytes = concat(
    onnx.GraphProto.encode(graph).finish(),
    field(1, concat(onnx.NodeProto.encode(last).finish(), NODE_ENTRY)),
    field(11, concat(onnx.ValueInfoProto.encode(input).finish(), INPUT_ENTRY)),
    GRAPH_ENTRY,
    UNKNOWN_GRAPH_FIELD,
  );
  return { bytes: concat(onnx.ModelProto.encode(model).finish(), field(7, graphBytes)), resolution: plan.resolution };
}

/** Whether `needle` occurs in `haystack` byte for byte. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle));
}

function expectNewerFields(bytes: Uint8Array, lastOpType: string): void {
  const raw = { GRAPH_ENTRY, INPUT_ENTRY, NODE_ENTRY, UNKNOWN_GRAPH_FIELD };
  const lost = Object.entries(raw).filter(([, b]) => !contains(bytes, b)).map(([name]) => name);
  expect(lost, 'fields whose bytes are no longer in the re-encoded model').toEqual([]);
  // And each where it belongs.
  const graph = onnx.ModelProto.decode(bytes).graph!;
  expect(graph.metadataProps).toEqual([{ key: 'graph-note', value: 'exported by an IR 10 exporter' }]);
  expect(graph.input![0].metadataProps).toEqual([{ key: 'input-note', value: 'pixels in [0, 1]' }]);
  const noted = graph.node!.filter((n) => n.metadataProps?.length);
  expect(noted.map((n) => [n.opType, n.metadataProps])).toEqual([[lastOpType, [{ key: 'node-note', value: 'the classifier' }]]]);
}

describe('ONNX fields newer than 1.10 (metadata_props of ONNX 1.16) survive re-encoding', () => {
  const { bytes, resolution } = modelWithNewerFields();
  const lastOpType = decodeModel(bytes, 'model.onnx').graph!.node!.at(-1)!.opType!;

  it('the model as written carries them (the test’s own bytes are right)', () => {
    expectNewerFields(bytes, lastOpType);
  });

  it('nas fp16 (toFloat16Model) keeps them', () => {
    expectNewerFields(toFloat16Model(bytes, 'model.onnx'), lastOpType);
  });

  it('nas quantize (quantizeModel) keeps them', async () => {
    const batch = { data: seededArray(2 * resolution * resolution, 'calibration'), dims: [2, 1, resolution, resolution] };
    const { bytes: int8 } = await quantizeModel(bytes, 'model.onnx', [batch]);
    expect(onnx.ModelProto.decode(int8).graph!.node!.some((n) => n.opType === 'QuantizeLinear')).toBe(true);
    expectNewerFields(int8, lastOpType);
  });
});
