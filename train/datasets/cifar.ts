/**
 * CIFAR-10/100 binary version: fixed-size records of label byte(s) and a
 * 32×32×3 image stored channel-planar (all red, all green, all blue).
 * CIFAR-10: data_batch_1..5.bin and test_batch.bin, 1 label byte.
 * CIFAR-100: train.bin and test.bin, coarse then fine label byte (fine is used).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, ImageSet } from '../types.js';
import { DatasetError } from './errors.js';

const SIDE = 32;
const IMAGE_BYTES = SIDE * SIDE * 3;

/** Reads CIFAR binary record files into one NHWC image set. */
export function readCifarFiles(files: string[], labelBytes: 1 | 2, numClasses: number): ImageSet {
  const recordBytes = labelBytes + IMAGE_BYTES;
  const buffers = files.map((file) => {
    const data = readFileSync(file);
    if (data.length % recordBytes !== 0) {
      throw new DatasetError(file, `is ${data.length} bytes, not a whole number of ${recordBytes}-byte CIFAR records`);
    }
    return { file, data };
  });
  const count = buffers.reduce((n, b) => n + b.data.length / recordBytes, 0);
  const pixels = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  let index = 0;
  for (const { file, data } of buffers) {
    for (let offset = 0; offset < data.length; offset += recordBytes, index++) {
      const label = data[offset + labelBytes - 1];
      if (label >= numClasses) {
        throw new DatasetError(file, `label ${label} in record ${offset / recordBytes} is out of range 0–${numClasses - 1}`);
      }
      labels[index] = label;
      const image = offset + labelBytes;
      const out = index * IMAGE_BYTES;
      for (let p = 0; p < SIDE * SIDE; p++) {
        pixels[out + p * 3] = data[image + p];
        pixels[out + p * 3 + 1] = data[image + SIDE * SIDE + p];
        pixels[out + p * 3 + 2] = data[image + 2 * SIDE * SIDE + p];
      }
    }
  }
  return { pixels, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

/** True when a directory holds CIFAR-10 or CIFAR-100 binary files. */
export function isCifarDirectory(dir: string): boolean {
  return existsSync(join(dir, 'test_batch.bin')) || (existsSync(join(dir, 'train.bin')) && existsSync(join(dir, 'test.bin')));
}

/** Reads a CIFAR-10 or CIFAR-100 binary directory. */
export function readCifarDirectory(dir: string): Dataset {
  const isCifar10 = existsSync(join(dir, 'test_batch.bin'));
  if (isCifar10) {
    const trainFiles = [1, 2, 3, 4, 5].map((i) => join(dir, `data_batch_${i}.bin`)).filter((f) => existsSync(f));
    if (trainFiles.length === 0) throw new DatasetError(join(dir, 'data_batch_1.bin'), 'not found beside test_batch.bin');
    const names = join(dir, 'batches.meta.txt');
    const classNames = existsSync(names)
      ? readFileSync(names, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean)
      : Array.from({ length: 10 }, (_, i) => String(i));
    return {
      name: 'cifar-10',
      source: dir,
      numClasses: 10,
      classNames,
      train: readCifarFiles(trainFiles, 1, 10),
      test: readCifarFiles([join(dir, 'test_batch.bin')], 1, 10),
    };
  }
  return {
    name: 'cifar-100',
    source: dir,
    numClasses: 100,
    classNames: Array.from({ length: 100 }, (_, i) => String(i)),
    train: readCifarFiles([join(dir, 'train.bin')], 2, 100),
    test: readCifarFiles([join(dir, 'test.bin')], 2, 100),
  };
}
