/**
 * `npm run bench:train-threads [-- --threads 2] [--rounds N] [--images N]`:
 * training images/s of ONE model, the reference net (bench/reference-net.ts),
 * on one thread and data-parallel on `--threads` threads
 * (train/data-parallel.ts), alternated for N rounds in one run (best of
 * each), and their ratio. Each measurement is a whole `trainCandidate` run —
 * the loop `nas finalize` and the teacher use: batch 64 of seeded 32×32×3
 * data, SGD-momentum, augmentation, cosine schedule — over `--images` images;
 * images/s is the steady state: from the end of the first step to the end
 * of the last (the threads' start-up and first step are printed apart).
 * Beside wall-clock it records the process's CPU time per image (all its
 * threads): on a machine other jobs load, wall-clock ratios depend on the
 * scheduler, while the CPU-time ratio says how much extra work the threads
 * do, and one thread's CPU per image over the busiest thread's in the
 * N-thread run (the main thread: it also draws the batch and averages)
 * estimates the speed-up N threads reach with a core each.
 * Prints a table, writes results/bench/train-threads.{csv,json}.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import seedrandom from 'seedrandom';
import { packageRoot } from '../locations.js';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { planCost, planNetwork } from '../space/plan.js';
import { selectBackend } from '../train/backend.js';
import type { PreparedData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import type { SplitEvaluator, TensorSplit } from '../train/types.js';
import { REFERENCE_DATA, REFERENCE_GENOME, REFERENCE_STRIDES } from './reference-net.js';

const BATCH = 64;
const TRAIN_IMAGES = 2048;
/** Linux clock ticks per second (getconf CLK_TCK), the unit of /proc/<pid>/task/<tid>/stat. */
const CLOCK_TICKS = 100;

const { values: args } = parseArgs({
  options: { threads: { type: 'string', default: '2' }, rounds: { type: 'string', default: '2' }, images: { type: 'string', default: '640' } },
});
const threads = Number(args.threads);
const rounds = Math.max(1, Number(args.rounds));
const images = Math.max(2 * BATCH, Number(args.images));
if (!(Number.isInteger(threads) && threads >= 2)) throw new RangeError(`--threads must be an integer ≥ 2, got ${args.threads}`);

function split(count: number, rng: () => number): TensorSplit {
  const { numClasses } = REFERENCE_DATA;
  const images = Float32Array.from({ length: count * 32 * 32 * 3 }, () => rng() * 2 - 1);
  return { images, labels: Int32Array.from({ length: count }, () => Math.floor(rng() * numClasses)), count, height: 32, width: 32, channels: 3 };
}

const rng = seedrandom('bench:train-threads');
const train = split(TRAIN_IMAGES, rng);
const small = split(BATCH, rng);
const data: PreparedData = {
  name: 'synthetic-32x32x3',
  numClasses: REFERENCE_DATA.numClasses,
  classNames: Array.from({ length: REFERENCE_DATA.numClasses }, (_, i) => String(i)),
  normalisation: { mean: [0, 0, 0], std: [1, 1, 1] },
  train,
  validation: small,
  test: small,
  trainIndices: Int32Array.from({ length: TRAIN_IMAGES }, (_, i) => i),
  fingerprint: 'synthetic',
  fullTrain: () => train,
};
/** Evaluation is not what is measured: zero logits. */
const noEvaluation: SplitEvaluator = { name: 'none', logits: async (_, splits) => splits.map((s) => new Float32Array(s.count * REFERENCE_DATA.numClasses)) };
const plan = planNetwork(REFERENCE_GENOME, REFERENCE_STRIDES, REFERENCE_DATA);

interface Row {
  round: number;
  threads: number;
  imagesPerSecond: number;
  cpuMsPerImage: number;
  /** CPU time of the busiest thread per image (Linux): the step's critical path when each thread has a core. */
  busiestThreadMsPerImage: number;
  /** Wall-clock seconds before the steady state: model copy to the threads, their start-up, the first step. */
  startSeconds: number;
}

/** CPU seconds of each thread of this process (Linux: /proc/self/task; empty elsewhere). */
function threadCpuSeconds(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync('/proc/self/task')) return out;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in clock ticks (100 per s).
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

