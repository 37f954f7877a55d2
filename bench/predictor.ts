/**
 * `npm run bench:predictor`: how well the calibrated latency predictor
 * (benchmarks/predictor-build.ts) predicts whole networks it was not fitted
 * on. Per space and precision: build a predictor (timed), then measure
 * held-out genomes sampled with another seed and report the share within
 * ±10%, MAPE, Kendall's τ, interval coverage, and, as a baseline, a
 * scale + offset fit on MACs from the same calibration measurements.
 *
 * usage: node dist/bench/predictor.js [--held-out 50] [--genomes 30]
 *          [--spaces small,mobilenet-224] [--precisions fp32,int8]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { stringify } from 'csv-stringify/sync';
import { fitScaleOffset, kendallTau, meanAbsolutePercentError, shareWithin } from '../benchmarks/calibration.js';
import { LatencyPool } from '../benchmarks/pool.js';
import { buildPredictor, candidateModelBytes, CALIBRATION_MEASURE_OPTIONS, localTarget } from '../benchmarks/predictor-build.js';
import { predictInterval, type PredictorPrecision } from '../benchmarks/predictor-file.js';
import { PREDICTOR_DATA_SHAPES } from '../benchmarks/predictor-spaces.js';
import { NAMED_SPACES, type SpaceName } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { packageRoot } from '../locations.js';

const { values } = parseArgs({
  options: {
    'held-out': { type: 'string', default: '50' },
    genomes: { type: 'string', default: '30' },
    spaces: { type: 'string', default: 'small,mobilenet-224' },
    precisions: { type: 'string', default: 'fp32,int8' },
  },
});
const heldOut = Number(values['held-out']);
const calibrationGenomes = Number(values.genomes);
const spaces = values.spaces.split(',') as SpaceName[];
const precisions = values.precisions.split(',') as PredictorPrecision[];

const pool = new LatencyPool();
const target = localTarget(pool);
const rows = [];
const table = [];
const loadBefore = os.loadavg()[0];
for (const spaceName of spaces) {
  const space = new MobileNetSpace(NAMED_SPACES[spaceName], PREDICTOR_DATA_SHAPES[spaceName]);
  for (const precision of precisions) {
    const label = `${spaceName}/${precision}`;
    const file = await buildPredictor(space, target, {
      precision,
      genomes: calibrationGenomes,
      spaceLabel: spaceName,
      budgetSeconds: 3600,
      onProgress: (done, total) => done % 10 === 0 && console.error(`${label}: calibration ${done}/${total}`),
    });
    // Baseline: scale + offset on MACs alone, fitted on the same calibration measurements.
    const baseline = fitScaleOffset(file.calibration.genomes.map((g) => g.macs), file.calibration.genomes.map((g) => g.measuredP50));
    const calibrated = new Set(file.calibration.genomes.map((g) => g.id));
    const rng = seedrandom(`bench-predictor-held-out:${spaceName}`);
    const held = new Map<string, Genome>();
    while (held.size < heldOut) {
      const genome = space.sample(rng);
      if (!calibrated.has(space.id(genome))) held.set(space.id(genome), genome);
    }
    const measured: number[] = [];
    const predicted: number[] = [];
    const macsPredicted: number[] = [];
    let covered = 0;
    for (const [id, genome] of held) {
      const m = await pool.measure(await candidateModelBytes(space, genome, precision), id, CALIBRATION_MEASURE_OPTIONS);
      if (m.state === 'errored') throw new Error(m.error.message);
      const p = predictInterval(file, space.plan(genome));
      const macs = space.cost(genome).macs;
      measured.push(m.stats.p50);
      predicted.push(p.p50);
      macsPredicted.push(baseline.scale * macs + baseline.offset);
      if (m.stats.p50 >= p.low && m.stats.p50 <= p.high) covered++;
      rows.push({ space: spaceName, precision, id, macs, measured_p50_ms: m.stats.p50, predicted_ms: p.p50, low_ms: p.low, high_ms: p.high, error_pct: (100 * (p.p50 - m.stats.p50)) / m.stats.p50 });
      if (measured.length % 10 === 0) console.error(`${label}: held-out ${measured.length}/${heldOut}`);
    }
    table.push({
      space_precision: label,
      calibration_genomes: file.calibration.genomes.length,
      build_seconds: file.calibration.buildSeconds,
      held_out: measured.length,
      within10: shareWithin(predicted, measured, 10),
      mape: meanAbsolutePercentError(predicted, measured),
      kendall_tau: kendallTau(predicted, measured),
      interval_half_width_pct: 100 * file.interval.halfWidth,
      interval_coverage: covered / measured.length,
      macs_only_within10: shareWithin(macsPredicted, measured, 10),
      macs_only_mape: meanAbsolutePercentError(macsPredicted, measured),
    });
  }
}
await pool.close();

console.log(`CPU: ${os.cpus()[0]?.model}, ${os.cpus().length} cores; load average ${loadBefore.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end`);
console.log('| space / precision | calibration genomes | build s | held-out | within ±10% | MAPE | Kendall τ | interval ± | interval coverage | MACs-only: within ±10% / MAPE |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of table) {
  console.log(
    `| ${r.space_precision} | ${r.calibration_genomes} | ${r.build_seconds.toFixed(0)} | ${r.held_out} | ${(100 * r.within10).toFixed(0)}% | ${r.mape.toFixed(1)}% | ${r.kendall_tau.toFixed(3)} | ${r.interval_half_width_pct.toFixed(1)}% | ${(100 * r.interval_coverage).toFixed(0)}% | ${(100 * r.macs_only_within10).toFixed(0)}% / ${r.macs_only_mape.toFixed(1)}% |`,
  );
}
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'predictor.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'predictor.json'), JSON.stringify({ date: new Date().toISOString(), cpu: os.cpus()[0]?.model, loadBefore, loadAfter: os.loadavg()[0], table }, null, 2));
console.error(`wrote ${join(out, 'predictor.csv')} and .json`);
