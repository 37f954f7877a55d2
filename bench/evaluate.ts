/**
 * `npm run bench:evaluate`: logits over a 1,000-image split by tfjs predict
 * (the current backend, wasm here) and by onnxruntime on the model's export
 * (export and session creation included, as each evaluation pays them), for
 * the reference net and a search candidate, interleaved in one run. Prints a
 * table, writes results/bench/evaluate.{csv,json}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import seedrandom from 'seedrandom';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { planCost, planNetwork, type NetworkPlan } from '../space/plan.js';
import { MobileNetSpace } from '../space/space.js';
import { selectBackend } from '../train/backend.js';
import { predictLogits } from '../train/evaluate.js';
import { onnxLogits } from '../train/onnx-evaluate.js';
import { packageRoot } from '../locations.js';
import { REFERENCE_DATA, REFERENCE_GENOME, REFERENCE_STRIDES } from './reference-net.js';
import type { TensorSplit } from '../train/types.js';

const IMAGES = 1000;
const ROUNDS = 3;

function randomSplit(count: number, size: number, channels: number, seed: string): TensorSplit {
  const rng = seedrandom(seed);
  const images = Float32Array.from({ length: count * size * size * channels }, () => rng() * 2 - 1);
  return { images, labels: new Int32Array(count), count, height: size, width: size, channels };
}

interface Row {
  model: string;
  mmacs: number;
  path: string;
  images_per_second: number;
  vs_tfjs: number;
}

const backend = await selectBackend();
const candidateSpace = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const candidate = candidateSpace.sample(seedrandom('bench-evaluate'));
candidate.resolution = 28;
const models: { name: string; plan: NetworkPlan; split: TensorSplit }[] = [
  { name: 'reference net (32×32×3)', plan: planNetwork(REFERENCE_GENOME, REFERENCE_STRIDES, REFERENCE_DATA), split: randomSplit(IMAGES, 32, 3, 'ref') },
  { name: 'search candidate (28×28×1)', plan: candidateSpace.plan(candidate), split: randomSplit(IMAGES, 28, 1, 'cand') },
];

const rows: Row[] = [];
for (const { name, plan, split } of models) {
  const model = buildTfjsModel(plan, 1);
  const paths: Record<string, () => Promise<unknown>> = {
    [`tfjs predict (${backend.name})`]: async () => predictLogits(model, split),
    'onnxruntime, 1 thread': () => onnxLogits(plan, model, [split], { threads: 1 }),
    'onnxruntime, 2 threads': () => onnxLogits(plan, model, [split], { threads: 2 }),
  };
  const best = new Map<string, number>();
  for (const run of Object.values(paths)) await run(); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [path, run] of Object.entries(paths)) {
      const t0 = performance.now();
      await run();
      best.set(path, Math.min(best.get(path) ?? Infinity, performance.now() - t0));
    }
  }
  const tfjsMs = [...best.values()][0];
  for (const [path, ms] of best) {
    rows.push({ model: name, mmacs: planCost(plan).macs / 1e6, path, images_per_second: IMAGES / (ms / 1000), vs_tfjs: tfjsMs / ms });
  }
  model.dispose();
}

console.log(`logits over ${IMAGES} images, best of ${ROUNDS} interleaved rounds`);
console.log('| model | MMACs | path | img/s | vs tfjs |');
console.log('|---|---:|---|---:|---:|');
for (const r of rows) console.log(`| ${r.model} | ${r.mmacs.toFixed(2)} | ${r.path} | ${r.images_per_second.toFixed(0)} | ${r.vs_tfjs.toFixed(2)}× |`);
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'evaluate.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'evaluate.json'), JSON.stringify({ date: new Date().toISOString(), backend, images: IMAGES, rows }, null, 2));
console.error(`wrote ${join(out, 'evaluate.csv')} and .json`);
