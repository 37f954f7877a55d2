/**
 * `nas quantize` on one file: read an ONNX model, calibrate it on images,
 * write its INT8 QDQ copy and measure both on the test split.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../space/candidate-files.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData, type PreparedData } from '../train/datasets/prepared.js';
import { calibrationBatches, onnxAccuracy } from './onnx-eval.js';
import { CompressError, decodeModel } from './onnx-model.js';
import { optimisedOpTypes, quantizeModel, type CalibrationMethod } from './quantize.js';

export interface QuantizeFileOptions {
  data?: string;
  /** Calibration images from the training split. @default 256 */
  calibrationImages?: number;
  method?: CalibrationMethod;
  percentile?: number;
  out?: string;
}

export interface QuantizeFileResult {
  output: string;
  fp32Bytes: number;
  int8Bytes: number;
  qlinearOps: number;
  opTypes: Record<string, number>;
  fp32Accuracy: number;
  int8Accuracy: number;
}

/** The model's input resolution and channels, from its first input's shape. */
export function inputGeometry(bytes: Uint8Array, name: string): { channels: number; resolution: number } {
  const model = decodeModel(bytes, name);
  const dims = model.graph!.input![0].type?.tensorType?.shape?.dim ?? [];
  const value = (i: number) => Number(dims[i]?.dimValue ?? 0);
  if (dims.length !== 4 || !value(1) || !value(2) || value(2) !== value(3)) {
    throw new CompressError(`${name}: expected an NCHW input with fixed square size, got [${dims.map((d) => d.dimValue ?? d.dimParam).join(', ')}]`);
  }
  return { channels: value(1), resolution: value(2) };
}

/** Quantizes one ONNX file with calibration images from `data`, and measures both on its test split. */
export async function quantizeFile(path: string, options: QuantizeFileOptions = {}, data?: PreparedData): Promise<QuantizeFileResult> {
  if (!existsSync(path)) throw new CompressError(`${path}: file not found`);
  const fp32 = readFileSync(path);
  const { channels, resolution } = inputGeometry(fp32, path);
  const prepared = data ?? prepareData(loadDataset(options.data));
  if (prepared.train.channels !== channels) {
    throw new CompressError(`${path}: input has ${channels} channel(s), the data ${prepared.train.channels}`);
  }
  const batches = await calibrationBatches(prepared.train, options.calibrationImages ?? 256, resolution);
  const { bytes } = await quantizeModel(fp32, path, batches, { method: options.method, percentile: options.percentile });
  const output = options.out ?? path.replace(/\.onnx$/, '') + '.int8.onnx';
  writeFileAtomic(output, bytes);
  const opTypes = await optimisedOpTypes(bytes);
  return {
    output,
    fp32Bytes: fp32.length,
    int8Bytes: bytes.length,
    qlinearOps: Object.entries(opTypes).filter(([op]) => op.startsWith('QLinear')).reduce((n, [, c]) => n + c, 0),
    opTypes,
    fp32Accuracy: await onnxAccuracy(fp32, prepared.test, resolution, prepared.numClasses),
    int8Accuracy: await onnxAccuracy(bytes, prepared.test, resolution, prepared.numClasses),
  };
}
