/**
 * `npm run bench:train [-- --profile] [--backend wasm,cpu] [--rounds N]`:
 * training and inference images/s of the reference net
 * (train/reference-net.ts) on every tfjs backend that loads here, onnxruntime
 * inference on its export (the evaluation path), and — when Debian's
 * python3-torch is installed — the same network in PyTorch on one thread,
 * wasm and PyTorch alternated for N rounds (best of each) in one run.
 * Prints a table, writes results/bench/train-throughput.{csv,json}.
 *
 * Each backend: batch 64 of seeded 32×32×3 data, SGD-momentum steps through
 * the same code path the search uses (fused BN, our gradient kernels on
 * wasm); two warm-up steps, then steps until 10 are done or 60 s have passed.
 * Inference: predict() on 256 images, best of three.
 *
 * `--profile` adds a per-kernel profile of wasm training steps (forward,
 * backward, optimizer; see train-profile.ts) → results/bench/train-profile.{csv,json}.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { stringify } from 'csv-stringify/sync';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { planCost, planNetwork } from '../space/plan.js';
import { BACKENDS, selectBackend, type BackendName } from '../train/backend.js';
import { packageRoot } from '../locations.js';
import { OnnxSplitRunner } from '../train/onnx-evaluate.js';
import type { Genome, KernelSize } from '../space/types.js';
import { REFERENCE_DATA, REFERENCE_GENOME, REFERENCE_STRIDES } from './reference-net.js';
import { machineBounds, profileTrainingSteps } from './train-profile.js';
import { stemFilter, withoutImageGradient } from '../train/kernels/image-gradient.js';

const BATCH = 64;
const WARMUP_STEPS = 2;
const MAX_STEPS = 10;
const MAX_SECONDS = 60;
const PROFILE_STEPS = 3;

const { values: args } = parseArgs({
  options: { profile: { type: 'boolean', default: false }, backend: { type: 'string' }, rounds: { type: 'string', default: '2' }, kernel: { type: 'string', default: '3' } },
});
// Every depthwise kernel of the reference net at this size: 7×7 is the supernet's largest subnet and takes a kernel of ours (XNNPACK has none for it).
const kernelSize = Number(args.kernel) as KernelSize;
if (![3, 5, 7].includes(kernelSize)) throw new Error(`--kernel must be 3, 5 or 7, got '${args.kernel}'`);
const genome: Genome = { ...REFERENCE_GENOME, stages: REFERENCE_GENOME.stages.map((s) => ({ ...s, blocks: s.blocks.map((b) => ({ ...b, kernel: kernelSize })) })) };
const suffix = kernelSize === 3 ? '' : `-k${kernelSize}`;
const backends = (args.backend ? args.backend.split(',') : [...BACKENDS]) as BackendName[];
const rounds = Math.max(1, Number(args.rounds));
const plan = planNetwork(genome, REFERENCE_STRIDES, REFERENCE_DATA);

interface Row {
  backend: BackendName | 'pytorch' | 'onnxruntime';
  status: 'measured' | 'unavailable';
  detail: string;
  trainImagesPerSecond: number | null;
  trainSteps: number;
  inferImagesPerSecond: number | null;
}
type Measured = Pick<Row, 'trainImagesPerSecond' | 'trainSteps' | 'inferImagesPerSecond'>;

function measure(): Measured {
  const model = buildTfjsModel(plan, 1);
  const x = tf.randomNormal([BATCH, 32, 32, 3], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 2), 10);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = () => {
    const loss = withoutImageGradient(stemFilter(model), () => tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        vars,
      );
      optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
      return value;
    }));
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

/** onnxruntime (1 thread) on the net's export: logits of 256 images, best of three. */
async function measureOnnx(): Promise<number> {
  const model = buildTfjsModel(plan, 1);
  const runner = await OnnxSplitRunner.open(plan, model, { threads: 1 });
  const images = tf.tidy(() => tf.randomNormal([256, 32, 32, 3], 0, 1, 'float32', 3).dataSync() as Float32Array);
  const split = { images, labels: new Int32Array(256), count: 256, height: 32, width: 32, channels: 3 };
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    const s = performance.now();
    await runner.logits(split);
    if (r > 0) best = Math.min(best, performance.now() - s);
  }
  await runner.release();
  model.dispose();
  return 256 / (best / 1000);
}

