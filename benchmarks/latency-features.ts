/**
 * A network plan as the few numbers its latency is linear in, counted per
 * fused unit the way onnxruntime's CPU provider runs it: a Conv with its
 * Relu/Clip (and, for INT8, its QuantizeLinear) is one kernel call, so an
 * activation costs nothing apart. What ORT 1.30 makes of our graphs
 * (onnx/quantize.ts optimisedOpTypes): fp32 runs blocked-layout (NCHWc)
 * convs with activations and residual adds fused, but reorders each
 * squeeze-excite map out and back around its pool and Mul; INT8 runs
 * QLinearConv, a QLinearAdd per residual, and hard-swish as float
 * HardSigmoid + Mul between Dequantize/Quantize passes. Each feature is a cost
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
  /**
   * Elements of maps squeeze-excite scales, in millions: fp32 ORT reorders the
   * map out of its blocked layout and back around pool and Mul (≈ 4 passes).
   */
  'squeezeExciteMElements',
  /** Elements added by residuals, in millions: fused into the conv in fp32, a QLinearAdd pass in INT8. */
  'residualMElements',
  /** Kernel calls after fusion (conv units, SE ops, adds, head ops). */
  'kernelCalls',
] as const;
/** One of {@link LATENCY_FEATURES}. */
export type LatencyFeatureName = (typeof LATENCY_FEATURES)[number];

/** The feature vector of a plan; pure, in {@link LATENCY_FEATURES} order. */
export function latencyFeatures(plan: NetworkPlan): number[] {
  let dense = 0;
  let depthwise = 0;
  let elements = 0;
  let wide = 0;
  let hswish = 0;
  let squeezeExcite = 0;
  let residual = 0;
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
      // The two 1×1 convs on the pooled vector are tiny; the passes over the map are not.
      squeezeExcite += se.channels * se.size * se.size;
      dense += 2 * se.channels * se.squeezed;
      calls += 5;
    }
    conv(b.project);
    if (b.residual) {
      residual += b.project.outChannels * b.project.outSize * b.project.outSize;
      calls++;
    }
  }
  conv(plan.head);
  dense += plan.classifier.inFeatures * plan.classifier.outFeatures;
  elements += plan.head.outChannels; // global pool output
  calls += 3; // pool, flatten, gemm
  const M = 1e6;
  return [1, dense / M, depthwise / M, elements / M, wide / M, hswish / M, squeezeExcite / M, residual / M, calls];
}
