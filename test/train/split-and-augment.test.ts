import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { gatherAugmented, splitValidation } from '../../train/datasets/prepare.js';
import { prepareData, trainingImagesOutsideSubset, withTrainingSubset } from '../../train/datasets/prepared.js';
import type { ImageSet, TensorSplit } from '../../train/types.js';

const set: ImageSet = {
  pixels: Uint8Array.from({ length: 100 * 4 }, (_, i) => i % 256),
  labels: Int32Array.from({ length: 100 }, (_, i) => i % 4),
  count: 100,
  height: 2,
  width: 2,
  channels: 1,
};

describe('train/validation split', () => {
  it('is seeded, disjoint, complete and stratified', () => {
    const a = splitValidation(set, 0.2, 1);
    const b = splitValidation(set, 0.2, 1);
    const c = splitValidation(set, 0.2, 2);
    expect(Array.from(a.validationIndices)).toEqual(Array.from(b.validationIndices));
    expect(Array.from(a.validationIndices)).not.toEqual(Array.from(c.validationIndices));
    const all = new Set([...a.trainIndices, ...a.validationIndices]);
    expect(all.size).toBe(100);
    expect(a.validation.count).toBe(20);
    for (let k = 0; k < 4; k++) expect(a.validation.labels.filter((l) => l === k).length).toBe(5);
    // The subset carries the images of the indices it names.
    const i = a.validationIndices[3];
    expect(Array.from(a.validation.pixels.subarray(12, 16))).toEqual(Array.from(set.pixels.subarray(i * 4, i * 4 + 4)));
  });

  it('rejects a fraction outside (0, 1)', () => {
    expect(() => splitValidation(set, 1, 0)).toThrow(/validation fraction must be in \(0, 1\), got 1/);
  });
});

describe('training subset and the images it leaves out', () => {
  // Every pixel of image k is k: an image's content names it.
  const named: ImageSet = { ...set, pixels: Uint8Array.from({ length: 100 * 4 }, (_, i) => Math.floor(i / 4)) };
  const data = prepareData({ name: 'grid', source: 'test', train: named, test: named, numClasses: 4, classNames: ['a', 'b', 'c', 'd'] }, { validationFraction: 0.2, seed: 0 });
  const imageAt = (split: { images: Float32Array }, k: number) => Array.from(split.images.subarray(k * 4, k * 4 + 4));

  it('are disjoint, together the whole training split, and the same on every call', () => {
    const subset = withTrainingSubset(data, 30, 3);
    const outside = trainingImagesOutsideSubset(data, 30, 3, 1000);
    expect(outside.count).toBe(50);
    const subsetImages = new Set(Array.from({ length: 30 }, (_, k) => imageAt(subset.train, k).join()));
    const outsideImages = Array.from({ length: 50 }, (_, k) => imageAt(outside, k).join());
    expect(outsideImages.filter((x) => subsetImages.has(x))).toEqual([]);
    expect(new Set([...subsetImages, ...outsideImages]).size).toBe(80);
    expect(Array.from(trainingImagesOutsideSubset(data, 30, 3, 1000).images)).toEqual(Array.from(outside.images));
    // Labels travel with their images.
    const labelOf = new Map(Array.from({ length: 80 }, (_, k) => [imageAt(data.train, k).join(), data.train.labels[k]]));
    expect(outsideImages.every((x, k) => labelOf.get(x) === outside.labels[k])).toBe(true);
  });

  it('a count below what is left takes a seeded draw of that many; a subset of the whole split leaves none', () => {
    const ten = trainingImagesOutsideSubset(data, 30, 3, 10);
    expect(ten.count).toBe(10);
    const all = new Set(Array.from({ length: 50 }, (_, k) => imageAt(trainingImagesOutsideSubset(data, 30, 3, 1000), k).join()));
    expect(Array.from({ length: 10 }, (_, k) => imageAt(ten, k).join()).every((x) => all.has(x))).toBe(true);
    expect(Array.from(trainingImagesOutsideSubset(data, 30, 4, 10).images)).not.toEqual(Array.from(ten.images));
    expect(trainingImagesOutsideSubset(data, 80, 3, 10).count).toBe(0);
  });
});

describe('augmentation', () => {
  // One 3×3 image with two channels: value = 10·(y·3 + x) + channel.
  const split: TensorSplit = {
    images: Float32Array.from({ length: 18 }, (_, i) => 10 * Math.floor(i / 2) + (i % 2)),
    labels: Int32Array.from([0]),
    count: 1,
    height: 3,
    width: 3,
    channels: 2,
  };
  const at = (img: Float32Array, y: number, x: number, c: number) => img[(y * 3 + x) * 2 + c];

  it('off is a plain copy', () => {
    const out = new Float32Array(18);
    gatherAugmented(split, [0], out, false, seedrandom('a'));
    expect(Array.from(out)).toEqual(Array.from(split.images));
  });

  it('flip mirrors columns, keeps channels', () => {
    const out = new Float32Array(18);
    gatherAugmented(split, [0], out, { padCrop: 0, horizontalFlip: true }, () => 0.1); // rng < 0.5: flip
    expect([at(out, 1, 0, 0), at(out, 1, 0, 1), at(out, 2, 2, 0)]).toEqual([50, 51, 60]);
  });

  it('pad-and-crop shifts content and fills the border with zeros', () => {
    const out = new Float32Array(18);
    // rng 0 → shift −1 in y and x (pad 1): out(y, x) = in(y − 1, x − 1).
    gatherAugmented(split, [0], out, { padCrop: 1, horizontalFlip: false }, () => 0);
    expect([at(out, 0, 0, 0), at(out, 0, 2, 1), at(out, 1, 1, 0), at(out, 2, 2, 1)]).toEqual([0, 0, 0, 41]);
  });

  it('the same seed gives the same augmented batch', () => {
    const run = (seed: string) => {
      const out = new Float32Array(18 * 3);
      gatherAugmented(split, [0, 0, 0], out, { padCrop: 1, horizontalFlip: true }, seedrandom(seed));
      return Array.from(out);
    };
    expect(run('s')).toEqual(run('s'));
    expect(run('s')).not.toEqual(run('t'));
  });
});