/** The same network in PyTorch, one thread, or why not. */
function measureTorch(planPath: string): (Measured & { torch: string; params: number }) | { error: string } {
  try {
    const out = execFileSync('/usr/bin/python3', [join(packageRoot(), 'bench', 'train_torch.py'), planPath, String(BATCH), String(MAX_STEPS), String(MAX_SECONDS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch (error) {
    const message = (error as { stderr?: string }).stderr || (error as Error).message;
    return { error: /No module named 'torch'|ENOENT/.test(message) ? 'python3-torch is not installed (apt-get install python3-torch)' : message.split('\n').filter(Boolean).at(-1)! };
  }
}

const best = (a: Measured | null, b: Measured): Measured =>
  !a ? b : { trainImagesPerSecond: Math.max(a.trainImagesPerSecond!, b.trainImagesPerSecond!), trainSteps: a.trainSteps + b.trainSteps, inferImagesPerSecond: Math.max(a.inferImagesPerSecond!, b.inferImagesPerSecond!) };

const tempDir = mkdtempSync(join(tmpdir(), 'bench-train-'));
const planPath = join(tempDir, 'plan.json');
writeFileSync(planPath, JSON.stringify(plan));
const rows: Row[] = [];
let torchRow: Row | null = null;
let torchVersion = '';
for (const backend of backends) {
  try {
    const choice = await selectBackend(backend);
    const detail = choice.simdKernels ? `SIMD kernels ${choice.simdKernels}` : '';
    let measured: Measured | null = null;
    // wasm alternates with PyTorch so both see the same machine load.
    for (let r = 0; r < (backend === 'wasm' ? rounds : 1); r++) {
      console.error(`measuring ${backend}${backend === 'wasm' ? ` (round ${r + 1} of ${rounds})` : ''}…`);
      measured = best(measured, measure());
      if (backend !== 'wasm') continue;
      console.error('measuring pytorch…');
      const t = measureTorch(planPath);
      if ('error' in t) {
        torchRow = { backend: 'pytorch', status: 'unavailable', detail: t.error, trainImagesPerSecond: null, trainSteps: 0, inferImagesPerSecond: null };
        continue;
      }
      torchVersion = t.torch;
      const last = torchRow as Row | null;
      const prev = last?.status === 'measured' ? last : null;
      torchRow = { backend: 'pytorch', status: 'measured', detail: `torch ${t.torch}, 1 thread, ${t.params} params`, ...best(prev, t) };
    }
    rows.push({ backend, status: 'measured', detail, ...measured! });
    if (backend === 'wasm') {
      console.error('measuring onnxruntime inference…');
      rows.push({ backend: 'onnxruntime', status: 'measured', detail: 'evaluation path: inference only, 1 thread', trainImagesPerSecond: null, trainSteps: 0, inferImagesPerSecond: await measureOnnx() });
    }
  } catch (error) {
    rows.push({ backend, status: 'unavailable', detail: (error as Error).message, trainImagesPerSecond: null, trainSteps: 0, inferImagesPerSecond: null });
  }
}
if (torchRow) rows.push(torchRow);
else if (!backends.includes('wasm')) rows.push({ backend: 'pytorch', status: 'unavailable', detail: 'measured only alongside wasm', trainImagesPerSecond: null, trainSteps: 0, inferImagesPerSecond: null });
rmSync(tempDir, { recursive: true, force: true });

const cost = planCost(plan);
const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(1));
console.log(`reference net, ${kernelSize}×${kernelSize} depthwise: ${cost.params} params, ${(cost.macs / 1e6).toFixed(2)} MMACs/image, batch ${BATCH}; load average ${loadavg()[0].toFixed(1)} at the end`);
console.log('| backend | train img/s | infer img/s | steps | note |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.backend} | ${fmt(r.trainImagesPerSecond)} | ${fmt(r.inferImagesPerSecond)} | ${r.trainSteps} | ${r.status === 'measured' ? r.detail : r.detail.slice(0, 80)} |`);
const byName = (name: Row['backend']) => rows.find((r) => r.backend === name && r.status === 'measured');
const [wasm, ort, torch] = [byName('wasm'), byName('onnxruntime'), byName('pytorch')];
const ratios = wasm && torch ? {
  wasmTrainVsTorch: wasm.trainImagesPerSecond! / torch.trainImagesPerSecond!,
  wasmInferVsTorch: wasm.inferImagesPerSecond! / torch.inferImagesPerSecond!,
  onnxruntimeInferVsTorch: ort ? ort.inferImagesPerSecond! / torch.inferImagesPerSecond! : null,
} : null;
if (ratios) {
  console.log(`\nagainst PyTorch ${torchVersion} one thread, same run: wasm training ${ratios.wasmTrainVsTorch.toFixed(2)}×, wasm predict ${ratios.wasmInferVsTorch.toFixed(2)}×, onnxruntime evaluation ${ratios.onnxruntimeInferVsTorch?.toFixed(2)}×`);
} else {
  console.log(`\nPyTorch reference skipped: ${torchRow?.detail ?? 'wasm not measured'}`);
}

const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `train-throughput${suffix}.csv`), stringify(rows, { header: true }));
writeFileSync(
  join(out, `train-throughput${suffix}.json`),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, referenceNet: { ...cost, kernelSize, genome, strides: REFERENCE_STRIDES }, batch: BATCH, rounds, loadAverage: loadavg(), rows, ratios }, null, 2),
);
console.error(`wrote ${join(out, `train-throughput${suffix}.csv`)} and .json`);

