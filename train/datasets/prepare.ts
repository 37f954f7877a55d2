/**
 * From uint8 image sets to what training consumes: per-channel statistics,
 * a seeded train/validation split, normalised float32 NHWC arrays, and
 * shuffled, augmented batches.
 */
import seedrandom from 'seedrandom';
import type { AugmentOptions, ImageSet, Normalisation, TensorSplit } from '../types.js';

/** Per-channel mean and standard deviation of pixels scaled to [0, 1]. */
export function channelStatistics(set: ImageSet): Normalisation {
  const c = set.channels;
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let i = 0; i < set.pixels.length; i++) {
    const v = set.pixels[i] / 255;
    sum[i % c] += v;
    sumSq[i % c] += v * v;
  }
  const n = set.pixels.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sumSq, (s, k) => Math.sqrt(Math.max(s / n - mean[k] ** 2, 1e-12)));
  return { mean, std };
}

/** The images at `indices`, in that order. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.height * set.width * set.channels;
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    pixels.set(set.pixels.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = set.labels[i];
  }
  return { ...set, pixels, labels, count: indices.length };
}

/** A seeded permutation of 0…n−1 (Fisher–Yates). */
export function permutation(n: number, rng: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Holds out a seeded, class-stratified fraction as validation, so the search
 * never looks at the test split. The same set, fraction and seed always give
 * the same split.
 */
export function splitValidation(
  set: ImageSet,
  fraction: number,
  seed: number,
): { train: ImageSet; validation: ImageSet; trainIndices: Int32Array; validationIndices: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`validation fraction must be in (0, 1), got ${fraction}`);
  const rng = seedrandom(`validation-split:${seed}`);
  const byClass = new Map<number, number[]>();
  set.labels.forEach((label, i) => byClass.set(label, [...(byClass.get(label) ?? []), i]));
  const train: number[] = [];
  const validation: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(label)!;
    const order = permutation(members.length, rng);
    const held = Math.round(members.length * fraction);
    order.forEach((k, rank) => (rank < held ? validation : train).push(members[k]));
  }
  train.sort((a, b) => a - b);
  validation.sort((a, b) => a - b);
  return {
    train: subset(set, train),
    validation: subset(set, validation),
    trainIndices: Int32Array.from(train),
    validationIndices: Int32Array.from(validation),
  };
}

/** Scales to [0, 1] and standardises per channel. */
export function normalise(set: ImageSet, norm: Normalisation): TensorSplit {
  const c = set.channels;
  const images = new Float32Array(set.pixels.length);
  const scale = norm.std.map((s) => 1 / (255 * s));
  const shift = norm.mean.map((m, k) => -m / norm.std[k]);
  for (let i = 0; i < images.length; i++) images[i] = set.pixels[i] * scale[i % c] + shift[i % c];
  return { images, labels: set.labels, count: set.count, height: set.height, width: set.width, channels: c };
}

/**
 * Copies images `indices` of `split` into `out`, padded by `padCrop` zeros
 * (zero is the mean after normalisation) and cropped back at a random offset,
 * and mirrored with probability 1/2. With augmentation off it is a gather.
 */
export function gatherAugmented(
  split: TensorSplit,
  indices: ArrayLike<number>,
  out: Float32Array,
  augment: AugmentOptions | false,
  rng: () => number,
): void {
  const { height: h, width: w, channels: c } = split;
  const size = h * w * c;
  for (let k = 0; k < indices.length; k++) {
    const src = indices[k] * size;
    const dst = k * size;
    if (!augment || (augment.padCrop === 0 && !augment.horizontalFlip)) {
      out.set(split.images.subarray(src, src + size), dst);
      continue;
    }
    const p = augment.padCrop;
    const dy = p ? Math.floor(rng() * (2 * p + 1)) - p : 0;
    const dx = p ? Math.floor(rng() * (2 * p + 1)) - p : 0;
    const flip = augment.horizontalFlip && rng() < 0.5;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + dx;
        const o = dst + (y * w + x) * c;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
          out.fill(0, o, o + c);
        } else {
          const s = src + (sy * w + sx) * c;
          for (let ch = 0; ch < c; ch++) out[o + ch] = split.images[s + ch];
        }
      }
    }
  }
}