async function measure(round: number, t: number): Promise<Row> {
  const model = buildTfjsModel(plan, 1);
  const started = performance.now();
  type Mark = { wall: number; cpu: NodeJS.CpuUsage; threads: Map<string, number> };
  let from: Mark | null = null;
  let to: Mark | null = null;
  const options = { budget: { images }, batchSize: BATCH, seed: 1, evaluateTest: false, evaluator: noEvaluation, threads: t };
  await trainCandidate(model, data, null, {
    ...options,
    onProgress: (p) => {
      if (p.imagesSeen === BATCH) from = { wall: performance.now(), cpu: process.cpuUsage(), threads: threadCpuSeconds() };
      if (p.imagesSeen === p.imagesTotal) to = { wall: performance.now(), cpu: process.cpuUsage(), threads: threadCpuSeconds() };
    },
  });
  model.dispose();
  const [a, b] = [from!, to!] as Mark[];
  const steady = images - BATCH;
  const cpuMs = (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000;
  const busiest = Math.max(0, ...[...b.threads].map(([tid, seconds]) => seconds - (a.threads.get(tid) ?? 0)));
  return {
    round,
    threads: t,
    imagesPerSecond: steady / ((b.wall - a.wall) / 1000),
    cpuMsPerImage: cpuMs / steady,
    busiestThreadMsPerImage: (busiest * 1000) / steady,
    startSeconds: (a.wall - started) / 1000,
  };
}

const backend = await selectBackend('wasm');
const rows: Row[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const t of [1, threads]) {
    console.error(`round ${round} of ${rounds}: ${t} thread${t > 1 ? 's' : ''}, ${images} images…`);
    rows.push(await measure(round, t));
  }
}
const best = (t: number) => rows.filter((r) => r.threads === t).reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
const [one, many] = [best(1), best(threads)];
const ratio = many.imagesPerSecond / one.imagesPerSecond;
const cpuOf = (t: number) => Math.min(...rows.filter((r) => r.threads === t).map((r) => r.cpuMsPerImage));
const busiestOf = (t: number) => Math.min(...rows.filter((r) => r.threads === t).map((r) => r.busiestThreadMsPerImage));
// One thread's CPU per image over the busiest of N's: the speed-up with a core per thread, waiting for messages aside.
const ownCores = busiestOf(threads) > 0 ? cpuOf(1) / busiestOf(threads) : null;
const load = loadavg();
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const cost = planCost(plan);
console.log(`${cpu}, ${cpus().length} cores; reference net: ${cost.params} params, batch ${BATCH}, ${images} images per run, wasm (SIMD kernels ${backend.simdKernels}), best of ${rounds} alternated rounds; load average ${load.map((l) => l.toFixed(2)).join(' ')} at the end`);
console.log('| threads | train img/s (best) | all rounds | CPU ms per image, all threads (least) | busiest thread (least) | start-up + first step, s |');
console.log('|---:|---:|---|---:|---:|---:|');
for (const b of [one, many]) {
  const all = rows.filter((r) => r.threads === b.threads).map((r) => r.imagesPerSecond.toFixed(1)).join(', ');
  console.log(`| ${b.threads} | ${b.imagesPerSecond.toFixed(1)} | ${all} | ${cpuOf(b.threads).toFixed(2)} | ${busiestOf(b.threads).toFixed(2)} | ${b.startSeconds.toFixed(2)} |`);
}
console.log(`\n${threads} threads vs 1 on one model: ${ratio.toFixed(2)}×`);
console.log(
  `CPU per image, all threads: ${cpuOf(1).toFixed(2)} ms on 1 thread, ${cpuOf(threads).toFixed(2)} ms on ${threads} (${(cpuOf(threads) / cpuOf(1)).toFixed(2)}× the work)` +
    (ownCores === null ? '' : `; busiest of ${threads} threads ${busiestOf(threads).toFixed(2)} ms → with a core per thread about ${ownCores.toFixed(2)}× (one thread's CPU over the busiest thread's)`),
);

const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'train-threads.csv'), stringify(rows, { header: true }));
writeFileSync(
  join(out, 'train-threads.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, referenceNet: { ...cost, genome: REFERENCE_GENOME }, batch: BATCH, images, rounds, threads, loadAverage: load, cpu, rows, ratio, workRatio: cpuOf(threads) / cpuOf(1), ownCores }, null, 2),
);
console.error(`wrote ${join(out, 'train-threads.csv')} and .json`);
