/**
 * Seeded input tensors from a model's input metadata. A symbolic first
 * dimension defaults to batch 1; any other symbolic dimension must be given.
 */
import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import { BenchError } from './errors.js';

export interface InputSpec {
  name: string;
  shape: number[];
  type: string;
}

/** Resolves each input's shape from its metadata and the caller's `shapes`. */
export function resolveInputs(
  metadata: readonly ort.InferenceSession.ValueMetadata[],
  shapes: Record<string, number[]>,
  model: string,
): InputSpec[] {
  const given = new Set(Object.keys(shapes));
  const specs = metadata.map((m, index) => {
    if (!m.isTensor) throw new BenchError(`${model}: input '${m.name}' is not a tensor; cannot generate it`);
    const wanted = shapes[m.name] ?? (metadata.length === 1 ? shapes['*'] : undefined);
    given.delete(m.name);
    given.delete('*');
    const declared = m.shape;
    if (wanted) {
      if (declared.length && wanted.length !== declared.length) {
        throw new BenchError(`${model}: --shape for '${m.name}' has rank ${wanted.length}, the model's input [${declared.join(', ')}] has rank ${declared.length}`);
      }
      declared.forEach((d, i) => {
        if (typeof d === 'number' && d > 0 && d !== wanted[i]) {
          throw new BenchError(`${model}: --shape for '${m.name}' gives ${wanted[i]} at dimension ${i}, the model fixes ${d}`);
        }
      });
      return { name: m.name, shape: wanted, type: m.type };
    }
    const shape = declared.map((d, i) => {
      if (typeof d === 'number' && d > 0) return d;
      if (i === 0) return 1;
      throw new BenchError(`${model}: input '${m.name}' dimension ${i} is symbolic ('${d}'); pass --shape ${m.name}:${declared.map((x) => (typeof x === 'number' && x > 0 ? x : 'N')).join('x')}`);
    });
    void index;
    return { name: m.name, shape, type: m.type };
  });
  if (given.size) throw new BenchError(`${model}: --shape names no input of the model: ${[...given].join(', ')}`);
  return specs;
}

/** Seeded values for each input: uniform [-1, 1) floats, small non-negative integers. */
export function makeFeeds(specs: InputSpec[], seed: number, model: string): Record<string, ort.Tensor> {
  const rng = seedrandom(`inputs:${seed}`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    switch (s.type) {
      case 'float32':
        feeds[s.name] = new ort.Tensor('float32', Float32Array.from({ length: size }, () => rng() * 2 - 1), s.shape);
        break;
      case 'uint8':
        feeds[s.name] = new ort.Tensor('uint8', Uint8Array.from({ length: size }, () => Math.floor(rng() * 256)), s.shape);
        break;
      case 'int32':
        feeds[s.name] = new ort.Tensor('int32', Int32Array.from({ length: size }, () => Math.floor(rng() * 10)), s.shape);
        break;
      case 'int64':
        feeds[s.name] = new ort.Tensor('int64', BigInt64Array.from({ length: size }, () => BigInt(Math.floor(rng() * 10))), s.shape);
        break;
      case 'bool':
        feeds[s.name] = new ort.Tensor('bool', Uint8Array.from({ length: size }, () => (rng() < 0.5 ? 1 : 0)), s.shape);
        break;
      default:
        throw new BenchError(`${model}: input '${s.name}' has type ${s.type}; inputs of that type cannot be generated`);
    }
  }
  return feeds;
}

/** Parses `--shape` values: `name:1x3x28x28`, or `1x3x28x28` for a single-input model. */
export function parseShapes(values: string[]): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const v of values) {
    const colon = v.lastIndexOf(':');
    const name = colon >= 0 ? v.slice(0, colon) : '*';
    const dims = (colon >= 0 ? v.slice(colon + 1) : v).split(/[x,]/).map(Number);
    if (!dims.length || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new BenchError(`--shape '${v}': expected [name:]D1xD2x… with positive integers`);
    }
    shapes[name] = dims;
  }
  return shapes;
}
