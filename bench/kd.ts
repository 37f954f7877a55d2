/**
 * `npm run bench:kd`: what distillation is worth at the final recipe. Two
 * students of different size, each trained with the teacher's logits
 * (α 0.9, T 4) and without (α 0), everything else equal — same recipe
 * (finalize/recipe.ts), budget, augmentation and seed — over several seeds;
 * test accuracy as mean ± sd and the paired gain (bench/kd-summary.ts).
 *
 * Every training is one task of finalize's own worker (`trainFinalModel`:
 * the path `nas finalize` trains its models on), `--workers` at once, each in
 * its own directory under results/bench/kd/<setting>/ with a checkpoint
 * after every epoch: the defaults take many hours on 2 cores, so a killed
 * run started again with the same flags loses at most one epoch per
 * training, and `--summary-only` prints the table from the trainings
 * finished so far.
 *
 * usage: npm run bench:kd -- [--data fashion-mnist] [--epochs 30] [--seeds 3]
 *        [--subset N] [--teacher-epochs 20] [--teacher-arch mobilenetv3-small]
 *        [--teacher-threads 2] [--students small,medium] [--workers N] [--summary-only]
 * e.g. `--data fashion-mnist-sample --epochs 3 --subset 2000 --teacher-epochs 2`
 * fits in minutes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Command } from 'commander';
import { positiveInt } from '../cli/errors.js';
import { stringify } from 'csv-stringify/sync';
import { trainingThreads } from '../train/training-pool.js';
import { DEFAULT_FINAL_EPOCHS, finalRecipe, recipeHash } from '../finalize/recipe.js';
import { readFinalRecord, type FinalTrainTask } from '../finalize/train-final.js';
import type { FinalizeEvent, FinalModel, FinalRecord } from '../finalize/types.js';
import { builtFile, packageRoot } from '../locations.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome, StageGene } from '../space/types.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { teacherLogits } from '../train/teacher.js';
import { formatDuration, teacherEpochLine, teacherProgressLines, teacherTrainingNote } from '../train/teacher-progress.js';
import { DEFAULT_TEACHER_ARCHITECTURE, DEFAULT_TEACHER_EPOCHS, DEFAULT_TEACHER_THREADS, TEACHER_ARCHITECTURES, type TeacherArchitecture } from '../train/teacher-types.js';
import { trainedTeacherSpec } from '../train/trained-teacher.js';
import { percentWithSd, summariseKd, type KdRow } from './kd-summary.js';

const stage = (width: number, expand: number, depth = 1): StageGene => ({
  width,
  activation: 'relu6',
  squeezeExcite: false,
  blocks: Array.from({ length: depth }, () => ({ kernel: 3, expand })),
});
/** Two students of the small space: about 40k and 260k parameters. */
const STUDENTS: Record<string, (resolution: number) => Genome> = {
  small: (resolution) => ({ resolution, stemWidth: 8, headWidth: 128, stages: [stage(8, 1), stage(16, 3), stage(24, 3), stage(48, 3), stage(64, 3)] }),
  medium: (resolution) => ({ resolution, stemWidth: 16, headWidth: 256, stages: [stage(16, 1), stage(24, 4, 2), stage(48, 4, 2), stage(96, 4, 2), stage(96, 4)] }),
};
const KD_ALPHA = 0.9;

