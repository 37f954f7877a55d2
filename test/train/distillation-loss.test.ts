import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../train/backend.js';
import { distillationLoss } from '../../train/training-loop.js';

/** float64 reference of α·T²·KL(p_t ‖ p_s) + (1 − α)·CE, averaged over rows. */
function reference(student: number[][], teacher: number[][], labels: number[], T: number, alpha: number): number {
  const logSoftmax = (z: number[]) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    return z.map((v) => v - lse);
  };
  let total = 0;
  student.forEach((s, i) => {
    const ce = -logSoftmax(s)[labels[i]];
    const lt = logSoftmax(teacher[i].map((v) => v / T));
    const ls = logSoftmax(s.map((v) => v / T));
    const kl = lt.reduce((acc, l, k) => acc + Math.exp(l) * (l - ls[k]), 0);
    total += alpha * T * T * kl + (1 - alpha) * ce;
  });
  return total / student.length;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('distillation loss', () => {
  const student = [[1, 2, 0.5], [-1, 0, 3]];
  const teacher = [[0.2, 3, -1], [0, 0.5, 4]];
  const labels = [1, 2];
  const compute = (T: number, alpha: number, withTeacher = true) =>
    tf.tidy(() =>
      distillationLoss(tf.tensor2d(student), tf.oneHot(tf.tensor1d(labels, 'int32'), 3) as tf.Tensor2D, withTeacher ? tf.tensor2d(teacher) : null, { temperature: T, alpha }).dataSync()[0],
    );

  it('matches the float64 reference at T=4, α=0.9', () => {
    expect(compute(4, 0.9)).toBeCloseTo(reference(student, teacher, labels, 4, 0.9), 5);
  });
  it('matches at T=1, α=0.5', () => {
    expect(compute(1, 0.5)).toBeCloseTo(reference(student, teacher, labels, 1, 0.5), 5);
  });
  it('α=0, or no teacher, is plain cross-entropy', () => {
    const ce = reference(student, teacher, labels, 4, 0);
    expect(compute(4, 0)).toBeCloseTo(ce, 5);
    expect(compute(4, 0.9, false)).toBeCloseTo(ce, 5);
  });
  it('KL term vanishes when student equals teacher (α=1)', () => {
    const loss = tf.tidy(() =>
      distillationLoss(tf.tensor2d(teacher), tf.oneHot(tf.tensor1d(labels, 'int32'), 3) as tf.Tensor2D, tf.tensor2d(teacher), { temperature: 3, alpha: 1 }).dataSync()[0],
    );
    expect(Math.abs(loss)).toBeLessThan(1e-5);
  });
});
