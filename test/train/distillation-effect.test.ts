import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, type PreparedData } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import type { TeacherLogits } from '../../train/training-loop.js';

// What distillation is worth cannot be shown in a minute with a real teacher
// (on the bundled sample KD and plain training end within noise: see
// `npm run bench:kd`). What can be shown is that the KD term carries the
// teacher's knowledge: with the labels scrambled, a student trained on the
// teacher's logits alone (α = 1) still learns the real classes, and one
// trained on the labels alone (α = 0) cannot. The teacher is an oracle whose
// logits favour the true class, so no teacher has to be trained.
const STUDENT_FLOOR = 0.65;
const CHANCE_CEILING = 0.2;

const strides = { stem: 1, stages: [1, 2, 2, 2] };
const studentGenome: Genome = {
  resolution: 28,
  stemWidth: 8,
  headWidth: 128,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 16, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }] },
    { width: 48, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }] },
  ],
};

let data: PreparedData;
let scrambled: PreparedData;
let oracle: TeacherLogits;

beforeAll(async () => {
  await selectBackend('wasm');
  data = prepareData(loadDataset());
  const rng = seedrandom('scramble');
  scrambled = { ...data, train: { ...data.train, labels: Int32Array.from(data.train.labels, () => Math.floor(rng() * 10)) } };
  const full = data.fullTrain();
  const logits = new Float32Array(full.count * 10);
  full.labels.forEach((label, i) => (logits[i * 10 + label] = 4));
  oracle = { logits, classes: 10 };
});

const train = (alpha: number) =>
  trainCandidate(buildTfjsModel(planNetwork(studentGenome, strides, { numClasses: 10, inputChannels: 1 }), 1), scrambled, oracle, {
    budget: { epochs: 2 },
    seed: 1,
    distillation: { alpha, temperature: 4 },
  });

describe('the distillation term carries the teacher: labels scrambled, teacher logits right', () => {
  it(`α = 1 (teacher only) learns the real classes (test ≥ ${STUDENT_FLOOR}); α = 0 (labels only) stays near chance`, async () => {
    const distilled = await train(1);
    expect(distilled.testAccuracy).toBeGreaterThanOrEqual(STUDENT_FLOOR);
    expect(distilled.backend.name).toBe('wasm');
    expect(distilled.imagesSeen).toBe(2 * data.train.count);
    expect(distilled.lossCurve.at(-1)!).toBeLessThan(0.7 * distilled.lossCurve[0]);

    const plain = await train(0);
    expect(plain.testAccuracy).toBeLessThan(CHANCE_CEILING);
  });
});