const program = new Command('bench-kd');
const o = program
  .option('--data <name|path>', 'dataset', 'fashion-mnist')
  .option('--epochs <n>', "student epochs (the final recipe's)", positiveInt('--epochs'), DEFAULT_FINAL_EPOCHS)
  .option('--seeds <n>', 'seeds per student and setting', positiveInt('--seeds'), 3)
  .option('--subset <n>', 'train students on this many images', positiveInt('--subset'))
  .option('--teacher-epochs <n>', 'epochs of the teacher trained here (cached)', positiveInt('--teacher-epochs'), DEFAULT_TEACHER_EPOCHS)
  .option('--teacher-arch <name>', `architecture of the teacher: ${TEACHER_ARCHITECTURES.join(', ')}`, DEFAULT_TEACHER_ARCHITECTURE)
  .option('--teacher-threads <n>', 'threads training the teacher, data-parallel (part of its cache key)', positiveInt('--teacher-threads'), DEFAULT_TEACHER_THREADS)
  .option('--students <names>', `comma-separated: ${Object.keys(STUDENTS).join(', ')}`, 'small,medium')
  .option('--workers <n>', 'trainings at once, one thread each (default: one per core)', positiveInt('--workers'))
  .option('--summary-only', 'print the table from the trainings finished so far; train nothing')
  .parse()
  .opts<{ data: string; epochs: number; seeds: number; subset?: number; teacherEpochs: number; teacherArch: string; teacherThreads: number; students: string; workers?: number; summaryOnly?: boolean }>();

const studentNames = o.students.split(',');
for (const name of studentNames) {
  if (!STUDENTS[name]) program.error(`--students: '${name}' is not one of ${Object.keys(STUDENTS).join(', ')}`);
}
if (!(TEACHER_ARCHITECTURES as readonly string[]).includes(o.teacherArch)) program.error(`--teacher-arch: '${o.teacherArch}' is not one of ${TEACHER_ARCHITECTURES.join(', ')}`);

await selectBackend();
const dataset = loadDataset(o.data);
const full = prepareData(dataset);
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: full.numClasses, inputChannels: full.train.channels });
const spec = trainedTeacherSpec(space, o.teacherEpochs, dataset.train.height, 0, o.teacherThreads, o.teacherArch as TeacherArchitecture);
const teacher = await teacherLogits(full, spec, teacherProgressLines(spec, (l) => console.error(l)), (e) => console.error(teacherEpochLine(e)));
console.error(`teacher: ${teacher.description}; test ${(teacher.testAccuracy * 100).toFixed(2)}%${teacherTrainingNote(teacher)}${teacher.fromCache ? ' (cached)' : ''}`);

// One directory per setting, so that runs with other data, subset or teacher never mix (the recipe hash covers epochs, α and seed).
const setting = { data: o.data, fingerprint: full.fingerprint, subset: o.subset ?? null, teacherKey: teacher.key };
const settingDir = join(packageRoot(), 'results', 'bench', 'kd', createHash('sha256').update(JSON.stringify(setting)).digest('hex').slice(0, 12));
mkdirSync(settingDir, { recursive: true });
writeFileSync(join(settingDir, 'setting.json'), JSON.stringify(setting, null, 2) + '\n');

const strides = { stem: SMALL_IMAGE_SPACE.stemStride, stages: SMALL_IMAGE_SPACE.stages.map((s) => s.stride) };
const tasks: Array<FinalTrainTask & { student: string; alpha: number; seed: number }> = [];
for (const student of studentNames) {
  for (let seed = 1; seed <= o.seeds; seed++) {
    for (const alpha of [KD_ALPHA, 0]) {
      // The final recipe with a teacher; α = 0 changes nothing else (no label smoothing either side).
      const id = `${student}-seed${seed}-alpha${alpha}`;
      // A genome model is what finalize calls 'front': trained from its genome and strides.
      const model: FinalModel = { kind: 'front', id, name: id, genome: STUDENTS[student](dataset.train.height), strides };
      const recipe = finalRecipe({ epochs: o.epochs, teacher: true, alpha, seed });
      tasks.push({ model, data: { spec: o.data, validationFraction: 0.1, seed: 0, subset: o.subset }, teacherKey: teacher.key, recipe, outDir: join(settingDir, id), student, alpha, seed });
    }
  }
}

const records = new Map<string, Extract<FinalRecord, { state: 'trained' }>>();
for (const t of tasks) {
  const r = readFinalRecord(t.outDir);
  if (r?.state === 'trained' && r.recipeHash === recipeHash(t.recipe)) records.set(t.model.id, r);
}
const pending = tasks.filter((t) => !records.has(t.model.id));
console.error(`${tasks.length} trainings in ${settingDir}: ${records.size} done, ${pending.length} to train${o.summaryOnly ? ' (--summary-only: none trained now)' : ''}`);

