/**
 * `npm run bench:kd`: what distillation is worth at the final recipe. Two
 * students of different size, each trained with the teacher's logits
 * (α 0.9, T 4) and without (α 0), everything else equal — same recipe
 * (finalize/recipe.ts), budget, augmentation and seed — over several seeds;
 * test accuracy as mean ± sd and the paired gain.
 *
 * usage: npm run bench:kd -- [--data fashion-mnist] [--epochs 30] [--seeds 3]
 *        [--subset N] [--teacher-epochs 10] [--teacher-arch widest] [--teacher-threads 1]
 *        [--students small,medium]
 * The defaults are the full measurement (hours on 2 cores); e.g.
 * `--data fashion-mnist-sample --epochs 3 --subset 2000` fits in minutes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { DEFAULT_FINAL_EPOCHS, finalRecipe, recipeTrainOptions } from '../finalize/recipe.js';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome, StageGene } from '../space/types.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { packageRoot } from '../locations.js';
import { teacherLogits } from '../train/teacher.js';
import { teacherProgressLines, teacherTrainingNote } from '../train/teacher-progress.js';
import { DEFAULT_TEACHER_ARCHITECTURE, TEACHER_ARCHITECTURES, type TeacherArchitecture } from '../train/teacher-types.js';
import { trainedTeacherSpec } from '../train/trained-teacher.js';

const stage = (width: number, expand: number, depth = 1): StageGene => ({
  width,
  activation: 'relu6',
  squeezeExcite: false,
  blocks: Array.from({ length: depth }, () => ({ kernel: 3, expand })),
});
/** Two students of the small space: about 40k and 200k parameters. */
const STUDENTS: Record<string, (resolution: number) => Genome> = {
  small: (resolution) => ({ resolution, stemWidth: 8, headWidth: 128, stages: [stage(8, 1), stage(16, 3), stage(24, 3), stage(48, 3), stage(64, 3)] }),
  medium: (resolution) => ({ resolution, stemWidth: 16, headWidth: 256, stages: [stage(16, 1), stage(24, 4, 2), stage(48, 4, 2), stage(96, 4, 2), stage(96, 4)] }),
};

const o = new Command('bench-kd')
  .option('--data <name|path>', 'dataset', 'fashion-mnist')
  .option('--epochs <n>', 'student epochs (the final recipe\'s)', Number, DEFAULT_FINAL_EPOCHS)
  .option('--seeds <n>', 'seeds per student and setting', Number, 3)
  .option('--subset <n>', 'train students on this many images', Number)
  .option('--teacher-epochs <n>', 'epochs of the teacher trained here (cached)', Number, 10)
  .option('--teacher-arch <name>', `architecture of the teacher: ${TEACHER_ARCHITECTURES.join(', ')}`, DEFAULT_TEACHER_ARCHITECTURE)
  .option('--teacher-threads <n>', 'threads training the teacher, data-parallel (part of its cache key)', Number, 1)
  .option('--students <names>', `comma-separated: ${Object.keys(STUDENTS).join(', ')}`, 'small,medium')
  .parse()
  .opts<{ data: string; epochs: number; seeds: number; subset?: number; teacherEpochs: number; teacherArch: string; teacherThreads: number; students: string }>();

await selectBackend();
const dataset = loadDataset(o.data);
const full = prepareData(dataset);
const data = o.subset ? withTrainingSubset(full, o.subset, 0) : full;
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: data.numClasses, inputChannels: data.train.channels });
const spec = trainedTeacherSpec(space, o.teacherEpochs, dataset.train.height, 0, o.teacherThreads, o.teacherArch as TeacherArchitecture);
const teacher = await teacherLogits(full, spec, teacherProgressLines(spec, (l) => console.error(l)));
console.error(`teacher: ${teacher.description}; test ${(teacher.testAccuracy * 100).toFixed(2)}%${teacherTrainingNote(teacher)}${teacher.fromCache ? ' (cached)' : ''}`);

const rows: Array<{ student: string; params: number; alpha: number; seed: number; epochs: number; images: number; test_accuracy: number; validation_accuracy: number; train_seconds: number }> = [];
for (const name of o.students.split(',')) {
  const genome = STUDENTS[name]?.(dataset.train.height);
  if (!genome) throw new Error(`--students: '${name}' is not one of ${Object.keys(STUDENTS).join(', ')}`);
  for (let seed = 1; seed <= o.seeds; seed++) {
    for (const alpha of [0.9, 0]) {
      // The final recipe with a teacher; α = 0 changes nothing else (no label smoothing either side).
      const recipe = finalRecipe({ epochs: o.epochs, teacher: true, seed });
      recipe.distillation.alpha = alpha;
      const model = buildTfjsModel(space.plan(genome), seed);
      const r = await trainCandidate(model, data, teacher, recipeTrainOptions(recipe));
      rows.push({ student: name, params: model.countParams(), alpha, seed, epochs: o.epochs, images: data.train.count, test_accuracy: r.testAccuracy ?? 0, validation_accuracy: r.validationAccuracy, train_seconds: r.trainSeconds });
      console.error(`${name} seed ${seed} α ${alpha}: test ${((r.testAccuracy ?? 0) * 100).toFixed(2)}% (${r.trainSeconds.toFixed(0)} s)`);
      model.dispose();
    }
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const fmt = (xs: number[]) => `${(mean(xs) * 100).toFixed(2)} ± ${(sd(xs) * 100).toFixed(2)}`;
console.log(`data: ${dataset.name}, ${data.train.count} training images, ${o.epochs} epochs, ${o.seeds} seeds; teacher ${(teacher.testAccuracy * 100).toFixed(2)}% test (${teacher.description})`);
console.log('| student | params | KD (α 0.9) test % | plain (α 0) test % | KD gain, points (paired) |');
console.log('|---|---:|---:|---:|---:|');
const summary = [];
for (const name of o.students.split(',')) {
  const of = (alpha: number) => rows.filter((r) => r.student === name && r.alpha === alpha).sort((a, b) => a.seed - b.seed).map((r) => r.test_accuracy);
  const kd = of(0.9);
  const plain = of(0);
  const gain = kd.map((v, i) => v - plain[i]);
  const params = rows.find((r) => r.student === name)!.params;
  console.log(`| ${name} | ${params} | ${fmt(kd)} | ${fmt(plain)} | ${gain.map((g) => g * 100).reduce((a, b) => a + b, 0) / gain.length >= 0 ? '+' : ''}${fmt(gain)} |`);
  summary.push({ student: name, params, kd_mean: mean(kd), kd_sd: sd(kd), plain_mean: mean(plain), plain_sd: sd(plain), gain_mean: mean(gain), gain_sd: sd(gain) });
}
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'kd.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'kd.json'), JSON.stringify({ data: dataset.name, images: data.train.count, epochs: o.epochs, seeds: o.seeds, teacher: { description: teacher.description, testAccuracy: teacher.testAccuracy, trainSeconds: teacher.trainSeconds, trainedOn: teacher.trainedOn }, summary }, null, 2) + '\n');
