/**
 * A network plan as the few numbers its latency is linear in, counted per
 * fused unit the way onnxruntime's CPU provider runs it: a Conv with its
 * Relu/Clip (and, for INT8, its QuantizeLinear) is one kernel call, so an
 * activation costs nothing apart; hard-swish, squeeze-excite and residual
 * adds are separate elementwise passes over memory. Each feature is a cost
 * driver (MACs, elements touched, kernel calls), so a fit with non-negative
 * coefficients reads as "ns per MAC", "ns per element", "µs per call".
 */
import type { NetworkPlan } from '../space/plan.js';

/** Feature names, in the order {@link latencyFeatures} returns them. */
export const LATENCY_FEATURES = [
  /** Fixed cost of one run() call. */
  'constant',
  /** Dense (non-depthwise) conv and classifier MACs, in millions. */
  'denseMMacs',
  /** Depthwise conv MACs, in millions. */
  'depthwiseMMacs',
  /** Output elements of every conv, in millions: writing activations. */
  'convMElements',
  /** Output elements of depthwise convs with a 5×5 or 7×7 kernel, in millions: their extra halo reads. */
  'wideKernelMElements',
  /** Elements through an unfused hard-swish, in millions. */
  'hswishMElements',
  /** Elements scaled by squeeze-excite (pool + Mul) and added by residuals, in millions. */
  'elementwiseMElements',
  /** Kernel calls after fusion (conv units, SE ops, adds, head ops). */
  'kernelCalls',
] as const;
export type LatencyFeatureName = (typeof LATENCY_FEATURES)[number];

/** The feature vector of a plan; pure, in {@link LATENCY_FEATURES} order. */
export function latencyFeatures(plan: NetworkPlan): number[] {
  let dense = 0;
  let depthwise = 0;
  let elements = 0;
  let wide = 0;
  let hswish = 0;
  let elementwise = 0;
  let calls = 0;
  const conv = (c: NetworkPlan['stem']) => {
    const out = c.outChannels * c.outSize * c.outSize;
    const macs = (c.depthwise ? c.kernel * c.kernel : c.kernel * c.kernel * c.inChannels) * out;
    if (c.depthwise) depthwise += macs;
    else dense += macs;
    elements += out;
    if (c.depthwise && c.kernel > 3) wide += out;
    if (c.activation === 'hswish') {
      hswish += out;
      calls++;
    }
    calls++;
  };
  conv(plan.stem);
  for (const b of plan.blocks) {
    if (b.expand) conv(b.expand);
    conv(b.depthwise);
    const se = b.squeezeExcite;
    if (se) {
      // Pool reads the map, Mul reads and writes it; the two 1×1 convs are tiny.
      elementwise += 2 * se.channels * se.size * se.size;
      dense += 2 * se.channels * se.squeezed;
      calls += 5;
    }
    conv(b.project);
    if (b.residual) {
      elementwise += b.project.outChannels * b.project.outSize * b.project.outSize;
      calls++;
    }
  }
  conv(plan.head);
  dense += plan.classifier.inFeatures * plan.classifier.outFeatures;
  elements += plan.head.outChannels; // global pool output
  calls += 3; // pool, flatten, gemm
  const M = 1e6;
  return [1, dense / M, depthwise / M, elements / M, wide / M, hswish / M, elementwise / M, calls];
}
