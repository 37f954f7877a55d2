/**
 * Registers the kernels that let the wasm backend train MobileNet-style nets:
 * the three gradients it lacks, a matMul path for 1×1 input gradients, and a
 * fused training batch-norm (forward and backward) that replaces tfjs's
 * moments + FusedBatchNorm chain (about ten full passes over the activation).
 *
 * Loops work directly on views of the wasm heap; matrix products go to
 * XNNPACK through the backend's own BatchMatMul kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING } from '../../space/fused-batch-norm.js';
import {
  batchNormBackward,
  batchNormForward,
  depthwiseBackpropFilter,
  depthwiseBackpropInput,
  im2col,
  transpose2d,
  type ConvGeometry,
} from './loops.js';
import { inputGradientUnneeded } from './image-gradient.js';
import { HARD_SWISH, HARD_SWISH_GRAD } from './hard-swish.js';
import { HeapScope, simdFor } from './simd.js';

/** Kernel name of its gradient: outputs [dx, dScale, dOffset]. */
export const BATCH_NORM_TRAINING_GRAD = 'NasBatchNormTrainingGrad';
/** Kernel name of the gradient of a clip to (lo, hi): dy where lo < x < hi, else 0. */
export const CLIP_GRAD = 'NasClipGrad';

/** The slice of the wasm and cpu backends these kernels touch. */
interface HeapBackend {
  typedArrayFromHeap(info: TensorInfo): tf.TypedArray;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}
interface ValuesBackend {
  data: { get(id: tf.DataId): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): TensorInfo;
}

/**
 * Gives a kernel float32 views of its inputs and fresh outputs on either
 * backend. Outputs are allocated before any view is taken, because growing the
 * wasm heap detaches existing views.
 */
function withArrays(
  backend: unknown,
  inputs: TensorInfo[],
  outputShapes: number[][],
  body: (ins: Float32Array[], outs: Float32Array[]) => void,
): TensorInfo[] {
  const heap = backend as Partial<HeapBackend>;
  if (typeof heap.typedArrayFromHeap === 'function' && typeof heap.makeOutput === 'function') {
    const outs = outputShapes.map((s) => heap.makeOutput!(s, 'float32'));
    const views = (infos: TensorInfo[]) => infos.map((i) => heap.typedArrayFromHeap!(i) as Float32Array);
    body(views(inputs), views(outs));
    return outs;
  }
  const cpu = backend as ValuesBackend;
  const ins = inputs.map((i) => cpu.data.get(i.dataId).values as Float32Array);
  const outs = outputShapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
  body(ins, outs);
  return outs.map((o, k) => cpu.makeTensorInfo(outputShapes[k], 'float32', o));
}

function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

function requireNHWC(kernel: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm: only NHWC is supported, got ${attrs.dataFormat}`);
  }
}

function wasmKernel(name: string): KernelFunc {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm backend has no ${name} kernel`);
  return kernel.kernelFunc;
}

/**
 * a · b on the backend's own BatchMatMul, for 2-D operands given as
 * [rows, cols] views of any tensor. A transposed operand is transposed
 * explicitly first (a tiled copy, see transpose2d): XNNPACK multiplies
 * untransposed operands about five times faster than tfjs's transposed path.
 */
function matMul(
  backend: unknown,
  a: TensorInfo,
  aShape: [number, number],
  b: TensorInfo,
  bShape: [number, number],
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const kb = backend as tf.KernelBackend;
  const temporaries: TensorInfo[] = [];
  const operand = (t: TensorInfo, shape: [number, number], transpose: boolean): TensorInfo => {
    const view = { ...t, shape: [1, ...shape] };
    if (!transpose) return view;
    const heap = backend as HeapBackend;
    const transposed = heap.makeOutput([1, shape[1], shape[0]], 'float32');
    transpose2d(heap.typedArrayFromHeap(t) as Float32Array, heap.typedArrayFromHeap(transposed) as Float32Array, shape[0], shape[1]);
    temporaries.push(transposed);
    return transposed;
  };
  const out = wasmKernel('BatchMatMul')({
    inputs: { a: operand(a, aShape, transposeA), b: operand(b, bShape, transposeB) },
    backend: kb,
    attrs: { transposeA: false, transposeB: false },
  }) as TensorInfo;
  for (const t of temporaries) kb.disposeData(t.dataId);
  return out;
}

