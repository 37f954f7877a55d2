/**
 * `nas quantize` on one file: read an ONNX model, plan how images reach its
 * input, calibrate on a dataset (adapted as for the ONNX teacher) or on the
 * user's own images or tensor, build and measure INT8 variants, keep the
 * fastest that holds accuracy (or fp32), write it, and report sizes, the
 * graph onnxruntime runs, and the nodes left in float with why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../space/candidate-files.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData, type PreparedData } from '../train/datasets/prepared.js';
import type { InputScale } from '../train/input-adapter.js';
import { adaptedBatches, modelInput, userCalibrationBatches, type ModelInput } from './calibration-data.js';
import type { Int8Choice } from '../benchmarks/int8-choice.js';
import { chooseInt8, type ChooseInt8Options, type VariantResult } from '../benchmarks/int8-variants.js';
import { onnxAccuracy, type AccuracyResult } from './onnx-eval.js';
import { CompressError } from '../onnx/model.js';
import { floatNodesAfterOptimisation, optimisedOpTypes, type CalibrationMethod } from '../onnx/quantize.js';
import type { FloatNode } from '../onnx/qdq-operators.js';
import type { SizeBreakdown } from '../onnx/size-breakdown.js';

/** Calibration images taken from the dataset's training split. */
export const DEFAULT_CALIBRATION_IMAGES = 256;

/** How `nas quantize` (and compress, per model) quantizes one file: calibration, accuracy gate, variants. */
export interface QuantizeFileOptions extends Omit<ChooseInt8Options, 'quantize'> {
  /** Dataset for calibration (unless `calibrationData`) and the accuracy check. @default DEFAULT_DATASET */
  data?: string;
  /** @default DEFAULT_CALIBRATION_IMAGES */
  calibrationImages?: number;
  /** A directory of PNG/JPEG images, or a .npy/.npz tensor in the model's input layout. */
  calibrationData?: string;
  /** How the model expects its pixels. @default 'standardised' */
  inputScale?: InputScale;
  /** The model's input layout, when its shape does not tell. */
  layout?: 'NCHW' | 'NHWC';
  method?: CalibrationMethod;
  percentile?: number;
  /** @default <model>.int8.onnx */
  out?: string;
}

/** One file quantized: the choice made (INT8 variant or fp32 kept), sizes, op types and accuracies. */
export interface QuantizeFileResult {
  choice: Int8Choice;
  /** The INT8 file written, or null when fp32 is kept. */
  output: string | null;
  fp32Bytes: number;
  /** Every variant built, with what was measured of it. */
  variants: Array<Omit<VariantResult, 'bytes'> & { fileBytes: number }>;
  /** The variant the figures below describe: the chosen one, or with fp32 kept the first built (`all`). */
  shownVariant: string;
  int8Bytes: number;
  size: SizeBreakdown | null;
  qlinearOps: number;
  opTypes: Record<string, number>;
  /** Nodes left in float: by the quantizer's plan, and fusable ops onnxruntime did not fuse. */
  floatNodes: FloatNode[];
  fp32Accuracy: AccuracyResult | null;
  int8Accuracy: AccuracyResult | null;
  input: ModelInput;
}

/** Quantizes one ONNX file; see the file comment. */
export async function quantizeFile(path: string, options: QuantizeFileOptions = {}, data?: PreparedData): Promise<QuantizeFileResult> {
  if (!existsSync(path)) throw new CompressError(`${path}: file not found`);
  const fp32 = readFileSync(path);
  const input = modelInput(fp32, path, options.layout);
  const scale = options.inputScale ?? 'standardised';
  const images = options.calibrationImages ?? DEFAULT_CALIBRATION_IMAGES;
  const prepared = data ?? prepareData(loadDataset(options.data));
  const batches = options.calibrationData
    ? await userCalibrationBatches(options.calibrationData, input, scale, images)
    : await adaptedBatches(prepared.train, images, input.plan, prepared, scale);
  const evaluate = (model: Uint8Array) => onnxAccuracy(model, prepared.test, input.plan, prepared, scale);
  const selection = await chooseInt8(fp32, path, batches, evaluate, { ...options, quantize: { method: options.method, percentile: options.percentile } });
  if (!selection.variants.length) throw new CompressError(`${path}: has no Conv, Gemm or MatMul with constant weights to quantize`);
  const shown = selection.chosen ?? selection.variants[0];
  let output: string | null = null;
  if (selection.chosen) {
    output = options.out ?? path.replace(/\.onnx$/, '') + '.int8.onnx';
    writeFileAtomic(output, selection.chosen.bytes);
  }
  const opTypes = await optimisedOpTypes(shown.bytes);
  return {
    choice: selection.choice,
    output,
    fp32Bytes: fp32.length,
    variants: selection.variants.map(({ bytes, ...v }) => ({ ...v, fileBytes: bytes.length })),
    shownVariant: shown.name,
    int8Bytes: shown.bytes.length,
    size: shown.size,
    qlinearOps: Object.entries(opTypes).filter(([op]) => op.startsWith('QLinear') || op === 'QGemm').reduce((n, [, c]) => n + c, 0),
    opTypes,
    floatNodes: [...shown.report.float, ...(await floatNodesAfterOptimisation(shown.bytes))],
    fp32Accuracy: selection.fp32.accuracy,
    int8Accuracy: shown.accuracy ?? (await evaluate(shown.bytes)),
    input,
  };
}

/** A measured accuracy as a number (NaN when it was skipped). */
export const accuracyValue = (r: AccuracyResult | null): number => (r?.state === 'measured' ? r.accuracy : Number.NaN);

/** What `nas compress` shows for one quantized model: the file kept and which INT8 variant it is, or that fp32 was kept. */
export interface Int8Outcome {
  path: string;
  accuracy: number;
  bytes: number;
  /** `int8:<variant>` or `fp32 kept: <reason>`. */
  choice: string;
}

/** The INT8 row of `nas compress`: the chosen variant's file, or the fp32 file itself when fp32 was kept. */
export function int8Outcome(q: QuantizeFileResult, fp32Path: string): Int8Outcome {
  if (q.choice.state === 'int8' && q.output) return { path: q.output, accuracy: accuracyValue(q.int8Accuracy), bytes: q.int8Bytes, choice: `int8:${q.choice.variant}` };
  return { path: fp32Path, accuracy: accuracyValue(q.fp32Accuracy), bytes: q.fp32Bytes, choice: `fp32 kept: ${q.choice.reason}` };
}
