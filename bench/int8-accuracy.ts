/**
 * `npm run bench:int8-accuracy`: what INT8 costs in accuracy for the
 * project's own models, on full Fashion-MNIST (the Debian package
 * dataset-fashion-mnist). Candidates of the `small` space (seeded sample,
 * spread over MACs) are trained through the search's own training job for
 * EPOCHS epochs of the full training split (no teacher), exported to ONNX,
 * and every INT8 variant `nas quantize` builds is evaluated on the 10,000
 * test images against its fp32 model. Accuracy only: no latency is measured,
 * so the machine's load does not matter.
 *
 * usage: node dist/bench/int8-accuracy.js [--models 3] [--epochs 1] [--calibration 256]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import seedrandom from 'seedrandom';
import { adaptedBatches, modelInput } from '../compress/calibration-data.js';
import { INT8_VARIANTS } from '../benchmarks/int8-variants.js';
import { onnxAccuracy } from '../compress/onnx-eval.js';
import { quantizeModel } from '../onnx/quantize.js';
import { packageRoot } from '../locations.js';
import { resolveSearchConfig } from '../search/config.js';
import { trainingJobFor } from '../search/evaluators.js';
import { NAMED_SPACES } from '../space/defaults.js';
import { ONNX_FILE } from '../space/candidate-files.js';
import { MobileNetSpace } from '../space/space.js';
import { isIdxDirectory } from '../train/datasets/idx.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { DEBIAN_FASHION_MNIST_DIR } from '../train/paths.js';
import { datasetContentHash, runTrainingJob } from '../train/training-job.js';

const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const MODELS = option('models', 3);
const EPOCHS = option('epochs', 1);
const CALIBRATION = option('calibration', 256);

if (!isIdxDirectory(DEBIAN_FASHION_MNIST_DIR)) {
  console.error(`full Fashion-MNIST is not installed (${DEBIAN_FASHION_MNIST_DIR}): apt-get install dataset-fashion-mnist`);
  process.exit(1);
}
const dataset = loadDataset('fashion-mnist');
const config = resolveSearchConfig({ data: 'fashion-mnist', seed: 1, training: { epochs: EPOCHS } });
const data = prepareData(dataset, { validationFraction: config.validationFraction, seed: config.seed });
const space = new MobileNetSpace(NAMED_SPACES.small, { numClasses: 10, inputChannels: 1 });
const context = { space, config, teacherKey: null, dataContentHash: datasetContentHash(dataset) };

// Spread over MACs: sample many, sort, take evenly spaced ones.
const rng = seedrandom('int8-accuracy');
const pool = Array.from({ length: 200 }, () => space.sample(rng)).sort((a, b) => space.cost(a).macs - space.cost(b).macs);
const genomes = Array.from({ length: MODELS }, (_, i) => pool[Math.round(((i + 0.5) * pool.length) / MODELS)]);

const rows: Array<Record<string, string | number>> = [];
for (const genome of genomes) {
  const id = space.id(genome);
  const { params, macs } = space.cost(genome);
  console.error(`${id}: ${params} params, ${(macs / 1e6).toFixed(1)} MMACs — training ${EPOCHS} epoch(s) on ${data.train.count} images…`);
  const trained = await runTrainingJob({ job: trainingJobFor(context, genome, id), dataSpec: 'fashion-mnist' });
  const fp32 = trained.files[ONNX_FILE];
  const input = modelInput(fp32, `${id}.onnx`);
  const batches = await adaptedBatches(data.train, CALIBRATION, input.plan, data, 'standardised');
  const accuracy = async (model: Uint8Array) => {
    const r = await onnxAccuracy(model, data.test, input.plan, data, 'standardised');
    if (r.state !== 'measured') throw new Error(`${id}: accuracy skipped: ${r.reason}`);
    return r.accuracy;
  };
  const base = await accuracy(fp32);
  for (const method of ['minmax', 'percentile'] as const) {
    for (const spec of INT8_VARIANTS) {
      const { bytes, report } = await quantizeModel(fp32, id, batches, { method, ...spec.options });
      if (report.weights === 0) continue;
      const int8 = await accuracy(bytes);
      rows.push({
        id,
        params,
        mmacs: Number((macs / 1e6).toFixed(2)),
        method,
        variant: spec.name,
        fp32_test_accuracy: Number((100 * base).toFixed(2)),
        int8_test_accuracy: Number((100 * int8).toFixed(2)),
        drop_points: Number((100 * (base - int8)).toFixed(2)),
      });
      console.error(`  ${method} ${spec.name}: ${(100 * base).toFixed(2)}% → ${(100 * int8).toFixed(2)}%`);
    }
  }
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`\nINT8 accuracy on Fashion-MNIST test (10,000 images), ${MODELS} candidates trained ${EPOCHS} epoch(s), ${CALIBRATION} calibration images; ${cpu}`);
console.log('| model | params | MMACs | calibration | variant | fp32 % | INT8 % | drop (points) |');
console.log('|---|---:|---:|---|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.id} | ${r.params} | ${r.mmacs} | ${r.method} | ${r.variant} | ${r.fp32_test_accuracy} | ${r.int8_test_accuracy} | ${r.drop_points} |`);
const worst = Math.max(...rows.filter((r) => r.method === 'minmax').map((r) => r.drop_points as number));
console.log(`largest drop with the default calibration (minmax): ${worst.toFixed(2)} points (target ≤ 0.5)`);
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'int8-accuracy.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'int8-accuracy.json'), JSON.stringify({ date: new Date().toISOString(), cpu, models: MODELS, epochs: EPOCHS, calibration: CALIBRATION, worstMinmaxDrop: worst, rows }, null, 2) + '\n');
console.error(`wrote ${join(out, 'int8-accuracy.csv')} and int8-accuracy.json`);
