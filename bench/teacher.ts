/**
 * `npm run bench:teacher [-- --onnx file.onnx] [--images N] [--threads N]`:
 * an ONNX teacher's logits through `nas teacher`'s path (adapt each batch of
 * 28×28 grey images to the model's input, run, collect) against onnxruntime
 * alone on the same, already adapted batches with the same session,
 * interleaved in one run. The default model is torchvision's ResNet-18 at
 * 224 px with random weights (the seeds' case), made in a temporary directory
 * by Debian's python3-torch; skipped with a note without it. Prints a table,
 * writes results/bench/teacher.{csv,json}.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import * as ort from 'onnxruntime-node';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { adaptBatch, planOnnxInput } from '../train/input-adapter.js';
import { onnxSplitLogits, teacherBatchSize, teacherSessionOptions } from '../train/onnx-teacher.js';
import { packageRoot } from '../locations.js';
import type { TensorSplit } from '../train/types.js';

const ROUNDS = 3;
const { values: args } = parseArgs({ options: { onnx: { type: 'string' }, images: { type: 'string', default: '48' }, threads: { type: 'string', default: '1' } } });
const images = Number(args.images);
const threads = Number(args.threads);

let path = args.onnx;
let tempDir: string | null = null;
if (!path) {
  tempDir = mkdtempSync(join(tmpdir(), 'bench-teacher-'));
  path = join(tempDir, 'resnet18.onnx');
  try {
    execFileSync('/usr/bin/python3', [join(packageRoot(), 'bench', 'fixtures', 'make_resnet18.py'), path, '10'], { stdio: 'pipe' });
  } catch (error) {
    console.error(`skipped: no --onnx given and ResNet-18 could not be made (apt-get install python3-torch python3-torchvision): ${(error as Error).message.split('\n')[0]}`);
    process.exit(0);
  }
}

const data = prepareData(loadDataset());
const split: TensorSplit = { ...data.test, count: images, images: data.test.images.subarray(0, images * 28 * 28), labels: data.test.labels.subarray(0, images) };
const session = await ort.InferenceSession.create(path, teacherSessionOptions(threads));
const meta = session.inputMetadata[0];
if (!meta?.isTensor) throw new Error(`${path}: first input is not a tensor`);
const plan = planOnnxInput(meta.shape, undefined, path);
const batchSize = teacherBatchSize(plan, split);
const h = plan.height ?? split.height;
const w = plan.width ?? split.width;
const dims = (n: number) => (plan.layout === 'NCHW' ? [n, plan.channels, h, w] : [n, h, w, plan.channels]);
// onnxruntime alone: the same batches, adapted once before timing.
const adapted: Float32Array[] = [];
for (let start = 0; start < images; start += batchSize) {
  adapted.push(adaptBatch(split, start, Math.min(batchSize, images - start), plan, data, 'imagenet'));
}
const ortAlone = async () => {
  for (const batch of adapted) await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', batch, dims(batch.length / (plan.channels * h * w))) });
};
const teacherPath = () => onnxSplitLogits(session, split, plan, data, 'imagenet', path);

let adaptMs = Infinity;
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let start = 0; start < images; start += batchSize) adaptBatch(split, start, Math.min(batchSize, images - start), plan, data, 'imagenet');
  adaptMs = Math.min(adaptMs, performance.now() - t0);
}
await ortAlone(); // warm-up
const times = { ortAlone: [] as number[], teacher: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  for (const [key, run] of [['ortAlone', ortAlone], ['teacher', teacherPath]] as const) {
    const t0 = performance.now();
    await run();
    times[key].push(performance.now() - t0);
  }
}
await session.release();
if (tempDir) rmSync(tempDir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratios = times.teacher.map((t, i) => t / times.ortAlone[i]);
const rows = [
  { path: 'onnxruntime alone (same batches, pre-adapted)', ms_per_image: median(times.ortAlone) / images, vs_onnxruntime: 1 },
  { path: 'nas teacher path (adapt + run + collect)', ms_per_image: median(times.teacher) / images, vs_onnxruntime: median(ratios) },
  { path: 'of which: adapting the batches', ms_per_image: adaptMs / images, vs_onnxruntime: adaptMs / median(times.ortAlone) },
];
console.log(`${args.onnx ?? 'ResNet-18 @224 (torchvision, random weights)'}: ${images} images of 28×28×1 → ${plan.layout} ${plan.channels}×${h}×${w}, batch ${batchSize}, ${threads} thread(s), median of ${ROUNDS} interleaved rounds`);
console.log('| path | ms / image | vs onnxruntime alone |');
console.log('|---|---:|---:|');
for (const r of rows) console.log(`| ${r.path} | ${r.ms_per_image.toFixed(1)} | ${r.vs_onnxruntime.toFixed(3)}× |`);
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'teacher.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'teacher.json'), JSON.stringify({ date: new Date().toISOString(), model: args.onnx ?? 'resnet18-224-random', images, batchSize, threads, times, ratios, rows }, null, 2));
console.error(`wrote ${join(out, 'teacher.csv')} and .json`);
