/**
 * Calibration inputs for any model, from three sources: a dataset split fed
 * through the same input adaptation as the ONNX teacher (resize, channel
 * replication, input scale, NCHW/NHWC); a directory of PNG/JPEG images
 * (decoded by pngjs and jpeg-js, then adapted the same way); or a `.npy` /
 * `.npz` tensor already in the model's input layout, used as it is.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { selectBackend } from '../train/backend.js';
import { parseNpy, type NpyArray } from '../train/datasets/npz.js';
import type { InputScale, OnnxInputPlan } from '../train/input-adapter.js';
import type { Normalisation, TensorSplit } from '../train/types.js';
import { CompressError } from '../onnx/model.js';
import type { CalibrationBatch } from '../onnx/quantize.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

export { adaptedBatches, batchDims, CALIBRATION_BATCH, modelInput, type ModelInput } from '../train/calibration-batches.js';
import { adaptedBatches, CALIBRATION_BATCH, type ModelInput } from '../train/calibration-batches.js';

/** Decodes one PNG or JPEG to RGB(A) bytes, naming the file when it cannot. */
function decodeImage(file: string): { width: number; height: number; rgba: Uint8Array } {
  const bytes = readFileSync(file);
  try {
    if (extname(file).toLowerCase() === '.png') {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 100 });
    return { width: image.width, height: image.height, rgba: image.data };
  } catch (error) {
    throw new CompressError(`${file}: not a readable ${extname(file).slice(1).toUpperCase()} image (${(error as Error).message})`);
  }
}

/**
 * Calibration images from a directory of PNG/JPEG files: each decoded,
 * resized to the model's size (or the first image's), gray when every image
 * is gray, and standardised by the set's own per-channel mean and deviation
 * (the `standardised` input scale); then adapted like dataset images.
 */
export async function imageDirectoryBatches(dir: string, plan: OnnxInputPlan, scale: InputScale, maxImages: number): Promise<CalibrationBatch[]> {
  const files = readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort().slice(0, maxImages);
  if (!files.length) throw new CompressError(`${dir}: holds no .png, .jpg or .jpeg images; expected calibration images`);
  await selectBackend();
  const decoded = files.map((f) => ({ file: join(dir, f), ...decodeImage(join(dir, f)) }));
  const gray = decoded.every(({ rgba }) => {
    for (let i = 0; i < rgba.length; i += 4) if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
    return true;
  });
  const channels = gray ? 1 : 3;
  const height = plan.height ?? decoded[0].height;
  const width = plan.width ?? decoded[0].width;
  const images = new Float32Array(decoded.length * height * width * channels);
  decoded.forEach(({ width: w, height: h, rgba }, i) => {
    const pixels = new Float32Array(w * h * channels);
    for (let p = 0; p < w * h; p++) for (let c = 0; c < channels; c++) pixels[p * channels + c] = rgba[p * 4 + c] / 255;
    const resized = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(pixels, [h, w, channels]), [height, width], true).dataSync() as Float32Array);
    images.set(resized, i * height * width * channels);
  });
  const normalisation = channelStatistics(images, channels);
  for (let i = 0; i < images.length; i++) images[i] = (images[i] - normalisation.mean[i % channels]) / normalisation.std[i % channels];
  const split: TensorSplit = { images, labels: new Int32Array(decoded.length), count: decoded.length, height, width, channels };
  return adaptedBatches(split, decoded.length, plan, { normalisation }, scale);
}

function channelStatistics(images: Float32Array, channels: number): Normalisation {
  const mean = new Array<number>(channels).fill(0);
  const square = new Array<number>(channels).fill(0);
  for (let i = 0; i < images.length; i++) {
    mean[i % channels] += images[i];
    square[i % channels] += images[i] * images[i];
  }
  const n = images.length / channels;
  return {
    mean: mean.map((m) => m / n),
    std: mean.map((m, c) => Math.sqrt(Math.max(square[c] / n - (m / n) ** 2, 1e-12))),
  };
}

/** The calibration array of a `.npy` or `.npz` file: the only array, or the one named after the model's input. */
function readTensorFile(file: string, inputName: string): { array: NpyArray; where: string } {
  const bytes = readFileSync(file);
  if (extname(file).toLowerCase() === '.npy') return { array: parseNpy(bytes, file), where: file };
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new CompressError(`${file}: not a readable .npz (zip) archive (${(error as Error).message})`);
  }
  const names = Object.keys(entries);
  const chosen = names.length === 1 ? names[0] : names.find((n) => n.replace(/\.npy$/, '') === inputName);
  if (!chosen) throw new CompressError(`${file}: holds arrays ${names.join(', ')}; expected one array, or one named '${inputName}' after the model's input`);
  return { array: parseNpy(entries[chosen], `${file}:${chosen}`), where: `${file}:${chosen}` };
}

/** Calibration batches from a `.npy`/`.npz` tensor already in the model's input layout (values used as they are). */
export function tensorFileBatches(file: string, input: ModelInput): CalibrationBatch[] {
  const { array, where } = readTensorFile(file, input.name);
  const { plan } = input;
  const expected = plan.layout === 'NCHW' ? ['N', plan.channels, plan.height ?? 'H', plan.width ?? 'W'] : ['N', plan.height ?? 'H', plan.width ?? 'W', plan.channels];
  const fits = array.shape.length === 4 && expected.every((d, i) => typeof d !== 'number' || array.shape[i] === d) && array.shape[0] > 0;
  if (!fits) throw new CompressError(`${where}: shape (${array.shape.join(', ')}); expected (${expected.join(', ')}) in the model's ${plan.layout} input layout`);
  if (array.dtype !== '<f4' && array.dtype !== '|u1') throw new CompressError(`${where}: dtype ${array.dtype}; expected float32 or uint8`);
  const values = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
  const [count, ...rest] = array.shape;
  const perImage = rest.reduce((a, b) => a * b, 1);
  const size = plan.batch ?? CALIBRATION_BATCH;
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start + (plan.batch ?? 1) <= count; start += size) {
    const n = Math.min(size, count - start);
    batches.push({ data: values.slice(start * perImage, (start + n) * perImage), dims: [n, ...rest] });
  }
  if (!batches.length) throw new CompressError(`${where}: holds ${count} inputs; the model takes batches of ${plan.batch}`);
  return batches;
}

/** Calibration batches from a user's path: a directory of images, or a `.npy`/`.npz` tensor. */
export async function userCalibrationBatches(path: string, input: ModelInput, scale: InputScale, maxImages: number): Promise<CalibrationBatch[]> {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new CompressError(`${path}: not found; expected a directory of PNG/JPEG images or a .npy/.npz tensor`);
  }
  if (isDirectory) return imageDirectoryBatches(path, input.plan, scale, maxImages);
  const ext = extname(path).toLowerCase();
  if (ext !== '.npy' && ext !== '.npz') throw new CompressError(`${path}: expected a directory of PNG/JPEG images or a .npy/.npz tensor`);
  return tensorFileBatches(path, input);
}