if (args.profile) {
  await selectBackend('wasm');
  const bounds = machineBounds();
  const model = buildTfjsModel(plan, 1);
  const x = tf.randomNormal([BATCH, 32, 32, 3], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 2), 10);
  const optimizer = tf.train.momentum(0.01, 0.9);
  await profileTrainingSteps(model, x, y, optimizer, WARMUP_STEPS, bounds); // warm-up
  const profile = await profileTrainingSteps(model, x, y, optimizer, PROFILE_STEPS, bounds);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  console.log(`\nper-kernel profile, wasm, batch ${BATCH}, mean of ${PROFILE_STEPS} steps: ${profile.stepMs.toFixed(1)} ms per step (profiled)`);
  console.log(`CPU ${bounds.cpu} @ ${bounds.mhz.toFixed(0)} MHz; bounds for one core: compute ${bounds.peakGflops.toFixed(1)} GFLOP/s (wasm SIMD, 16 FLOP/cycle), copy bandwidth ${bounds.cacheGBs.toFixed(1)} GB/s from cache, ${bounds.memoryGBs.toFixed(1)} GB/s from memory (measured)`);
  console.log('| phase | kernel | calls/step | ms/step | share | GFLOP/s | GB/s | bound | of bound |');
  console.log('|---|---|---:|---:|---:|---:|---:|---|---:|');
  for (const r of profile.rows) {
    console.log(`| ${r.phase} | ${r.kernel}${r.own ? ' (ours)' : ''} | ${r.callsPerStep.toFixed(0)} | ${r.msPerStep.toFixed(2)} | ${(r.share * 100).toFixed(1)}% | ${r.gflops === null ? '—' : r.gflops.toFixed(1)} | ${r.gbs === null ? '—' : r.gbs.toFixed(1)} | ${r.bound} | ${r.ofBound === null ? '—' : `${(r.ofBound * 100).toFixed(0)}%`} |`);
  }
  console.log(`| — | outside kernels (tape, tidy, disposal, JS) | — | ${profile.outsideKernelsMs.toFixed(2)} | ${((profile.outsideKernelsMs / profile.stepMs) * 100).toFixed(1)}% | — | — | — | — |`);
  writeFileSync(join(out, `train-profile${suffix}.csv`), stringify(profile.rows, { header: true }));
  writeFileSync(join(out, `train-profile${suffix}.json`), JSON.stringify({ date: new Date().toISOString(), bounds, batch: BATCH, ...profile }, null, 2));
  console.error(`wrote ${join(out, `train-profile${suffix}.csv`)} and .json`);
}
