/**
 * `nas-edge/compress`: the front made deployable: structured pruning with
 * distillation fine-tuning, INT8 QDQ quantization, float16 copies, each
 * variant measured.
 */
export { compressRun } from './compress-run.js';
export { quantizeFile } from './quantize-file.js';
export type { QuantizeFileOptions, QuantizeFileResult } from './quantize-file.js';
export type { CompressInput, CompressOptions, CompressionRow, PruneOptions } from './types.js';
export { quantizeModel } from '../onnx/quantize.js';
export type { QuantizeOptions, QuantizationReport, CalibrationBatch, CalibrationMethod } from '../onnx/quantize.js';
export { onnxAccuracy } from './onnx-eval.js';
export type { AccuracyResult } from './onnx-eval.js';
export { toFloat16Model } from '../onnx/fp16.js';
export { CompressError } from '../onnx/model.js';
