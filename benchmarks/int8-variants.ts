/**
 * "Never slower": builds INT8 variants of one model (everything, depthwise
 * kept in float, only the convolutions, per-tensor weights, S8S8, …),
 * measures them against fp32 in one interleaved run (benchmarks/compare.ts,
 * 1 thread), checks the accuracy of those that are faster, and lets
 * int8-choice.ts pick. On AVX2 without VNNI onnxruntime's INT8 kernels lose
 * to fp32 on small depthwise and 1×1 convolutions, so which ops to quantize
 * depends on the CPU; this measures rather than guesses.
 *
 * Here in benchmarks/ because both ends use it: compress/ to choose what
 * it ships, search/ to measure a candidate at the precision it will ship
 * in (latency.precision), so the two make the same choice.
 */
import { compareModels, type ComparedMeasurement } from './compare.js';
import { chooseVariant, confirmChoice, DEFAULT_MAX_LATENCY_RATIO, type ChoiceOptions, type Int8Choice } from './int8-choice.js';
import type { MeasureOptions } from './types.js';
import { optimisedOpTypes, quantizeModel, type CalibrationBatch, type QuantizationReport, type QuantizeOptions } from '../onnx/quantize.js';
import { sizeBreakdown, type SizeBreakdown } from '../onnx/size-breakdown.js';

/** Accuracy of a model, or why it was not measured (compress/onnx-eval.ts measures it). */
export type AccuracyResult = { state: 'measured'; accuracy: number } | { state: 'skipped'; reason: string };

/** Interleaved measurement of several models (compare.ts's signature): in this process, in a worker pool, or on a bench agent. */
export type CompareModels = (models: Array<{ name: string; source: string | Uint8Array }>, options: MeasureOptions) => Promise<ComparedMeasurement[]>;

/** One way to quantize a model. */
export interface Int8VariantSpec {
  name: string;
  options: Pick<QuantizeOptions, 'perChannel' | 'activations' | 'keepFloat' | 'reduceRange'>;
}

/** The variants tried by default, all with 7-bit weights (accuracy the same on every x86 CPU). */
export const INT8_VARIANTS: readonly Int8VariantSpec[] = [
  { name: 'all', options: {} },
  { name: 'convs+gemm', options: { keepFloat: ['elementwise', 'pool'] } },
  // Between quantized neighbours a float Conv gets its weights quantized by onnxruntime itself
  // (its WeightBiasQuantization pass), so these only differ from `all` where the kept kinds form
  // float islands; variants onnxruntime runs identically are measured once.
  { name: 'no-depthwise', options: { keepFloat: ['depthwise-conv'] } },
  { name: 'dense-convs+gemm', options: { keepFloat: ['depthwise-conv', 'elementwise', 'pool'] } },
  { name: 'spatial-convs', options: { keepFloat: ['depthwise-conv', 'pointwise-conv', 'gemm', 'matmul', 'elementwise', 'pool'] } },
  { name: 'per-tensor', options: { perChannel: false } },
  { name: 's8s8', options: { activations: 'int8' } },
];

/** Interleaved measuring time per model (ms). */
export const DEFAULT_VARIANT_LATENCY_TIME = 1500;

export interface ChooseInt8Options extends ChoiceOptions {
  /** @default INT8_VARIANTS */
  variants?: readonly Int8VariantSpec[];
  /** Calibration settings shared by every variant. */
  quantize?: Pick<QuantizeOptions, 'method' | 'percentile'>;
  /** Measure and choose (false: the `all` variant, unmeasured). @default true */
  measure?: boolean;
  /** @default DEFAULT_VARIANT_LATENCY_TIME */
  latencyTime?: number;
  onProgress?: (line: string) => void;
  /** How models are measured against each other. @default compareModels, in this process */
  compare?: CompareModels;
  /** Session options of the measurement (intra-op threads). @default one thread */
  session?: MeasureOptions['session'];
}

/** One built variant and what was measured of it. */
export interface VariantResult {
  name: string;
  bytes: Uint8Array;
  report: QuantizationReport;
  size: SizeBreakdown;
  /** p50 over fp32's p50, interleaved; null if not measured. */
  latencyRatio: number | null;
  p50: number | null;
  p90: number | null;
  /** null: not checked (slower than fp32, or not measured). */
  accuracy: AccuracyResult | null;
}

export interface Int8Selection {
  fp32: { p50: number | null; p90: number | null; accuracy: AccuracyResult | null };
  variants: VariantResult[];
  choice: Int8Choice;
  /** The chosen variant, or null when fp32 is kept. */
  chosen: VariantResult | null;
  /**
   * The chosen variant and fp32 measured again, interleaved, the two alone: the
   * unbiased figures (the fastest of several noisy variants in the first run is
   * the winner of several draws, biased low). Null when nothing was confirmed.
   */
  confirmation: { fp32P50: number; p50: number; p90: number } | null;
}

/** Accuracy lost by a variant in points, or null when either side was not measured. */
function dropInPoints(fp32: AccuracyResult | null, int8: AccuracyResult | null): number | null {
  return fp32?.state === 'measured' && int8?.state === 'measured' ? 100 * (fp32.accuracy - int8.accuracy) : null;
}

