import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import { teacherLogits } from '../../train/teacher.js';

// Stated floors on the bundled sample (5,000 training images, 1,000 test):
// a teacher trained here for 3 epochs, then a 19k-parameter student distilled
// from it for 3 epochs. Measured on this machine: teacher ≈ 0.82, student ≈ 0.76.
const TEACHER_FLOOR = 0.75;
const STUDENT_FLOOR = 0.7;

const strides = { stem: 1, stages: [1, 2, 2, 2] };
const block = (kernel: 3 | 5, expand: number) => ({ kernel, expand });
const teacherGenome: Genome = {
  resolution: 28,
  stemWidth: 24,
  headWidth: 256,
  stages: [
    { width: 16, activation: 'relu6', squeezeExcite: false, blocks: [block(3, 1)] },
    { width: 32, activation: 'relu6', squeezeExcite: false, blocks: [block(3, 4), block(3, 4)] },
    { width: 48, activation: 'hswish', squeezeExcite: true, blocks: [block(5, 4), block(5, 4)] },
    { width: 96, activation: 'hswish', squeezeExcite: true, blocks: [block(3, 4)] },
  ],
};
const studentGenome: Genome = {
  resolution: 28,
  stemWidth: 8,
  headWidth: 128,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [block(3, 1)] },
    { width: 16, activation: 'relu6', squeezeExcite: false, blocks: [block(3, 3)] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [block(3, 3)] },
    { width: 48, activation: 'relu6', squeezeExcite: false, blocks: [block(3, 3)] },
  ],
};

beforeAll(async () => {
  process.env.NAS_CACHE_DIR = mkdtempSync(join(tmpdir(), 'kd-cache-'));
  await selectBackend('wasm');
});

describe('knowledge distillation on the bundled Fashion-MNIST sample', () => {
  it(`teacher ≥ ${TEACHER_FLOOR}, distilled student ≥ ${STUDENT_FLOOR} test accuracy`, async () => {
    const data = prepareData(loadDataset());
    const teacher = await teacherLogits(data, { kind: 'trained', genome: teacherGenome, strides, epochs: 3, seed: 0 });
    expect(teacher.testAccuracy).toBeGreaterThanOrEqual(TEACHER_FLOOR);

    const plan = planNetwork(studentGenome, strides, { numClasses: 10, inputChannels: 1 });
    const result = await trainCandidate(buildTfjsModel(plan, 1), data, teacher, { budget: { epochs: 3 }, seed: 1 });
    expect(result.testAccuracy).toBeGreaterThanOrEqual(STUDENT_FLOOR);
    expect(result.validationAccuracy).toBeGreaterThanOrEqual(STUDENT_FLOOR - 0.05);
    expect(result.backend.name).toBe('wasm');
    expect(result.imagesSeen).toBe(3 * data.train.count);
    // The loss falls: last tenth well under the first.
    expect(result.lossCurve.at(-1)!).toBeLessThan(0.7 * result.lossCurve[0]);
  });
});
