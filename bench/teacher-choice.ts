/**
 * `npm run bench:teacher-choice`: which architecture makes the most accurate
 * teacher per CPU-hour. Each candidate is trained with the teacher's own
 * options (`teacherTrainOptions`: cross-entropy, cosine, augmentation) on
 * one thread for the same CPU time — its images are its measured training
 * rate × the budget, so the cosine schedule ends when the time does — and
 * tested on the full test split. Candidates train side by side, one per
 * process (`--workers`), longest first; each row is appended to
 * `results/bench/teacher-choice.csv` as it finishes, and a run started again
 * skips the rows already there.
 *
 * usage: npm run bench:teacher-choice -- [--data fashion-mnist]
 *        [--candidates widest,mobilenetv3-small,mobilenetv2-x0.5]
 *        [--minutes 10,30] [--workers 2] [--summary-only]
 */
import { fork } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { packageRoot } from '../locations.js';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { planCost, planNetwork } from '../space/plan.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { onnxEvaluator } from '../train/onnx-evaluate.js';
import { TEACHER_ARCHITECTURES, type TeacherArchitecture } from '../train/teacher-types.js';
import { teacherArchitecture, teacherTrainOptions } from '../train/trained-teacher.js';

/** Images trained to measure a candidate's rate before its budget is fixed. */
const CALIBRATION_IMAGES = 5120;
const BATCH = 64;

interface Row {
  candidate: string;
  budget_minutes: number;
  params: number;
  macs: number;
  images: number;
  epochs: number;
  train_seconds: number;
  images_per_second: number;
  validation_accuracy: number;
  test_accuracy: number;
  cpu_model: string;
}

/** One candidate at one budget, in this process: calibrate, then train for the budget. */
async function trainOne(data: string, name: string, minutes: number, seed: number): Promise<Row> {
  await selectBackend();
  const dataset = loadDataset(data);
  const prepared = prepareData(dataset);
  const { genome, strides } = teacherArchitecture(name as TeacherArchitecture, SMALL_IMAGE_SPACE, dataset.train.height);
  const plan = planNetwork(genome, strides, { numClasses: prepared.numClasses, inputChannels: prepared.train.channels });
  const calibration = buildTfjsModel(plan, seed);
  // The rate over the last three quarters: the first steps compile kernels and
  // warm caches; counting them (beside the other process loading its data)
  // ended the first run's 30-minute budgets after 1,493–1,904 s.
  let warm: { images: number; at: number } | null = null;
  let last = { images: 0, at: 0 };
  await trainCandidate(calibration, prepared, null, {
    ...teacherTrainOptions({ images: CALIBRATION_IMAGES }, seed),
    evaluator: onnxEvaluator(plan),
    onProgress: ({ imagesSeen }) => {
      last = { images: imagesSeen, at: performance.now() };
      if (!warm && imagesSeen >= CALIBRATION_IMAGES / 4) warm = last;
    },
  });
  calibration.dispose();
  const rate = (last.images - warm!.images) / ((last.at - warm!.at) / 1000);
  const images = Math.max(BATCH, Math.round((rate * minutes * 60) / BATCH) * BATCH);
  const model = buildTfjsModel(plan, seed);
  const r = await trainCandidate(model, prepared, null, { ...teacherTrainOptions({ images }, seed), evaluator: onnxEvaluator(plan) });
  const cost = planCost(plan);
  model.dispose();
  return {
    candidate: name,
    budget_minutes: minutes,
    params: cost.params,
    macs: cost.macs,
    images,
    epochs: Number((images / prepared.train.count).toFixed(2)),
    train_seconds: Number(r.trainSeconds.toFixed(1)),
    images_per_second: Number(r.trainImagesPerSecond.toFixed(1)),
    validation_accuracy: r.validationAccuracy,
    test_accuracy: r.testAccuracy ?? 0,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
  };
}