if (!o.summaryOnly && pending.length) {
  const workers = Math.min(o.workers ?? availableParallelism(), pending.length);
  const pool = trainingThreads(builtFile(import.meta.url, '../finalize/finalize-worker.js'), workers, true); // in task order, the short trainings first
  let finished = 0;
  try {
    await Promise.all(
      pending.map(async (t) => {
        const { port1, port2 } = new MessageChannel();
        port1.on('message', (e: FinalizeEvent) => {
          if (e.type === 'start' && e.fromEpoch) console.error(`${e.name}: resuming after epoch ${e.fromEpoch}/${e.epochs}`);
          if (e.type === 'epoch') console.error(`${e.name}: epoch ${e.epoch}/${e.epochs} loss ${e.loss.toFixed(4)} validation ${(e.validationAccuracy * 100).toFixed(2)}% elapsed ${formatDuration(e.elapsedSeconds)} ETA ${formatDuration(e.etaSeconds)}`);
        });
        const { student: _s, alpha: _a, seed: _seed, ...task } = t;
        try {
          // piscina's TransferList type disagrees with @types/node's MessagePort; the value is what it expects.
          const transfer = { transferList: [port2] } as unknown as Parameters<typeof pool.run>[1];
          const r = (await pool.run({ ...task, port: port2 }, transfer)) as FinalRecord;
          finished++;
          if (r.state === 'trained') {
            records.set(t.model.id, r);
            console.error(`${r.name}: test ${(r.testAccuracy * 100).toFixed(2)}% (${formatDuration(r.trainSeconds)}) — ${finished}/${pending.length} of this session`);
          } else console.error(`${r.name}: FAILED: ${r.error}`);
        } catch (error) {
          finished++;
          console.error(`${t.model.id}: FAILED: ${(error as Error).message}`);
        } finally {
          port1.close();
        }
      }),
    );
  } finally {
    await pool.destroy();
  }
}

const rows = tasks
  .filter((t) => records.has(t.model.id))
  .map((t) => {
    const r = records.get(t.model.id)!;
    return { student: t.student, params: r.params, alpha: t.alpha, seed: t.seed, epochs: r.epochs, images: o.subset ?? full.train.count, testAccuracy: r.testAccuracy, validationAccuracy: r.validationAccuracy, trainSeconds: r.trainSeconds };
  });
const summary = summariseKd(rows satisfies KdRow[]);
console.log(`data: ${dataset.name}, ${o.subset ?? full.train.count} training images, ${o.epochs} epochs, seeds ${o.seeds}; teacher ${(teacher.testAccuracy * 100).toFixed(2)}% test (${teacher.description}${teacherTrainingNote(teacher)})`);
console.log('| student | params | seeds | KD (α 0.9) test % | plain (α 0) test % | KD gain, points (seed-paired) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const s of summary) {
  console.log(`| ${s.student} | ${s.params.toLocaleString('en-US')} | ${s.seeds.length} | ${percentWithSd(s.kdMean, s.kdSd)} | ${percentWithSd(s.plainMean, s.plainSd)} | ${percentWithSd(s.gainMean, s.gainSd, true)} |`);
}
const out = join(packageRoot(), 'results', 'bench');
writeFileSync(
  join(out, 'kd.csv'),
  stringify(
    rows.map((r) => ({ student: r.student, params: r.params, alpha: r.alpha, seed: r.seed, epochs: r.epochs, images: r.images, test_accuracy: r.testAccuracy, validation_accuracy: r.validationAccuracy, train_seconds: r.trainSeconds })),
    { header: true },
  ),
);
writeFileSync(
  join(out, 'kd.json'),
  JSON.stringify({ data: dataset.name, cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), images: o.subset ?? full.train.count, epochs: o.epochs, seeds: o.seeds, settingDir, teacher: { description: teacher.description, testAccuracy: teacher.testAccuracy, trainSeconds: teacher.trainSeconds, trainedOn: teacher.trainedOn, validationCurve: teacher.validationCurve }, summary }, null, 2) + '\n',
);
