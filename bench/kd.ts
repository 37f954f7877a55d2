/**
 * `npm run bench:kd`: what distillation is worth. One student genome trained
 * twice with the same budget, seed and augmentation: with the teacher's
 * logits (α = 0.9, T = 4) and without (α = 0). Test accuracy of both.
 *
 * usage: node dist/bench/kd.js [DATA=fashion-mnist-sample] [EPOCHS=3] [TEACHER_EPOCHS=5]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { planNetwork } from '../space/plan.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { packageRoot } from '../locations.js';
import { teacherLogits } from '../train/teacher.js';
import { trainedTeacherSpec } from '../train/trained-teacher.js';

const [dataSpec = 'fashion-mnist-sample', epochs = '3', teacherEpochs = '5'] = process.argv.slice(2);
await selectBackend();
const dataset = loadDataset(dataSpec);
const data = prepareData(dataset);
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: data.numClasses, inputChannels: data.train.channels });
console.error(`teacher: ${teacherEpochs} epochs (cached after the first run)…`);
const teacher = await teacherLogits(data, trainedTeacherSpec(space, Number(teacherEpochs), dataset.train.height));
const student: Genome = {
  resolution: dataset.train.height,
  stemWidth: 8,
  headWidth: 128,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 16, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }] },
    { width: 48, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }] },
    { width: 64, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }] },
  ],
};
const plan = planNetwork(student, { stem: 1, stages: SMALL_IMAGE_SPACE.stages.map((s) => s.stride) }, space.data);
const rows = [];
for (const alpha of [0.9, 0]) {
  console.error(`student, alpha ${alpha}…`);
  const model = buildTfjsModel(plan, 1);
  const r = await trainCandidate(model, data, teacher, { budget: { epochs: Number(epochs) }, seed: 1, distillation: { alpha, temperature: 4 } });
  rows.push({ training: alpha ? 'distilled (α 0.9, T 4)' : 'plain (α 0)', params: model.countParams(), epochs: Number(epochs), validation_accuracy: r.validationAccuracy, test_accuracy: r.testAccuracy ?? 0 });
  model.dispose();
}
console.log(`data: ${dataset.name} (${data.train.count} training images); teacher test accuracy ${(teacher.testAccuracy * 100).toFixed(2)}% (${teacher.description})`);
console.log('| student training | params | epochs | validation | test |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.training} | ${r.params} | ${r.epochs} | ${(r.validation_accuracy * 100).toFixed(2)}% | ${(r.test_accuracy * 100).toFixed(2)}% |`);
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'kd.csv'), stringify(rows, { header: true }));