function isPointwise(g: ConvGeometry): boolean {
  return (
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0
  );
}

/**
 * Rows per block of the SIMD filter gradient: a block of both operands
 * (rows × (m + n) floats) within 64 KiB, so it stays in L1/L2 while every
 * tile of dW sweeps it.
 */
function filterGradientRowBlock(m: number, n: number): number {
  return Math.min(1024, Math.max(16, Math.floor(16384 / (m + n))));
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  requireNHWC('Conv2DBackpropFilter', a);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode,
  );
  const g = geometry(info);
  const rows = g.batch * g.outHeight * g.outWidth;
  const depth = g.filterHeight * g.filterWidth * g.inChannels;
  const heap = backend as unknown as HeapBackend & { disposeData(id: tf.DataId): void };
  let cols = x;
  if (!isPointwise(g)) {
    cols = heap.makeOutput([rows, depth], 'float32');
    im2col(heap.typedArrayFromHeap(x) as Float32Array, heap.typedArrayFromHeap(cols) as Float32Array, g);
  }
  let dw: TensorInfo;
  const kernels = simdFor(backend);
  if (kernels && g.outChannels % 4 === 0) {
    // dW = colsᵀ·dy in one pass over row blocks, neither operand transposed.
    const scope = new HeapScope(backend);
    dw = scope.output(a.filterShape);
    kernels.gemmAtB(scope.ptr(cols), scope.ptr(dy), scope.ptr(dw), rows, depth, g.outChannels, filterGradientRowBlock(depth, g.outChannels));
  } else if (depth <= g.outChannels) {
    // Through XNNPACK, dW = colsᵀ·dy needs one [rows × n] operand transposed,
    // and the transpose dominates: transpose whichever has fewer columns. When
    // that is dy, compute dWᵀ = dyᵀ·cols and transpose the small result back.
    dw = matMul(backend, cols, [rows, depth], dy, [rows, g.outChannels], true, false);
  } else {
    const dwT = matMul(backend, dy, [rows, g.outChannels], cols, [rows, depth], true, false);
    dw = wasmKernel('Transpose')({ inputs: { x: dwT }, backend: backend as tf.KernelBackend, attrs: { perm: [0, 2, 1] } }) as TensorInfo;
    heap.disposeData(dwT.dataId);
  }
  if (cols !== x) heap.disposeData(cols.dataId);
  return { ...dw, shape: a.filterShape };
};

function conv2dBackpropInputWith(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    if (inputGradientUnneeded(filter.dataId)) {
      const heap = args.backend as unknown as HeapBackend;
      const zeros = heap.makeOutput(a.inputShape, 'float32');
      heap.typedArrayFromHeap(zeros).fill(0);
      return zeros;
    }
    const [kh, kw, inC, outC] = filter.shape;
    const strides = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
    const pointwise =
      kh === 1 && kw === 1 && strides[0] === 1 && strides[1] === 1 &&
      (a.pad === 'same' || a.pad === 'valid' || a.pad === 0) &&
      (a.dataFormat === undefined || a.dataFormat === 'NHWC');
    if (!pointwise) return fallback(args);
    const rows = a.inputShape[0] * a.inputShape[1] * a.inputShape[2];
    const dx = matMul(args.backend, dy, [rows, outC], filter, [inC, outC], false, true);
    return { ...dx, shape: a.inputShape };
  };
}

