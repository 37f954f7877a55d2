/**
 * front/<id>/model.int8.onnx: under `latency.precision` int8 (or best, where
 * INT8 won) a front member's latency is that of one INT8 variant, so its
 * directory holds that model, quantized from the trained weights with the
 * run's own calibration images (256 training images, as compress
 * calibrates), ready to deploy beside model.onnx. Written when the front is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INT8_VARIANTS } from '../benchmarks/int8-variants.js';
import { quantizeModel } from '../onnx/quantize.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { adaptedBatches, modelInput } from '../train/calibration-batches.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import type { SearchConfig } from './config.js';
import type { EvaluatedRecord } from './types.js';

/** The INT8 model's file name in a front member's directory (compress writes the same name under compressed/). */
export const FRONT_INT8_FILE = 'model.int8.onnx';
/** Calibration images from the training split. */
export const FRONT_CALIBRATION_IMAGES = 256;

/** Writes each INT8-measured member's INT8 model into `frontDir/<id>/`; returns the ids written. */
export async function writeFrontInt8Models(frontDir: string, config: SearchConfig, members: readonly EvaluatedRecord[]): Promise<string[]> {
  const int8 = members.filter((r) => r.latency.precision === 'int8' && existsSync(join(frontDir, r.id, 'model.onnx')));
  if (!int8.length) return [];
  const data = prepareData(loadDataset(config.data), { validationFraction: config.validationFraction, seed: config.seed });
  const written: string[] = [];
  for (const r of int8) {
    const variant = INT8_VARIANTS.find((v) => v.name === r.latency.int8Variant);
    if (!variant) throw new Error(`${join(frontDir, r.id)}: latency was measured as INT8 variant '${r.latency.int8Variant}', which this version does not build (${INT8_VARIANTS.map((v) => v.name).join(', ')})`);
    const path = join(frontDir, r.id, 'model.onnx');
    const fp32 = readFileSync(path);
    const batches = await adaptedBatches(data.train, FRONT_CALIBRATION_IMAGES, modelInput(fp32, path).plan, data, 'standardised');
    const { bytes } = await quantizeModel(fp32, path, batches, variant.options);
    writeFileAtomic(join(frontDir, r.id, FRONT_INT8_FILE), bytes);
    written.push(r.id);
  }
  return written;
}