const program: Command = new Command('bench-teacher-choice')
  .option('--data <name|path>', 'dataset', 'fashion-mnist')
  .option('--candidates <names>', `comma-separated: ${TEACHER_ARCHITECTURES.join(', ')}`, 'widest,mobilenetv3-small,mobilenetv2-x0.5')
  .option('--minutes <list>', 'CPU minutes of training per candidate, comma-separated budgets', '10,30')
  .option('--workers <n>', 'candidates trained at once, one process and one thread each', Number, 2)
  .option('--seed <n>', 'initialisation and shuffling seed', Number, 0)
  .option('--summary-only', 'print the table from the rows so far, training nothing')
  .option('--only <candidate:minutes>', '(internal) train one candidate and print its row')
  .parse();
const o = program.opts<{ data: string; candidates: string; minutes: string; workers: number; seed: number; summaryOnly?: boolean; only?: string }>();

if (o.only) {
  const [name, minutes] = o.only.split(':');
  const row = await trainOne(o.data, name, Number(minutes), o.seed);
  process.send?.(row);
  process.exit(0);
}

const out = join(packageRoot(), 'results', 'bench');
const csvPath = join(out, 'teacher-choice.csv');
mkdirSync(out, { recursive: true });
const readRows = (): Row[] => (existsSync(csvPath) ? (parse(readFileSync(csvPath), { columns: true, cast: true }) as Row[]) : []);

const candidates = o.candidates.split(',');
const budgets = o.minutes.split(',').map(Number);
if (budgets.some((m) => !(m > 0))) program.error(`--minutes: expected positive numbers, got '${o.minutes}'`);
const unknown = candidates.find((c) => !(TEACHER_ARCHITECTURES as readonly string[]).includes(c));
if (unknown) program.error(`--candidates: '${unknown}' is not one of ${TEACHER_ARCHITECTURES.join(', ')}`);

if (!o.summaryOnly) {
  const done = new Set(readRows().map((r) => `${r.candidate}:${r.budget_minutes}`));
  // Longest first, so the last job to start is a short one and no worker idles long at the end.
  const jobs = budgets.flatMap((m) => candidates.map((c) => `${c}:${m}`)).filter((j) => !done.has(j)).sort((a, b) => Number(b.split(':')[1]) - Number(a.split(':')[1]));
  const script = fileURLToPath(import.meta.url);
  const lane = async (): Promise<void> => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      const started = Date.now();
      console.error(`${job}: training`);
      const row = await new Promise<Row>((resolve, reject) => {
        const child = fork(script, ['--data', o.data, '--seed', String(o.seed), '--only', job], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        let result: Row | null = null;
        child.on('message', (m) => (result = m as Row));
        child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${job}: worker exited with ${code} before reporting`))));
      });
      appendFileSync(csvPath, stringify([row], { header: !existsSync(csvPath) }));
      console.error(`${job}: test ${(row.test_accuracy * 100).toFixed(2)}% after ${row.epochs} epochs (${row.train_seconds} s; ${((Date.now() - started) / 60000).toFixed(1)} min with calibration and evaluation)`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.workers) }, lane));
}

const rows = readRows().filter((r) => candidates.includes(r.candidate) && budgets.includes(r.budget_minutes));
console.log(`data: ${o.data}; CPU: ${rows[0]?.cpu_model ?? os.cpus()[0]?.model}; one thread per candidate, ${o.workers} side by side`);
console.log('| budget (CPU min) | candidate | params | MMACs | img/s | epochs | validation % | test % |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
for (const m of budgets) {
  for (const r of rows.filter((x) => x.budget_minutes === m).sort((a, b) => b.test_accuracy - a.test_accuracy)) {
    console.log(`| ${m} | ${r.candidate} | ${r.params} | ${(r.macs / 1e6).toFixed(2)} | ${r.images_per_second} | ${r.epochs} | ${(r.validation_accuracy * 100).toFixed(2)} | ${(r.test_accuracy * 100).toFixed(2)} |`);
  }
}
writeFileSync(join(out, 'teacher-choice.json'), JSON.stringify({ data: o.data, cpu: rows[0]?.cpu_model, rows }, null, 2) + '\n');
