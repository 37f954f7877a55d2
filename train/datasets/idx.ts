/**
 * IDX files (MNIST, Fashion-MNIST): big-endian header, then uint8 data.
 * Images have magic 0x0803 and dims (count, rows, cols); labels 0x0801 and (count).
 * Gzipped files (.gz) are inflated transparently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset, ImageSet } from '../types.js';
import { DatasetError } from './errors.js';

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

function readMaybeGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new DatasetError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch {
      throw new DatasetError(file, 'is gzip-compressed but truncated or corrupt');
    }
  }
  return raw;
}

function readHeader(file: string, data: Buffer, magic: number, dims: number): number[] {
  const headerBytes = 4 + 4 * dims;
  if (data.length < headerBytes) throw new DatasetError(file, `is ${data.length} bytes, shorter than an IDX header`);
  const found = data.readUInt32BE(0);
  if (found !== magic) {
    throw new DatasetError(
      file,
      `wrong magic number 0x${found.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')} (IDX ${dims === 3 ? 'images' : 'labels'})`,
    );
  }
  const shape = Array.from({ length: dims }, (_, i) => data.readUInt32BE(4 + 4 * i));
  const expected = headerBytes + shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new DatasetError(file, `is ${data.length} bytes but its header (${shape.join('×')}) needs ${expected}: truncated or padded`);
  }
  return shape;
}

/** Reads one images file and its labels file into an {@link ImageSet}. */
export function readIdxPair(imagesFile: string, labelsFile: string, numClasses: number): ImageSet {
  const images = readMaybeGzip(imagesFile);
  const [count, height, width] = readHeader(imagesFile, images, IMAGES_MAGIC, 3);
  const labelData = readMaybeGzip(labelsFile);
  const [labelCount] = readHeader(labelsFile, labelData, LABELS_MAGIC, 1);
  if (labelCount !== count) {
    throw new DatasetError(labelsFile, `has ${labelCount} labels but ${imagesFile} has ${count} images`);
  }
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labelData[8 + i];
    if (label >= numClasses) throw new DatasetError(labelsFile, `label ${label} at index ${i} is out of range 0–${numClasses - 1}`);
    labels[i] = label;
  }
  return { pixels: new Uint8Array(images.subarray(16)), labels, count, height, width, channels: 1 };
}

/** File stems of the MNIST layout, with or without `.gz`. */
const SPLITS = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

function findFile(dir: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DatasetError(join(dir, `${stem}[.gz]`), 'not found (expected the MNIST file layout)');
}

/** True when a directory holds the four MNIST-layout files. */
export function isIdxDirectory(dir: string): boolean {
  return [...SPLITS.train, ...SPLITS.test].every((stem) => existsSync(join(dir, stem)) || existsSync(join(dir, `${stem}.gz`)));
}

/** Reads a directory in the MNIST layout (Fashion-MNIST, MNIST, KMNIST…). */
export function readIdxDirectory(dir: string, name: string, classNames: string[]): Dataset {
  const numClasses = classNames.length;
  const split = (which: keyof typeof SPLITS) =>
    readIdxPair(findFile(dir, SPLITS[which][0]), findFile(dir, SPLITS[which][1]), numClasses);
  return { name, source: dir, numClasses, classNames, train: split('train'), test: split('test') };
}
