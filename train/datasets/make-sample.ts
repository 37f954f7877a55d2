/**
 * Regenerates the committed Fashion-MNIST sample from a full copy (by default
 * Debian's package): the first N images of each class from each split, in
 * their original order, written as gzipped IDX. Run: node dist/train/datasets/make-sample.js
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEBIAN_FASHION_MNIST_DIR, embeddedSampleDir } from '../paths.js';
import type { ImageSet } from '../types.js';
import { FASHION_MNIST_CLASSES } from './load.js';
import { readIdxDirectory } from './idx.js';

function firstPerClass(set: ImageSet, perClass: number): number[] {
  const taken = new Array<number>(10).fill(0);
  const indices: number[] = [];
  for (let i = 0; i < set.count; i++) {
    if (taken[set.labels[i]] < perClass) {
      taken[set.labels[i]]++;
      indices.push(i);
    }
  }
  return indices;
}

function writeIdx(dir: string, stem: string, set: ImageSet, indices: number[]): void {
  const pixelsPerImage = set.height * set.width;
  const images = Buffer.alloc(16 + indices.length * pixelsPerImage);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(indices.length, 4);
  images.writeUInt32BE(set.height, 8);
  images.writeUInt32BE(set.width, 12);
  const labels = Buffer.alloc(8 + indices.length);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(indices.length, 4);
  indices.forEach((src, k) => {
    images.set(set.pixels.subarray(src * pixelsPerImage, (src + 1) * pixelsPerImage), 16 + k * pixelsPerImage);
    labels[8 + k] = set.labels[src];
  });
  writeFileSync(join(dir, `${stem.replace('labels', 'images').replace('idx1', 'idx3')}.gz`), gzipSync(images, { level: 9 }));
  writeFileSync(join(dir, `${stem}.gz`), gzipSync(labels, { level: 9 }));
}

const source = process.argv[2] ?? DEBIAN_FASHION_MNIST_DIR;
const full = readIdxDirectory(source, 'fashion-mnist', FASHION_MNIST_CLASSES);
const out = embeddedSampleDir();
mkdirSync(out, { recursive: true });
writeIdx(out, 'train-labels-idx1-ubyte', full.train, firstPerClass(full.train, 500));
writeIdx(out, 't10k-labels-idx1-ubyte', full.test, firstPerClass(full.test, 100));
console.log(`wrote 5000 training and 1000 test images to ${out}`);
