import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readCifarDirectory } from '../../train/datasets/cifar.js';
import { DatasetError } from '../../train/datasets/errors.js';
import { loadDataset } from '../../train/datasets/load.js';
import { embeddedSampleDir } from '../../train/paths.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'data-'));

function idxImages(count: number, h: number, w: number, fill = (i: number) => i % 256): Buffer {
  const b = Buffer.alloc(16 + count * h * w);
  b.writeUInt32BE(0x803, 0);
  b.writeUInt32BE(count, 4);
  b.writeUInt32BE(h, 8);
  b.writeUInt32BE(w, 12);
  for (let i = 0; i < count * h * w; i++) b[16 + i] = fill(i);
  return b;
}
function idxLabels(labels: number[]): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(0x801, 0);
  b.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (b[8 + i] = l));
  return b;
}
function writeIdxDir(dir: string, parts: Partial<Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', Buffer>> = {}) {
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(parts.trainImages ?? idxImages(4, 5, 5)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(parts.trainLabels ?? idxLabels([0, 1, 2, 9])));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), parts.testImages ?? idxImages(2, 5, 5));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), parts.testLabels ?? idxLabels([3, 4]));
}
function expectDatasetError(fn: () => unknown, file: string, problem: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).file).toBe(file);
    expect((error as DatasetError).problem).toMatch(problem);
    return;
  }
  throw new Error('expected a DatasetError');
}

describe('IDX', () => {
  it('the embedded sample is 500 training and 100 test images per class of real Fashion-MNIST', () => {
    const d = loadDataset();
    expect(d.name).toBe('fashion-mnist-sample');
    expect([d.train.count, d.test.count, d.train.height, d.train.width, d.train.channels]).toEqual([5000, 1000, 28, 28, 1]);
    const perClass = (labels: Int32Array) => Array.from({ length: 10 }, (_, k) => labels.filter((l) => l === k).length);
    expect(perClass(d.train.labels)).toEqual(new Array(10).fill(500));
    expect(perClass(d.test.labels)).toEqual(new Array(10).fill(100));
    // The first training image of Fashion-MNIST is an ankle boot (label 9).
    expect(d.train.labels[0]).toBe(9);
    const raw = gunzipSync(readFileSync(join(embeddedSampleDir(), 'train-images-idx3-ubyte.gz')));
    expect(Buffer.compare(Buffer.from(d.train.pixels.subarray(0, 784)), raw.subarray(16, 16 + 784))).toBe(0);
  });

  it('reads gzipped and raw files of a directory', () => {
    const dir = tmp();
    writeIdxDir(dir);
    const d = loadDataset(dir);
    expect(Array.from(d.train.labels)).toEqual([0, 1, 2, 9]);
    expect(Array.from(d.test.labels)).toEqual([3, 4]);
    expect(d.train.pixels[30]).toBe(30);
  });

  it('wrong magic number', () => {
    const dir = tmp();
    const bad = idxImages(2, 5, 5);
    bad.writeUInt32BE(0x801, 0);
    writeIdxDir(dir, { testImages: bad });
    expectDatasetError(() => loadDataset(dir), join(dir, 't10k-images-idx3-ubyte'), /wrong magic number 0x00000801, expected 0x00000803/);
  });

  it('truncated file', () => {
    const dir = tmp();
    writeIdxDir(dir, { testImages: idxImages(2, 5, 5).subarray(0, 40) });
    expectDatasetError(() => loadDataset(dir), join(dir, 't10k-images-idx3-ubyte'), /truncated/);
  });

  it('image and label counts that do not match', () => {
    const dir = tmp();
    writeIdxDir(dir, { testLabels: idxLabels([1, 2, 3]) });
    expectDatasetError(() => loadDataset(dir), join(dir, 't10k-labels-idx1-ubyte'), /has 3 labels but .* has 2 images/);
  });

  it('label out of range', () => {
    const dir = tmp();
    writeIdxDir(dir, { trainLabels: idxLabels([0, 1, 12, 3]) });
    expectDatasetError(() => loadDataset(dir), join(dir, 'train-labels-idx1-ubyte.gz'), /label 12 at index 2 is out of range 0–9/);
  });

  it('a path that does not exist', () => {
    expectDatasetError(() => loadDataset('/nonexistent/data'), '/nonexistent/data', /not found/);
  });
});

