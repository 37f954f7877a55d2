/**
 * `npm run bench:train`: training and inference images/s of the reference
 * net (train/reference-net.ts) on every tfjs backend that loads here,
 * measured in one run. Prints a table, writes results/bench/train-throughput.{csv,json}.
 *
 * Each backend: batch 64 of seeded 32×32×3 data, SGD-momentum steps through
 * the same code path the search uses (fused BN, our gradient kernels on
 * wasm); two warm-up steps, then steps until 10 are done or 60 s have passed.
 * Inference: predict() on 256 images, best of three.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { stringify } from 'csv-stringify/sync';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { planCost, planNetwork } from '../space/plan.js';
import { BACKENDS, selectBackend, type BackendName } from '../train/backend.js';
import { packageRoot } from '../locations.js';
import { REFERENCE_DATA, REFERENCE_GENOME, REFERENCE_STRIDES } from './reference-net.js';

const BATCH = 64;
const WARMUP_STEPS = 2;
const MAX_STEPS = 10;
const MAX_SECONDS = 60;

interface Row {
  backend: BackendName;
  status: 'measured' | 'unavailable';
  detail: string;
  trainImagesPerSecond: number | null;
  trainSteps: number;
  inferImagesPerSecond: number | null;
}

function measure(): Pick<Row, 'trainImagesPerSecond' | 'trainSteps' | 'inferImagesPerSecond'> {
  const plan = planNetwork(REFERENCE_GENOME, REFERENCE_STRIDES, REFERENCE_DATA);
  const model = buildTfjsModel(plan, 1);
  const x = tf.randomNormal([BATCH, 32, 32, 3], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 2), 10);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        vars,
      );
      optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
      return value;
    });
    loss.dataSync();
    loss.dispose();
  };
  for (let i = 0; i < WARMUP_STEPS; i++) step();
  let steps = 0;
  const t0 = performance.now();
  while (steps < MAX_STEPS && (performance.now() - t0) / 1000 < MAX_SECONDS) {
    step();
    steps++;
  }
  const trainImagesPerSecond = (steps * BATCH) / ((performance.now() - t0) / 1000);
  const batch = tf.randomNormal([256, 32, 32, 3], 0, 1, 'float32', 3);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const s = performance.now();
    const out = model.predict(batch) as tf.Tensor;
    out.dataSync();
    out.dispose();
    best = Math.min(best, performance.now() - s);
  }
  tf.dispose([x, y, batch]);
  optimizer.dispose();
  model.dispose();
  return { trainImagesPerSecond, trainSteps: steps, inferImagesPerSecond: 256 / (best / 1000) };
}

const rows: Row[] = [];
for (const backend of BACKENDS) {
  try {
    const choice = await selectBackend(backend);
    console.error(`measuring ${backend}…`);
    const detail = choice.simdKernels ? `SIMD kernels ${choice.simdKernels}` : '';
    rows.push({ backend, status: 'measured', detail, ...measure() });
  } catch (error) {
    rows.push({ backend, status: 'unavailable', detail: (error as Error).message, trainImagesPerSecond: null, trainSteps: 0, inferImagesPerSecond: null });
  }
}

const cost = planCost(planNetwork(REFERENCE_GENOME, REFERENCE_STRIDES, REFERENCE_DATA));
const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(1));
console.log(`reference net: ${cost.params} params, ${(cost.macs / 1e6).toFixed(2)} MMACs/image, batch ${BATCH}`);
console.log('| backend | train img/s | infer img/s | steps | note |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.backend} | ${fmt(r.trainImagesPerSecond)} | ${fmt(r.inferImagesPerSecond)} | ${r.trainSteps} | ${r.status === 'measured' ? r.detail : r.detail.slice(0, 80)} |`);

const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'train-throughput.csv'), stringify(rows, { header: true }));
writeFileSync(
  join(out, 'train-throughput.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, referenceNet: { ...cost, genome: REFERENCE_GENOME, strides: REFERENCE_STRIDES }, batch: BATCH, rows }, null, 2),
);
console.error(`wrote ${join(out, 'train-throughput.csv')} and .json`);
