/**
 * `npm run bench:predictor`: how well the per-part latency table predicts
 * whole networks. Samples genomes of the small space (seeded), measures each
 * whole ONNX model with the harness, fills the table for their parts, and
 * reports mean absolute percentage error and the share within ±10%.
 *
 * usage: node dist/bench/predictor.js [GENOMES=30]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { stringify } from 'csv-stringify/sync';
import { buildOnnxModel } from '../space/build-onnx.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { randomWeights } from '../space/random-weights.js';
import { MobileNetSpace } from '../space/space.js';
import { packageRoot } from '../locations.js';
import { LatencyPool } from '../benchmarks/pool.js';
import { LatencyPredictor } from '../benchmarks/predictor.js';

const count = Number(process.argv[2] ?? 30);
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const rng = seedrandom('bench-predictor');
const genomes = Array.from({ length: count }, () => space.sample(rng));
const pool = new LatencyPool();
const predictor = new LatencyPredictor();
const started = performance.now();
const entries = await predictor.measureMissing(genomes.map((g) => space.plan(g)), pool, undefined, (done, total) => {
  if (done % 20 === 0 || done === total) console.error(`table: ${done}/${total} parts`);
});
const tableSeconds = (performance.now() - started) / 1000;

const rows = [];
for (const [i, genome] of genomes.entries()) {
  const plan = space.plan(genome);
  const m = await pool.measure(buildOnnxModel(plan, randomWeights(plan)), space.id(genome));
  if (m.state === 'errored') throw new Error(m.error.message);
  const predicted = predictor.predict(plan)!;
  rows.push({
    id: space.id(genome),
    macs: space.cost(genome).macs,
    measured_p50_ms: m.stats.p50,
    predicted_ms: predicted,
    error_pct: (100 * (predicted - m.stats.p50)) / m.stats.p50,
  });
  if ((i + 1) % 10 === 0) console.error(`measured ${i + 1}/${count} networks`);
}
await pool.close();

const abs = rows.map((r) => Math.abs(r.error_pct));
const mape = abs.reduce((a, b) => a + b, 0) / abs.length;
const within10 = abs.filter((e) => e <= 10).length / abs.length;
// Rank agreement: what a search needs most is the right order.
let concordant = 0;
let pairs = 0;
for (let i = 0; i < rows.length; i++) {
  for (let j = i + 1; j < rows.length; j++) {
    pairs++;
    if (Math.sign(rows[i].measured_p50_ms - rows[j].measured_p50_ms) === Math.sign(rows[i].predicted_ms - rows[j].predicted_ms)) concordant++;
  }
}
console.log(`| genomes | table parts | table build s | MAPE | within ±10% | pairwise order agreement |`);
console.log(`|---:|---:|---:|---:|---:|---:|`);
console.log(`| ${count} | ${entries} | ${tableSeconds.toFixed(0)} | ${mape.toFixed(1)}% | ${(100 * within10).toFixed(0)}% | ${((100 * concordant) / pairs).toFixed(0)}% |`);
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'predictor.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'predictor.json'), JSON.stringify({ date: new Date().toISOString(), count, entries, mape, within10, rows }, null, 2));
console.error(`wrote ${join(out, 'predictor.csv')} and .json`);
