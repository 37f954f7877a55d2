/**
 * MedMNIST-style `.npz` archives: a zip (stored or deflated) of `.npy` arrays
 * named train_images, train_labels, val_images, val_labels, test_images,
 * test_labels. Images are uint8 [N, H, W] (grayscale) or [N, H, W, 3] (RGB);
 * labels are integers [N] or [N, 1] (single-label tasks only).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { unzipSync } from 'fflate';
import type { Dataset, ImageSet } from '../types.js';
import { DatasetError } from './errors.js';

/** One parsed `.npy` array. */
export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Uint8Array | Int32Array | Float32Array;
}

const INTEGER_DTYPES: Record<string, { bytes: number; read: (v: DataView, o: number) => number }> = {
  '|u1': { bytes: 1, read: (v, o) => v.getUint8(o) },
  '|i1': { bytes: 1, read: (v, o) => v.getInt8(o) },
  '<u2': { bytes: 2, read: (v, o) => v.getUint16(o, true) },
  '<i2': { bytes: 2, read: (v, o) => v.getInt16(o, true) },
  '<u4': { bytes: 4, read: (v, o) => v.getUint32(o, true) },
  '<i4': { bytes: 4, read: (v, o) => v.getInt32(o, true) },
  '<u8': { bytes: 8, read: (v, o) => Number(v.getBigUint64(o, true)) },
  '<i8': { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
};

/** Parses a `.npy` v1–v3 byte array of an integer dtype or float32 (`<f4`, for calibration tensors), C order. */
export function parseNpy(bytes: Uint8Array, where: string): NpyArray {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new DatasetError(where, 'is not a .npy array (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new DatasetError(where, `has an unreadable .npy header: ${header.trim()}`);
  if (fortran === 'True') throw new DatasetError(where, 'is in Fortran order; expected C order');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLength;
  if (descr === '<f4') {
    if (bytes.length - offset !== count * 4) throw new DatasetError(where, `holds ${bytes.length - offset} data bytes but shape (${shape.join(', ')}) of <f4 needs ${count * 4}`);
    // Copied: a Buffer's slice shares its pool, and float32 needs its own aligned buffer.
    return { dtype: descr, shape, data: new Float32Array(new Uint8Array(bytes.subarray(offset)).buffer) };
  }
  const dtype = INTEGER_DTYPES[descr];
  if (!dtype) throw new DatasetError(where, `has dtype ${descr}; expected an integer dtype (uint8 images, integer labels) or float32`);
  if (bytes.length - offset !== count * dtype.bytes) {
    throw new DatasetError(where, `holds ${bytes.length - offset} data bytes but shape (${shape.join(', ')}) of ${descr} needs ${count * dtype.bytes}`);
  }
  if (descr === '|u1') return { dtype: descr, shape, data: bytes.slice(offset) };
  const data = new Int32Array(count);
  for (let i = 0; i < count; i++) data[i] = dtype.read(view, offset + i * dtype.bytes);
  return { dtype: descr, shape, data };
}

function imageSet(file: string, arrays: Record<string, NpyArray>, split: string): ImageSet {
  const images = arrays[`${split}_images`];
  const labels = arrays[`${split}_labels`];
  if (!images || !labels) throw new DatasetError(file, `has no ${split}_images / ${split}_labels arrays`);
  if (images.dtype !== '|u1') throw new DatasetError(`${file}:${split}_images`, `dtype ${images.dtype}; expected uint8`);
  const [count, height, width, channels = 1] = images.shape;
  if (images.shape.length < 3 || images.shape.length > 4 || (channels !== 1 && channels !== 3)) {
    throw new DatasetError(`${file}:${split}_images`, `shape (${images.shape.join(', ')}); expected (N, H, W) or (N, H, W, 3)`);
  }
  if (labels.shape[0] !== count) {
    throw new DatasetError(`${file}:${split}_labels`, `has ${labels.shape[0]} labels but ${split}_images has ${count} images`);
  }
  if (labels.shape.length > 2 || (labels.shape.length === 2 && labels.shape[1] !== 1)) {
    throw new DatasetError(`${file}:${split}_labels`, `shape (${labels.shape.join(', ')}): only single-label tasks ([N] or [N, 1]) are supported`);
  }
  const values = Int32Array.from(labels.data as ArrayLike<number>);
  const bad = values.findIndex((v) => v < 0);
  if (bad >= 0) throw new DatasetError(`${file}:${split}_labels`, `label ${values[bad]} at index ${bad} is negative`);
  return { pixels: images.data as Uint8Array, labels: values, count, height, width, channels };
}

/** Reads a MedMNIST `.npz` (or any archive with the same array names). */
export function readNpz(file: string): Dataset {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(file));
  } catch (error) {
    throw new DatasetError(file, `is not a readable .npz (zip) archive: ${(error as Error).message}`);
  }
  const arrays: Record<string, NpyArray> = {};
  for (const [name, bytes] of Object.entries(entries)) {
    arrays[name.replace(/\.npy$/, '')] = parseNpy(bytes, `${file}:${name}`);
  }
  const train = imageSet(file, arrays, 'train');
  const test = imageSet(file, arrays, 'test');
  const validation = arrays.val_images ? imageSet(file, arrays, 'val') : undefined;
  const numClasses = 1 + Math.max(...[train, test, ...(validation ? [validation] : [])].map((s) => Math.max(...s.labels)));
  for (const [split, set] of [['train', train], ['test', test]] as const) {
    if (set.height !== train.height || set.width !== train.width || set.channels !== train.channels) {
      throw new DatasetError(`${file}:${split}_images`, `image shape ${set.height}×${set.width}×${set.channels} differs from train's`);
    }
  }
  const name = basename(file).replace(/\.npz$/, '');
  return {
    name,
    source: file,
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
    train,
    test,
    validation,
  };
}
