/**
 * Where a training step's time goes, per kernel and phase (forward,
 * backward, optimizer), from tfjs's own profiler (`tf.profile`), with the
 * work each kernel did (FLOPs from its shapes, or bytes moved) and the bound
 * of this CPU it runs against: compute (the wasm SIMD peak) or memory (the
 * measured copy bandwidth), whichever its arithmetic intensity hits first.
 * Library code: returns rows, prints nothing (bench-train.ts prints).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { stemFilter, withoutImageGradient } from '../train/kernels/image-gradient.js';
import { ownDepthwiseForward } from '../train/kernels/register.js';

export type StepPhase = 'forward' | 'backward' | 'optimizer';

/** Kernels this package registers on wasm (train/kernels/register.ts); the rest are tfjs's or XNNPACK's. */
export const OWN_KERNELS = new Set([
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'Identity',
  'NasBatchNormTraining',
  'NasBatchNormTrainingGrad',
  'NasClipGrad',
  'NasHardSwish',
  'NasHardSwishGrad',
]);

/** Whether the recorded kernel ran our code: the depthwise forward is ours only at the sizes XNNPACK lacks. */
function isOwnKernel(name: string, inputShapes: number[][]): boolean {
  if (name === 'DepthwiseConv2dNative') return inputShapes[1]?.length === 4 && ownDepthwiseForward(inputShapes[1][0], inputShapes[1][1]);
  return OWN_KERNELS.has(name);
}

/** Kernels that move no data: a reshape, and our Identity (it shares the input's memory). */
export const NO_COPY_KERNELS = new Set(['Reshape', 'Identity']);

/** Single-core float32 FLOPs per cycle of wasm SIMD: 4 lanes × (2 multiply + 2 add pipes); wasm has no FMA. */
export const WASM_SIMD_FLOPS_PER_CYCLE = 16;

/** Elements of a shape; tfjs records null for an input that is not a tensor. */
const size = (shape: number[] | null) => (shape ?? []).reduce((a, b) => a * b, 1);

/** Arithmetic of one kernel call: FLOPs for convolutions and matrix products (else null), and the bytes it must read and write. */
export function kernelWork(name: string, inputShapes: number[][], outputShapes: number[][]): { flops: number | null; bytes: number } {
  const bytes = NO_COPY_KERNELS.has(name) ? 0 : 4 * [...inputShapes, ...outputShapes].reduce((a, s) => a + size(s), 0);
  const [a, b] = inputShapes;
  const out = outputShapes[0];
  let flops: number | null = null;
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': // out [N,Ho,Wo,Co], filter [kh,kw,Ci,Co]
      flops = 2 * size(out) * b[0] * b[1] * b[2];
      break;
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D': // filter [kh,kw,C,1]
      flops = 2 * size(out) * b[0] * b[1];
      break;
    case 'Conv2DBackpropInput': // dy, filter [kh,kw,Ci,Co]
      flops = 2 * size(a) * b[0] * b[1] * b[2];
      break;
    case 'Conv2DBackpropFilter': // x, dy → filter [kh,kw,Ci,Co]
      flops = 2 * size(b) * out[0] * out[1] * out[2];
      break;
    case 'DepthwiseConv2dNativeBackpropInput': // dy, filter [kh,kw,C,1]
      flops = 2 * size(a) * b[0] * b[1];
      break;
    case 'DepthwiseConv2dNativeBackpropFilter': // x, dy → filter [kh,kw,C,1]
      flops = 2 * size(b) * out[0] * out[1];
      break;
    case 'BatchMatMul':
    case '_FusedMatMul': {
      // a [B,M,K] or [B,K,M]; K = √(|a|·|b| / (|out|·B)) whatever the transposes.
      const batch = out.length === 3 ? out[0] : 1;
      const k = Math.round(Math.sqrt((size(a) * size(b)) / (size(out) * batch)));
      flops = 2 * size(out) * k;
      break;
    }
  }
  return { flops, bytes };
}

/** A finer name for convolutions: kernel size, and the stem (≤ 4 input channels) apart. */
export function kernelLabel(name: string, inputShapes: number[][], outputShapes: number[][]): string {
  const filter = name === 'Conv2DBackpropFilter' || name === 'DepthwiseConv2dNativeBackpropFilter' ? outputShapes[0] : /Conv/.test(name) ? inputShapes[1] : null;
  if (!filter || filter.length !== 4) return name;
  const stem = !/Depthwise/.test(name) && filter[2] <= 4 ? ' stem' : '';
  return `${name} ${filter[0]}×${filter[1]}${stem}`;
}

/** This CPU's bounds for one core: peak wasm SIMD FLOP/s, and copy bandwidth measured now from cache and from memory. */
export interface MachineBounds {
  cpu: string;
  mhz: number;
  peakGflops: number;
  /** Copying 4 MiB (fits the L3 cache of every CPU we target). */
  cacheGBs: number;
  /** Copying 64 MiB (main memory). */
  memoryGBs: number;
}

/** Bytes per kernel call up to which its data are taken to come from cache. */
export const CACHE_RESIDENT_BYTES = 8 << 20;

/** Single-thread copy bandwidth: best of `repeats` copies of `bytes`, read plus write. */
function copyBandwidth(bytes: number, repeats: number): number {
  const src = new Float32Array(bytes / 4).fill(1);
  const dst = new Float32Array(bytes / 4);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * bytes) / (best / 1000) / 1e9;
}

