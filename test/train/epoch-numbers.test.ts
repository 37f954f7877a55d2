import { describe, expect, it } from 'vitest';
import { recordStep, type TrainingStart } from '../../train/training-loop.js';
import seedrandom from 'seedrandom';

/** The loop state recordStep reads: 100 images an epoch, a budget of `totalImages` in steps of `batch`. */
function loop(totalImages: number, batch: number): TrainingStart {
  const rng = seedrandom('t', { state: true }) as TrainingStart['rng'];
  return { o: { totalImages } as TrainingStart['o'], useTeacher: false, resume: null, continued: null, rng, segmentStart: 0, steps: Math.ceil(totalImages / batch), stepLosses: [], order: new Int32Array(100), cursor: 0, imagesSeen: 0 };
}

/** The epoch numbers a whole training reports, step by step. */
function numbers(totalImages: number, batch: number): Array<[number, number]> {
  const state = loop(totalImages, batch);
  const ends: Array<[number, number]> = [];
  for (let step = 0; step < state.steps; step++) {
    const ended = recordStep(state, step, Math.min(batch, totalImages - state.imagesSeen), 1, () => 0);
    if (ended) ends.push([ended.epoch, ended.number]);
  }
  return ends;
}

describe('recordStep: which epoch a step ended', () => {
  it('numbers each completed epoch once, when a batch straddles the epoch boundary', () => {
    // 100 images an epoch in batches of 32: epochs end inside steps 4, 7 and 10 (128, 224, 320 images seen).
    expect(numbers(300, 32)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('numbers the partial last epoch of a fractional budget as the next one', () => {
    // 2.5 epochs: epochs 1 and 2 complete, the training stops inside the third.
    expect(numbers(250, 32)).toEqual([
      [1, 1],
      [2, 2],
      [2, 3],
    ]);
    // Aligned batches too.
    expect(numbers(150, 25)).toEqual([
      [1, 1],
      [1, 2],
    ]);
  });
});
