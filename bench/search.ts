/**
 * `npm run bench:search`, two measurements:
 *
 * 1. Throughput: evaluations per hour of the documented overnight config's
 *    per-candidate work (full Fashion-MNIST, 1 epoch on an 8,000-image subset,
 *    latency measured, one candidate per worker, all cores) over a short run
 *    of EVALS candidates. Without a teacher, so the figure does not include
 *    the one-off teacher training; distillation itself adds a lookup and a KL
 *    term per batch.
 * 2. Search quality: NSGA-II and aging evolution against random search on the
 *    proxy objectives (analytic latency and accuracy), 3 seeds, the same
 *    evaluation budget: how many evaluations each needs to reach random
 *    search's final hypervolume.
 *
 * usage: node dist/bench/search.js [EVALS=16] [--skip-throughput]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { isIdxDirectory } from '../train/datasets/idx.js';
import { packageRoot } from '../locations.js';
import { DEBIAN_FASHION_MNIST_DIR } from '../train/paths.js';
import { resolveSearchConfig, type SearchConfig } from '../search/config.js';
import { runSearch } from '../search/engine.js';
import { hypervolumeOf } from '../search/objectives.js';
import { OVERNIGHT } from '../search/presets.js';
import type { CandidateRecord } from '../search/types.js';

const evals = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 16);
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'bench-search-'));
const summary: Record<string, unknown> = { date: new Date().toISOString() };

if (!process.argv.includes('--skip-throughput')) {
  const fullData = isIdxDirectory(DEBIAN_FASHION_MNIST_DIR);
  const config = resolveSearchConfig({
    ...OVERNIGHT,
    name: 'bench-search',
    data: fullData ? 'fashion-mnist' : 'fashion-mnist-sample',
    teacher: null,
    budget: { evaluations: evals },
    constraints: {},
  });
  console.error(`throughput: ${evals} candidates of the overnight config on ${config.data}, ${config.workers} workers…`);
  const started = performance.now();
  const result = await runSearch(config, { runDir: join(scratch, 'throughput') });
  const hours = (performance.now() - started) / 3.6e6;
  const trained = result.records.filter((r) => r.state === 'evaluated').length;
  const perHour = trained / hours;
  const meanTrain = result.records.reduce((a, r) => a + (r.state === 'evaluated' ? r.trainSeconds : 0), 0) / Math.max(1, trained);
  summary.throughput = { data: config.data, workers: config.workers, candidates: trained, seconds: hours * 3600, evaluationsPerHour: perHour, meanTrainSeconds: meanTrain };
  console.log(`| data | workers | candidates | wall s | mean train s per candidate | evaluations / hour |`);
  console.log(`|---|---:|---:|---:|---:|---:|`);
  console.log(`| ${config.data} (1 epoch on ${config.training.subset}) | ${config.workers} | ${trained} | ${(hours * 3600).toFixed(0)} | ${meanTrain.toFixed(1)} | ${perHour.toFixed(0)} |`);
}

/** Evaluations after which the records (in journal order) first reach `target` hypervolume. */
function evaluationsToReach(records: CandidateRecord[], config: SearchConfig, target: number): number | null {
  for (let n = 1; n <= records.length; n++) {
    if (hypervolumeOf(records.slice(0, n), config) >= target - 1e-12) return n;
  }
  return null;
}

const BUDGET = 240;
const rows = [];
for (const seed of [1, 2, 3]) {
  const base = { evaluator: 'proxy' as const, seed, budget: { evaluations: BUDGET }, hypervolumeReference: { latencyMs: 0.6 } };
  const random = await runSearch(resolveSearchConfig({ ...base, searcher: { algorithm: 'random', population: 12 } }), { runDir: join(scratch, `random-${seed}`) });
  const target = random.hypervolume;
  for (const algorithm of ['nsga2', 'aging'] as const) {
    const config = resolveSearchConfig({ ...base, searcher: { algorithm, population: 12, agingPopulation: 48, sampleSize: 8 } });
    const result = await runSearch(config, { runDir: join(scratch, `${algorithm}-${seed}`) });
    const reached = evaluationsToReach(result.records, config, target);
    rows.push({ seed, algorithm, random_final_hv: target, final_hv: result.hypervolume, evaluations_to_random_final: reached ?? `not in ${BUDGET}` });
  }
}
console.log(`\nproxy objectives, ${BUDGET} evaluations, 12 per generation; random search's final hypervolume reached after:`);
console.log('| seed | algorithm | random final HV | final HV | evaluations to reach random\'s final HV |');
console.log('|---:|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.seed} | ${r.algorithm} | ${r.random_final_hv.toFixed(4)} | ${r.final_hv.toFixed(4)} | ${r.evaluations_to_random_final} |`);
summary.quality = rows;
writeFileSync(join(out, 'search-quality.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'search.json'), JSON.stringify(summary, null, 2));
console.error(`wrote ${join(out, 'search-quality.csv')} and search.json`);