/** Builds the variants, measures them against fp32 and chooses; see the file comment. */
export async function chooseInt8(
  fp32: Uint8Array,
  name: string,
  batches: CalibrationBatch[],
  evaluate: ((model: Uint8Array) => Promise<AccuracyResult>) | null,
  options: ChooseInt8Options = {},
): Promise<Int8Selection> {
  const log = options.onProgress ?? (() => {});
  const compare = options.compare ?? compareModels;
  const session = options.session ? { session: options.session } : {};
  const specs = options.measure === false ? INT8_VARIANTS.filter((v) => v.name === 'all') : (options.variants ?? INT8_VARIANTS);
  const variants: VariantResult[] = [];
  const seen = new Set<string>();
  // Every variant calibrates the same tensors of the same model on the same batches: once is enough.
  const rangeCache = new Map<string, [number, number]>();
  for (const spec of specs) {
    const { bytes, report } = await quantizeModel(fp32, name, batches, { ...options.quantize, ...spec.options, rangeCache });
    // A variant that quantizes nothing is fp32; one onnxruntime runs as an earlier one did adds nothing.
    const runs = JSON.stringify([spec.options.perChannel ?? true, spec.options.activations ?? 'uint8', spec.options.reduceRange ?? true, await optimisedOpTypes(bytes)]);
    if (report.weights === 0 || seen.has(runs)) {
      log(`${name}: variant ${spec.name} runs as an earlier one (or as fp32) in onnxruntime: not measured`);
      continue;
    }
    seen.add(runs);
    variants.push({ name: spec.name, bytes, report, size: sizeBreakdown(bytes, name), latencyRatio: null, p50: null, p90: null, accuracy: null });
  }
  const fp32Accuracy = evaluate ? await evaluate(fp32) : null;
  let fp32P50: number | null = null;
  let fp32P90: number | null = null;
  if (options.measure !== false && variants.length) {
    log(`${name}: measuring fp32 and ${variants.length} INT8 variant(s) interleaved: ${variants.map((v) => v.name).join(', ')}`);
    const measured = await compare([{ name: 'fp32', source: fp32 }, ...variants.map((v) => ({ name: v.name, source: v.bytes }))], { time: options.latencyTime ?? DEFAULT_VARIANT_LATENCY_TIME, iterations: 50, ...session });
    fp32P50 = measured[0].state === 'errored' ? null : measured[0].stats.p50;
    fp32P90 = measured[0].state === 'errored' ? null : measured[0].stats.p90;
    variants.forEach((v, i) => {
      const m = measured[i + 1];
      v.p50 = m.state === 'errored' ? null : m.stats.p50;
      v.p90 = m.state === 'errored' ? null : m.stats.p90;
      v.latencyRatio = m.ratioToFirst;
    });
  }
  const maxRatio = options.measure === false ? Infinity : (options.maxLatencyRatio ?? DEFAULT_MAX_LATENCY_RATIO);
  for (const v of variants) {
    // Only a variant that can be chosen is worth an accuracy run.
    if (evaluate && (options.measure === false || (v.latencyRatio !== null && v.latencyRatio <= maxRatio))) v.accuracy = await evaluate(v.bytes);
  }
  let choice = chooseVariant(
    variants.map((v) => ({ name: v.name, latencyRatio: options.measure === false ? 0 : v.latencyRatio, accuracyDrop: dropInPoints(fp32Accuracy, v.accuracy), bytes: v.bytes.length })),
    { maxAccuracyDrop: options.maxAccuracyDrop, maxLatencyRatio: maxRatio },
  );
  let confirmation: Int8Selection['confirmation'] = null;
  // Also with no latency bar (an INT8 model wanted whatever its speed): the second run is the unbiased figure.
  if (choice.state === 'int8' && options.measure !== false) {
    const variant = choice.variant;
    log(`${name}: confirming ${variant} against fp32 in a second interleaved run`);
    const again = await compare([{ name: 'fp32', source: fp32 }, { name: variant, source: variants.find((v) => v.name === variant)!.bytes }], { time: 2 * (options.latencyTime ?? DEFAULT_VARIANT_LATENCY_TIME), iterations: 100, ...session });
    choice = confirmChoice(choice, again[1].ratioToFirst, { maxLatencyRatio: maxRatio });
    const [f, q] = again;
    if (f.state !== 'errored' && q.state !== 'errored') confirmation = { fp32P50: f.stats.p50, p50: q.stats.p50, p90: q.stats.p90 };
  }
  const picked = choice.state === 'int8' ? choice.variant : null;
  const chosen = picked === null ? null : variants.find((v) => v.name === picked)!;
  if (options.measure === false && choice.state === 'int8') choice.reason = `${choice.variant}: not measured (speed unchecked)${chosen?.accuracy?.state === 'measured' ? '' : ', accuracy not checked'}`;
  return { fp32: { p50: fp32P50, p90: fp32P90, accuracy: fp32Accuracy }, variants, choice, chosen, confirmation };
}