function depthwiseInfo(
  xShape: number[],
  filterShape: number[],
  a: ConvAttrs,
  kernel: string,
): ConvGeometry {
  if (filterShape[3] !== 1) {
    throw new Error(`${kernel} on wasm: channel multiplier must be 1, got ${filterShape[3]}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
  );
  return geometry(info);
}

/** The 12 ints every depthwise SIMD kernel reads its shape from (simd-kernels.wat). */
function depthwiseGeometry(heap: HeapScope, g: ConvGeometry): number {
  return heap.ints([
    g.batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth,
    g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft,
  ]);
}

/**
 * Runs a depthwise gradient in SIMD when the wasm module is loaded and the
 * shape allows it (channels a multiple of 4, no dilation); null otherwise.
 * The filter gradient sums each output row in registers; the input gradient
 * here is the strided case's per-tap form (stride 1 goes through the forward).
 */
function depthwiseSimd(
  backend: unknown,
  gradient: 'input' | 'filter',
  a: TensorInfo,
  b: TensorInfo,
  outShape: number[],
  g: ConvGeometry,
): TensorInfo | null {
  const kernels = simdFor(backend);
  if (!kernels || g.inChannels % 4 !== 0 || g.dilationHeight !== 1 || g.dilationWidth !== 1) return null;
  const heap = new HeapScope(backend);
  const out = heap.output(outShape);
  const run = gradient === 'filter' ? kernels.depthwiseFilterGradient : kernels.depthwiseInputGradient;
  run(heap.ptr(a), heap.ptr(b), heap.ptr(out), depthwiseGeometry(heap, g));
  heap.dispose();
  return out;
}

/**
 * Depthwise convolution forward in our SIMD kernel where XNNPACK (the wasm
 * backend's) is slow, else the backend's own. The XNNPACK in tfjs-backend-wasm
 * has depthwise microkernels for 3×3 and 5×5 taps only; a 7×7 kernel falls
 * back to a path 8–15× slower than its 5×5 (docs/bench/train.md), and the
 * largest subnet of a supernet is all 7×7.
 */
function depthwiseForwardWith(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const a = args.attrs as unknown as ConvAttrs;
    const kernels = simdFor(args.backend);
    const [kh, kw, channels, multiplier] = filter.shape;
    const dilations = a.dilations ?? 1;
    const plain = (typeof dilations === 'number' ? dilations === 1 : dilations[0] === 1 && dilations[1] === 1) && (a.dataFormat === undefined || a.dataFormat === 'NHWC');
    if (!kernels || !plain || multiplier !== 1 || channels % 4 !== 0 || !ownDepthwiseForward(kh, kw)) return fallback(args);
    const g = depthwiseInfo(x.shape, filter.shape, a, 'DepthwiseConv2dNative');
    const heap = new HeapScope(args.backend);
    const out = heap.output([g.batch, g.outHeight, g.outWidth, g.inChannels]);
    kernels.depthwiseForward(heap.ptr(x), heap.ptr(filter), heap.ptr(out), depthwiseGeometry(heap, g));
    heap.dispose();
    return out;
  };
}

/** Kernel sizes our forward runs (measured against XNNPACK: see depthwiseForwardWith). */
export function ownDepthwiseForward(kh: number, kw: number): boolean {
  return !((kh === 3 && kw === 3) || (kh === 5 && kw === 5));
}

/**
 * The input gradient of a stride-1 depthwise convolution is itself a
 * depthwise convolution: of dy, by the filter turned 180°, padded by
 * (kernel − 1 − pad). Run so, it takes the forward kernel's registers instead
 * of depthwiseInputGradient's read-add-store of dx at every tap. Null where that
 * does not hold (strides, or a pad wider than the kernel).
 */
function depthwiseInputGradientAsForward(backend: unknown, dy: TensorInfo, filter: TensorInfo, inputShape: number[], g: ConvGeometry): TensorInfo | null {
  const kernels = simdFor(backend);
  const { filterHeight: kh, filterWidth: kw, inChannels: c } = g;
  const padTop = kh - 1 - g.padTop;
  const padLeft = kw - 1 - g.padLeft;
  if (!kernels || c % 4 !== 0 || g.strideHeight !== 1 || g.strideWidth !== 1 || g.dilationHeight !== 1 || g.dilationWidth !== 1 || padTop < 0 || padLeft < 0) return null;
  const heap = new HeapScope(backend);
  const taps = kh * kw;
  const w = heap.read(heap.ptr(filter), taps * c);
  const turned = new Float32Array(taps * c);
  // Tap (i, j) becomes (kh−1−i, kw−1−j): the tap order reversed.
  for (let t = 0; t < taps; t++) turned.set(w.subarray(t * c, (t + 1) * c), (taps - 1 - t) * c);
  const filterPtr = heap.floats(turned);
  const out = heap.output(inputShape);
  const geometryPtr = heap.ints([g.batch, g.outHeight, g.outWidth, c, g.inHeight, g.inWidth, kh, kw, 1, 1, padTop, padLeft]);
  kernels.depthwiseForward(heap.ptr(dy), filterPtr, heap.ptr(out), geometryPtr);
  heap.dispose();
  return out;
}

const depthwiseBackpropInputKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
  const g = depthwiseInfo(a.inputShape, filter.shape, a, 'DepthwiseConv2dNativeBackpropInput');
  return (
    depthwiseInputGradientAsForward(backend, dy, filter, a.inputShape, g) ??
    depthwiseSimd(backend, 'input', dy, filter, a.inputShape, g) ??
    withArrays(backend, [dy, filter], [a.inputShape], ([dyv, fv], [dx]) => depthwiseBackpropInput(dyv, fv, dx, g))[0]
  );
};

const depthwiseBackpropFilterKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
  const g = depthwiseInfo(x.shape, a.filterShape, a, 'DepthwiseConv2dNativeBackpropFilter');
  return (
    depthwiseSimd(backend, 'filter', x, dy, a.filterShape, g) ??
    withArrays(backend, [x, dy], [a.filterShape], ([xv, dyv], [dw]) => depthwiseBackpropFilter(xv, dyv, dw, g))[0]
  );
};

/** Batch-norm forward in SIMD: sums, centred squares, then y = x·a + b. */
function batchNormTrainingSimd(backend: unknown, x: TensorInfo, scale: TensorInfo, offset: TensorInfo, epsilon: number): TensorInfo[] | null {
  const kernels = simdFor(backend);
  const C = x.shape[x.shape.length - 1];
  if (!kernels || C % 4 !== 0) return null;
  const heap = new HeapScope(backend);
  const rows = tf.util.sizeFromShape(x.shape) / C;
  const y = heap.output(x.shape);
  const meanOut = heap.output([C]);
  const varianceOut = heap.output([C]);
  kernels.columnSums(heap.ptr(x), rows, C, heap.ptr(meanOut));
  const mean = heap.read(heap.ptr(meanOut), C).map((v) => v / rows);
  const meanPtr = heap.floats(mean);
  kernels.centredSquares(heap.ptr(x), rows, C, meanPtr, heap.ptr(varianceOut));
  const variance = heap.read(heap.ptr(varianceOut), C).map((v) => v / rows);
  const s = heap.read(heap.ptr(scale), C);
  const o = heap.read(heap.ptr(offset), C);
  const a = s.map((v, c) => v / Math.sqrt(variance[c] + epsilon));
  const b = o.map((v, c) => v - mean[c] * a[c]);
  kernels.affine(heap.ptr(x), rows, C, heap.floats(a), heap.floats(b), heap.ptr(y));
  heap.write(heap.ptr(meanOut), mean);
  heap.write(heap.ptr(varianceOut), variance);
  heap.dispose();
  return [y, meanOut, varianceOut];
}

const batchNormTraining: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, offset } = inputs as Record<'x' | 'scale' | 'offset', TensorInfo>;
  const epsilon = (attrs as NamedAttrMap).epsilon as number;
  const C = x.shape[x.shape.length - 1];
  return (
    batchNormTrainingSimd(backend, x, scale, offset, epsilon) ??
    withArrays(backend, [x, scale, offset], [x.shape, [C], [C]], ([xv, s, o], [y, m, v]) =>
      batchNormForward(xv, s, o, epsilon, y, m, v),
    )
  );
};

/**
 * Batch-norm backward in SIMD. With x̂ = (x − μ)·σ⁻¹ and k = γσ⁻¹,
 * dx = k·dy + x·(−k·σ⁻¹·mean(dy·x̂)) + k·(μσ⁻¹·mean(dy·x̂) − mean(dy)).
 */
function batchNormGradSimd(
  backend: unknown,
  ins: Record<'dy' | 'x' | 'scale' | 'mean' | 'variance', TensorInfo>,
  epsilon: number,
): TensorInfo[] | null {
  const kernels = simdFor(backend);
  const C = ins.x.shape[ins.x.shape.length - 1];
  if (!kernels || C % 4 !== 0) return null;
  const heap = new HeapScope(backend);
  const rows = tf.util.sizeFromShape(ins.x.shape) / C;
  const dx = heap.output(ins.x.shape);
  const dScale = heap.output([C]);
  const dOffset = heap.output([C]);
  kernels.gradSums(heap.ptr(ins.dy), heap.ptr(ins.x), rows, C, heap.ptr(ins.mean), heap.ptr(dOffset), heap.ptr(dScale));
  const sumDy = heap.read(heap.ptr(dOffset), C);
  const sumDyXc = heap.read(heap.ptr(dScale), C);
  const mean = heap.read(heap.ptr(ins.mean), C);
  const variance = heap.read(heap.ptr(ins.variance), C);
  const gamma = heap.read(heap.ptr(ins.scale), C);
  const a = new Float32Array(C);
  const b = new Float32Array(C);
  const k = new Float32Array(C);
  const sumDyXhat = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const invStd = 1 / Math.sqrt(variance[c] + epsilon);
    sumDyXhat[c] = sumDyXc[c] * invStd;
    const meanDyXhat = sumDyXhat[c] / rows;
    a[c] = gamma[c] * invStd;
    b[c] = -a[c] * invStd * meanDyXhat;
    k[c] = a[c] * (mean[c] * invStd * meanDyXhat - sumDy[c] / rows);
  }
  kernels.gradApply(heap.ptr(ins.dy), heap.ptr(ins.x), rows, C, heap.floats(a), heap.floats(b), heap.floats(k), heap.ptr(dx));
  heap.write(heap.ptr(dScale), sumDyXhat);
  heap.dispose();
  return [dx, dScale, dOffset];
}

const batchNormTrainingGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const ins = inputs as Record<'dy' | 'x' | 'scale' | 'mean' | 'variance', TensorInfo>;
  const epsilon = (attrs as NamedAttrMap).epsilon as number;
  const C = ins.x.shape[ins.x.shape.length - 1];
  return (
    batchNormGradSimd(backend, ins, epsilon) ??
    withArrays(
      backend,
      [ins.dy, ins.x, ins.scale, ins.mean, ins.variance],
      [ins.x.shape, [C], [C]],
      ([dyv, xv, s, m, v], [dx, ds, dof]) => batchNormBackward(dyv, xv, s, m, v, epsilon, dx, ds, dof),
    )
  );
};

const clipGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { lo, hi } = attrs as unknown as { lo: number; hi: number };
  const n = tf.util.sizeFromShape(x.shape);
  const kernels = simdFor(backend);
  if (kernels && n % 4 === 0) {
    const heap = new HeapScope(backend);
    const out = heap.output(x.shape);
    kernels.clipGrad(heap.ptr(x), heap.ptr(dy), heap.ptr(out), n, lo, hi);
    return out;
  }
  return withArrays(backend, [x, dy], [x.shape], ([xv, dyv], [out]) => {
    for (let i = 0; i < n; i++) out[i] = xv[i] > lo && xv[i] < hi ? dyv[i] : 0;
  })[0];
};

const SIXTH = Math.fround(1 / 6);
/** relu6(x + 3)·⅙ rounded as the unfused float32 ops round it. */
const hardSwishGate = (v: number) => Math.fround(Math.min(Math.max(Math.fround(v + 3), 0), 6) * SIXTH);

const hardSwish: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  const n = tf.util.sizeFromShape(x.shape);
  const kernels = simdFor(backend);
  if (kernels && n % 4 === 0) {
    const heap = new HeapScope(backend);
    const out = heap.output(x.shape);
    kernels.hardSwish(heap.ptr(x), heap.ptr(out), n);
    return out;
  }
  return withArrays(backend, [x], [x.shape], ([xv], [out]) => {
    for (let i = 0; i < n; i++) out[i] = xv[i] * hardSwishGate(xv[i]);
  })[0];
};

const hardSwishGrad: KernelFunc = ({ inputs, backend }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const n = tf.util.sizeFromShape(x.shape);
  const kernels = simdFor(backend);
  if (kernels && n % 4 === 0) {
    const heap = new HeapScope(backend);
    const out = heap.output(x.shape);
    kernels.hardSwishGrad(heap.ptr(x), heap.ptr(dy), heap.ptr(out), n);
    return out;
  }
  return withArrays(backend, [x, dy], [x.shape], ([xv, dyv], [out]) => {
    for (let i = 0; i < n; i++) {
      const s = Math.fround(xv[i] + 3);
      const direct = Math.fround(dyv[i] * hardSwishGate(xv[i]));
      // + 0 where the clip is flat, as autograd adds its zero: −0 becomes +0 there too.
      out[i] = direct + (s > 0 && s < 6 ? Math.fround(Math.fround(dyv[i] * xv[i]) * SIXTH) : 0);
    }
  })[0];
};

/**
 * Identity sharing its input's memory (a reference count), as the cpu
 * backend does. The stock wasm Identity copies, and tfjs clones every tensor
 * it saves for the backward pass: about 450 copies per training step of a
 * small MobileNet. tfjs tensors are immutable, so sharing is safe.
 */
const sharedIdentity: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  (backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Backends whose tensors our typed-array kernels can read in place. */
export const FUSED_BATCH_NORM_BACKENDS = ['wasm', 'cpu'] as const;

let registered = false;

/**
 * Registers every kernel above once per process. Safe to call again. The
 * original wasm Conv2DBackpropInput stays the fallback for non-1×1 shapes.
 */
export function registerTrainingKernels(): void {
  if (registered) return;
  registered = true;
  const configs: KernelConfig[] = [
    { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter },
    { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kernelFunc: depthwiseBackpropInputKernel },
    { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kernelFunc: depthwiseBackpropFilterKernel },
  ];
  if (tf.getKernel('Identity', 'wasm')) tf.unregisterKernel('Identity', 'wasm');
  configs.push({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharedIdentity });
  const depthwise = tf.getKernel('DepthwiseConv2dNative', 'wasm');
  if (depthwise) {
    tf.unregisterKernel('DepthwiseConv2dNative', 'wasm');
    configs.push({ kernelName: 'DepthwiseConv2dNative', backendName: 'wasm', kernelFunc: depthwiseForwardWith(depthwise.kernelFunc), setupFunc: depthwise.setupFunc });
  }
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (original) {
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    configs.push({
      kernelName: 'Conv2DBackpropInput',
      backendName: 'wasm',
      kernelFunc: conv2dBackpropInputWith(original.kernelFunc),
      setupFunc: original.setupFunc,
    });
  }
  for (const backendName of FUSED_BATCH_NORM_BACKENDS) {
    configs.push({ kernelName: BATCH_NORM_TRAINING, backendName, kernelFunc: batchNormTraining });
    configs.push({ kernelName: BATCH_NORM_TRAINING_GRAD, backendName, kernelFunc: batchNormTrainingGrad });
    configs.push({ kernelName: CLIP_GRAD, backendName, kernelFunc: clipGrad });
    configs.push({ kernelName: HARD_SWISH, backendName, kernelFunc: hardSwish });
    configs.push({ kernelName: HARD_SWISH_GRAD, backendName, kernelFunc: hardSwishGrad });
  }
  for (const config of configs) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, scale, mean, variance] = saved;
      const dy = (dys as tf.Tensor[])[0];
      const [dx, dScale, dOffset] = tf.engine().runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { dy, x, scale, mean, variance },
        attrs,
      ) as tf.Tensor[];
      return { x: () => dx, scale: () => dScale, offset: () => dOffset };
    },
  });
  // tfjs's gradients of Relu, Relu6 and ClipByValue are three to five kernels
  // each (compares, logical and, cast, select or multiply); where our one-pass
  // kernel exists for the active backend, use it. Bounds are exclusive: at
  // exactly the bound the subgradient 0 is chosen, as tfjs does for Relu.
  const clipGradient = (kernelName: string, bounds: (attrs: NamedAttrMap) => [number, number]) =>
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        const g = dy as tf.Tensor;
        const [lo, hi] = bounds(attrs as NamedAttrMap);
        if (tf.getKernel(CLIP_GRAD, tf.getBackend())) {
          return { x: () => tf.engine().runKernel(CLIP_GRAD, { x, dy: g }, { lo, hi }) as tf.Tensor };
        }
        return { x: () => tf.where(tf.logicalAnd(tf.greater(x, lo), tf.less(x, hi)), g, tf.zerosLike(g)) };
      },
    });
  tf.registerGradient({
    kernelName: HARD_SWISH,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.engine().runKernel(HARD_SWISH_GRAD, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor }),
  });
  clipGradient('Relu', () => [0, Infinity]);
  clipGradient('Relu6', () => [0, 6]);
  clipGradient('ClipByValue', (a) => [a.clipValueMin as number, a.clipValueMax as number]);
}
