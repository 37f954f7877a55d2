/**
 * Instantiates the SIMD kernels (simd-kernels.wat, assembled at build time into
 * simd-kernels-wasm.ts) against the tfjs wasm backend's own memory, once per
 * process, and hands out pointer-level helpers. When the module cannot be
 * instantiated the training kernels keep their JavaScript loops.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { SIMD_KERNELS_WASM_BASE64 } from './simd-kernels-wasm.js';

/** The exports of the compiled module; every pointer is a heap byte offset. */
export interface SimdExports {
  columnSums(x: number, rows: number, c: number, sum: number): void;
  centredSquares(x: number, rows: number, c: number, mean: number, sq: number): void;
  affine(x: number, rows: number, c: number, a: number, b: number, y: number): void;
  gradSums(dy: number, x: number, rows: number, c: number, mean: number, sumDy: number, sumDyXc: number): void;
  gradApply(dy: number, x: number, rows: number, c: number, a: number, b: number, k: number, out: number): void;
  clipGrad(x: number, dy: number, out: number, n: number, lo: number, hi: number): void;
  depthwiseInputGradient(dy: number, w: number, dx: number, geometry: number): void;
  depthwiseForward(x: number, w: number, y: number, geometry: number): void;
  depthwiseFilterGradient(x: number, dy: number, dw: number, geometry: number): void;
  hardSwish(x: number, y: number, n: number): void;
  hardSwishGrad(x: number, dy: number, out: number, n: number): void;
  gemmAtB(a: number, b: number, dw: number, rows: number, m: number, n: number, rowBlock: number): void;
}

/** The slice of the tfjs wasm backend the SIMD path needs. */
export interface WasmHeapBackend {
  // HEAPU8 is the view emscripten refreshes when the heap grows; HEAPF32 may be stale.
  wasm: { asm?: { memory?: WebAssembly.Memory }; HEAPU8: Uint8Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
  disposeData(id: unknown): void;
}

let simd: SimdExports | null = null;
let memoryOfSimd: WebAssembly.Memory | null = null;

/**
 * Builds the module for this backend's memory. Returns why it could not, or
 * null on success; callers log the reason and carry on with the JS loops.
 */
export async function enableSimdKernels(backend: WasmHeapBackend): Promise<string | null> {
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return 'wasm backend does not expose its memory';
  if (simd && memoryOfSimd === memory) return null;
  try {
    const module = await WebAssembly.compile(Buffer.from(SIMD_KERNELS_WASM_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    simd = instance.exports as unknown as SimdExports;
    memoryOfSimd = memory;
    return null;
  } catch (error) {
    simd = null;
    return error instanceof Error ? error.message : String(error);
  }
}

/** The compiled kernels if they run on this backend's memory, else null. */
export function simdFor(backend: unknown): SimdExports | null {
  const memory = (backend as Partial<WasmHeapBackend>).wasm?.asm?.memory;
  return simd && memory === memoryOfSimd ? simd : null;
}

/**
 * Pointer bookkeeping for one kernel call: byte offsets of tensors, and small
 * scratch tensors (per-channel vectors, geometry) freed together at the end.
 */
export class HeapScope {
  readonly #backend: WasmHeapBackend;
  readonly #scratch: TensorInfo[] = [];

  constructor(backend: unknown) {
    this.#backend = backend as WasmHeapBackend;
  }

  ptr(info: TensorInfo): number {
    const data = this.#backend.dataIdMap.get(info.dataId);
    if (!data) throw new Error('tensor is not on the wasm heap');
    return data.memoryOffset;
  }

  output(shape: number[]): TensorInfo {
    return this.#backend.makeOutput(shape, 'float32');
  }

  #floats(): Float32Array {
    return new Float32Array(this.#backend.wasm.HEAPU8.buffer);
  }

  /** Writes floats at a pointer. Pointers pass 2³¹ once the heap does: shift unsigned. */
  write(p: number, values: ArrayLike<number>): void {
    this.#floats().set(values, p >>> 2);
  }

  /** Scratch float32 vector, optionally filled; freed by {@link dispose}. */
  floats(values: ArrayLike<number> | number): number {
    const length = typeof values === 'number' ? values : values.length;
    const info = this.#backend.makeOutput([length], 'float32');
    this.#scratch.push(info);
    const p = this.ptr(info);
    if (typeof values !== 'number') this.write(p, values);
    return p;
  }

  /** Reads `length` floats at a pointer (a copy, safe after the heap grows). */
  read(p: number, length: number): Float32Array {
    return this.#floats().slice(p >>> 2, (p >>> 2) + length);
  }

  ints(values: number[]): number {
    const info = this.#backend.makeOutput([values.length], 'int32');
    this.#scratch.push(info);
    const p = this.ptr(info);
    new Int32Array(this.#backend.wasm.HEAPU8.buffer).set(values, p >>> 2);
    return p;
  }

  dispose(): void {
    for (const info of this.#scratch) this.#backend.disposeData(info.dataId);
    this.#scratch.length = 0;
  }
}