/** A .npy v1 file of uint8 or int64. */
function npy(shape: number[], values: number[], dtype: '|u1' | '<i8'): Uint8Array {
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const body = dtype === '|u1' ? Uint8Array.from(values) : new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header), 10);
  out.set(body, 10 + header.length);
  return out;
}

describe('MedMNIST .npz', () => {
  const arrays = (channels: number, labelShape: (n: number) => number[] = (n) => [n, 1]) => {
    const split = (n: number, offset: number) => ({
      images: npy(channels === 1 ? [n, 4, 4] : [n, 4, 4, 3], Array.from({ length: n * 16 * channels }, (_, i) => (i + offset) % 256), '|u1'),
      labels: npy(labelShape(n), Array.from({ length: labelShape(n).reduce((a, b) => a * b, 1) }, (_, i) => (i + offset) % 3), '<i8'),
    });
    const [tr, va, te] = [split(6, 0), split(3, 1), split(3, 2)];
    return {
      'train_images.npy': tr.images, 'train_labels.npy': tr.labels,
      'val_images.npy': va.images, 'val_labels.npy': va.labels,
      'test_images.npy': te.images, 'test_labels.npy': te.labels,
    };
  };

  it('grayscale, deflated, with its own validation split', () => {
    const file = join(tmp(), 'pneumoniamnist.npz');
    writeFileSync(file, zipSync(arrays(1), { level: 6 }));
    const d = loadDataset(file);
    expect(d.name).toBe('pneumoniamnist');
    expect([d.train.count, d.validation?.count, d.test.count, d.train.channels, d.numClasses]).toEqual([6, 3, 3, 1, 3]);
    expect(Array.from(d.train.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(d.train.pixels[17]).toBe(17);
  });

  it('RGB, stored', () => {
    const file = join(tmp(), 'bloodmnist.npz');
    writeFileSync(file, zipSync(arrays(3), { level: 0 }));
    const d = loadDataset(file);
    expect([d.train.height, d.train.width, d.train.channels]).toEqual([4, 4, 3]);
    expect(d.train.pixels[5]).toBe(5); // NHWC as stored
  });

  it('a multi-label task is refused naming the array', () => {
    const file = join(tmp(), 'chestmnist.npz');
    writeFileSync(file, zipSync(arrays(1, (n) => [n, 14])));
    expectDatasetError(() => loadDataset(file), `${file}:train_labels`, /only single-label/);
  });

  it('a file that is not a zip', () => {
    const file = join(tmp(), 'broken.npz');
    writeFileSync(file, 'not a zip');
    expectDatasetError(() => loadDataset(file), file, /not a readable .npz/);
  });
});

describe('CIFAR binary', () => {
  it('turns channel-planar records into NHWC and reads labels', () => {
    const dir = tmp();
    const record = (label: number, base: number) => {
      const r = Buffer.alloc(1 + 3072);
      r[0] = label;
      for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) r[1 + c * 1024 + p] = (base + c) % 256;
      return r;
    };
    writeFileSync(join(dir, 'data_batch_1.bin'), Buffer.concat([record(3, 10), record(7, 20)]));
    writeFileSync(join(dir, 'test_batch.bin'), record(1, 30));
    const d = readCifarDirectory(dir);
    expect(d.name).toBe('cifar-10');
    expect(Array.from(d.train.labels)).toEqual([3, 7]);
    expect(Array.from(d.train.pixels.subarray(0, 6))).toEqual([10, 11, 12, 10, 11, 12]);
    expect(Array.from(d.train.pixels.subarray(3072, 3075))).toEqual([20, 21, 22]);
  });

  it('a truncated batch file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'data_batch_1.bin'), Buffer.alloc(3073 * 2 - 5));
    writeFileSync(join(dir, 'test_batch.bin'), Buffer.alloc(3073));
    expectDatasetError(() => readCifarDirectory(dir), join(dir, 'data_batch_1.bin'), /not a whole number of 3073-byte/);
  });
});