/** Reads the CPU from /proc/cpuinfo and measures copy bandwidth from cache and from memory. */
export function machineBounds(): MachineBounds {
  let cpu = 'unknown';
  let mhz = 0;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? cpu;
    mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? 0);
  } catch {
    // not Linux: no clock, no compute bound
  }
  return { cpu, mhz, peakGflops: (mhz * WASM_SIMD_FLOPS_PER_CYCLE) / 1000, cacheGBs: copyBandwidth(4 << 20, 50), memoryGBs: copyBandwidth(64 << 20, 5) };
}

/** One kernel (by label) in one phase, per training step. */
export interface KernelProfileRow {
  phase: StepPhase;
  kernel: string;
  own: boolean;
  callsPerStep: number;
  msPerStep: number;
  /** Share of the profiled step's wall time. */
  share: number;
  /** Achieved GFLOP/s (convolutions, matrix products), else null. */
  gflops: number | null;
  /** Achieved GB/s of the bytes the kernel must read and write; null for kernels that move none. */
  gbs: number | null;
  /** What limits it: compute, or bandwidth from cache or memory (by its bytes per call); none for no-copy kernels. */
  bound: 'compute' | 'cache' | 'memory' | 'none';
  /** Achieved as a share of the roofline at this kernel's arithmetic intensity. */
  ofBound: number | null;
}

export interface StepProfile {
  steps: number;
  /** Wall ms per profiled step (profiling adds a little to each kernel call). */
  stepMs: number;
  /** ms per step outside any kernel: tape, tidy, disposal and other JS bookkeeping. */
  outsideKernelsMs: number;
  rows: KernelProfileRow[];
}

interface KernelRecord {
  name: string;
  inputShapes: number[][];
  outputShapes: number[][];
  kernelTimeMs: number | { error: string };
}

/**
 * Profiles `steps` training steps of `model` on the batch (x, y): softmax
 * cross-entropy, gradients of all trainable weights, `optimizer` update.
 * Phases are told apart by where the loss is computed and where the
 * gradients return.
 */
export async function profileTrainingSteps(model: LayersModel, x: tf.Tensor, y: tf.Tensor, optimizer: tf.Optimizer, steps: number, bounds: MachineBounds): Promise<StepProfile> {
  const engine = tf.engine() as unknown as { state: { activeProfile: { kernels: unknown[] } } };
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const marks: Array<[number, number]> = []; // per step: kernels at the end of forward, at the end of backward
  const starts: number[] = [];
  let wallMs = 0;
  const profile = await tf.profile(() => {
    for (let s = 0; s < steps; s++) {
      starts.push(engine.state.activeProfile.kernels.length);
      const t0 = performance.now();
      let forwardEnd = 0;
      const loss = withoutImageGradient(stemFilter(model), () => tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const l = tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
          forwardEnd = engine.state.activeProfile.kernels.length;
          return l;
        }, vars);
        marks.push([forwardEnd, engine.state.activeProfile.kernels.length]);
        optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        return value;
      }));
      loss.dataSync();
      loss.dispose();
      wallMs += performance.now() - t0;
    }
  });
  const kernels = profile.kernels as unknown as KernelRecord[];
  const stepOf = (i: number) => {
    let s = 0;
    while (s + 1 < starts.length && i >= starts[s + 1]) s++;
    return s;
  };
  const groups = new Map<string, { phase: StepPhase; kernel: string; own: boolean; calls: number; ms: number; flops: number | null; bytes: number }>();
  let kernelMs = 0;
  kernels.forEach((k, i) => {
    // Op scopes (`name__op`) wrap kernels that are recorded themselves.
    if (k.name.endsWith('__op')) return;
    const [forwardEnd, backwardEnd] = marks[stepOf(i)];
    const phase: StepPhase = i < forwardEnd ? 'forward' : i < backwardEnd ? 'backward' : 'optimizer';
    const label = kernelLabel(k.name, k.inputShapes, k.outputShapes);
    const key = `${phase}|${label}`;
    const g = groups.get(key) ?? { phase, kernel: label, own: isOwnKernel(k.name, k.inputShapes), calls: 0, ms: 0, flops: 0, bytes: 0 };
    const work = kernelWork(k.name, k.inputShapes, k.outputShapes);
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    g.calls++;
    g.ms += ms;
    g.flops = work.flops === null || g.flops === null ? null : g.flops + work.flops;
    g.bytes += work.bytes;
    kernelMs += ms;
    groups.set(key, g);
  });
  const stepMs = wallMs / steps;
  const rows = [...groups.values()].map((g): KernelProfileRow => {
    const seconds = g.ms / 1000 || Number.EPSILON;
    const gflops = g.flops === null ? null : g.flops / seconds / 1e9;
    const gbs = g.bytes ? g.bytes / seconds / 1e9 : null;
    // Roofline: compute-bound when its FLOPs per byte exceed the machine's balance at that bandwidth.
    const fromCache = g.bytes / g.calls <= CACHE_RESIDENT_BYTES;
    const bandwidth = fromCache ? bounds.cacheGBs : bounds.memoryGBs;
    const roof = !g.bytes ? null : g.flops === null ? bandwidth : Math.min(bounds.peakGflops, (g.flops / g.bytes) * bandwidth);
    const bound = roof === null ? 'none' : g.flops !== null && roof === bounds.peakGflops ? 'compute' : fromCache ? 'cache' : 'memory';
    return {
      phase: g.phase,
      kernel: g.kernel,
      own: g.own,
      callsPerStep: g.calls / steps,
      msPerStep: g.ms / steps,
      share: g.ms / steps / stepMs,
      gflops,
      gbs,
      bound,
      ofBound: roof === null ? null : (gflops ?? gbs!) / roof,
    };
  });
  rows.sort((p, q) => q.msPerStep - p.msPerStep);
  return { steps, stepMs, outsideKernelsMs: stepMs - kernelMs / steps, rows };
}
