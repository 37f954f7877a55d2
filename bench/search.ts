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
 * 3. Multi-fidelity against single-fidelity NSGA-II at equal compute
 *    (images trained), on the proxy evaluator's learning curve
 *    (search/evaluators.ts PROXY_LEARNING_CURVE, fitted by bench:fidelity):
 *    the hypervolume of the front each run would hand over, every front
 *    member measured at the top rung's budget, as compute grows; 3 seeds;
 *    with the analytic formula's differences between genomes and with them
 *    shrunk to the measured ones (MEASURED_REFERENCE_SPREAD).
 *
 * 4. `--real` (only this): multi- against single-fidelity at equal compute on
 *    the real evaluator, full Fashion-MNIST (bench/search-real.ts); hours,
 *    resumable.
 *
 * usage: node dist/bench/search.js [EVALS=16] [--skip-throughput] [--only-fidelity]
 *        node dist/bench/search.js --real [--seeds 1,2,3] [--compute 36] [--population 12] [--workers 2] [--data fashion-mnist]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { Command } from 'commander';
import { numberFlag, positiveInt } from '../cli/errors.js';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { isIdxDirectory } from '../train/datasets/idx.js';
import { packageRoot } from '../locations.js';
import { DEBIAN_FASHION_MNIST_DIR } from '../train/paths.js';
import { resolveSearchConfig, type SearchConfig } from '../search/config.js';
import { runSearch } from '../search/engine.js';
import { hypervolumeOf } from '../search/objectives.js';
import { frontAfter } from './hand-over.js';
import { runRealComparison } from './search-real.js';
import { objectivesOf } from '../search/config.js';
import { MEASURED_REFERENCE_SPREAD, ProxyEvaluator, PROXY_LEARNING_CURVE } from '../search/evaluators.js';
import { ledgerFor, rungOf } from '../search/fidelity.js';
import { NAMED_SPACES } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import { OVERNIGHT } from '../search/presets.js';
import type { CandidateRecord } from '../search/types.js';

if (process.argv.includes('--real')) {
  /** A comma-separated list whose every number passes `check`; commander names the flag when one does not. */
  const listFlag = (flag: string, check: (n: number) => boolean, expected: string) => (value: string) => value.split(',').map(numberFlag(flag, check, expected));
  const o = new Command('bench-search --real')
    .option('--real', 'the real-evaluator comparison')
    .option('--data <name|path>', 'dataset', 'fashion-mnist')
    .option('--seeds <n,…>', 'search seeds', listFlag('--seeds', (n) => Number.isInteger(n) && n >= 0, 'comma-separated whole numbers'), [1, 2, 3])
    .option('--compute <n>', 'compute of each search, in first trainings of 8,000 images', numberFlag('--compute', (n) => Number.isInteger(n) && n >= 2, 'a whole number ≥ 2'), 36)
    .option('--population <n>', 'NSGA-II generation size', numberFlag('--population', (n) => Number.isInteger(n) && n >= 2, 'a whole number ≥ 2'), 12)
    .option('--workers <n>', 'training workers', positiveInt('--workers'), Math.max(1, availableParallelism()))
    .option('--checkpoints <share,…>', 'shares of the compute at which the handed-over front is measured (1, the end, is always one)', listFlag('--checkpoints', (c) => c > 0 && c <= 1, 'comma-separated shares in (0, 1]'), [0.6, 1])
    .parse()
    .opts<{ data: string; seeds: number[]; compute: number; population: number; workers: number; checkpoints: number[] }>();
  await runRealComparison({ ...o, outDir: join(packageRoot(), 'results', 'bench'), log: (line) => console.error(line) });
  process.exit(0);
}

const evals = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 16);
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'bench-search-'));
const summary: Record<string, unknown> = { date: new Date().toISOString() };

const onlyFidelity = process.argv.includes('--only-fidelity');
if (!process.argv.includes('--skip-throughput') && !onlyFidelity) {
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
const space = new MobileNetSpace(NAMED_SPACES.small, { numClasses: 10, inputChannels: 1 });
// The proxy objectives themselves: every candidate read at the curve's reference budget, where
// accuracy is the analytic formula (plus its small noise). At a first training's budget each
// genome's own, non-heritable gain would dominate, and this would measure luck, not the searchers.
const analyticObjectives = new ProxyEvaluator(space, { firstImages: PROXY_LEARNING_CURVE.referenceRatio });
const rows = [];
for (const seed of onlyFidelity ? [] : [1, 2, 3]) {
  const base = { evaluator: 'proxy' as const, seed, budget: { evaluations: BUDGET }, hypervolumeReference: { latencyMs: 0.6 } };
  const random = await runSearch(resolveSearchConfig({ ...base, searcher: { algorithm: 'random', population: 12 } }), { runDir: join(scratch, `random-${seed}`), evaluator: analyticObjectives });
  const target = random.hypervolume;
  for (const algorithm of ['nsga2', 'aging'] as const) {
    const config = resolveSearchConfig({ ...base, searcher: { algorithm, population: 12, agingPopulation: 48, sampleSize: 8 } });
    const result = await runSearch(config, { runDir: join(scratch, `${algorithm}-${seed}`), evaluator: analyticObjectives });
    const reached = evaluationsToReach(result.records, config, target);
    rows.push({ seed, algorithm, random_final_hv: target, final_hv: result.hypervolume, evaluations_to_random_final: reached ?? `not in ${BUDGET}` });
  }
}
if (!onlyFidelity) {
  console.log(`\nproxy objectives, ${BUDGET} evaluations, 12 per generation; random search's final hypervolume reached after:`);
  console.log('| seed | algorithm | random final HV | final HV | evaluations to reach random\'s final HV |');
  console.log('|---:|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.seed} | ${r.algorithm} | ${r.random_final_hv.toFixed(4)} | ${r.final_hv.toFixed(4)} | ${r.evaluations_to_random_final} |`);
  summary.quality = rows;
  writeFileSync(join(out, 'search-quality.csv'), stringify(rows, { header: true }));
}

// 3. Multi- vs single-fidelity at equal compute, on the proxy's learning curve.
const BASE_IMAGES = 8000; // the overnight preset's first training: 1 epoch of 8,000 images
const RUNGS = 3;
const ETA = 3;
const TOP_IMAGES = BASE_IMAGES * ETA ** (RUNGS - 1);
const COMPUTE = 600 * BASE_IMAGES; // images trained in all, every rung counted
const CHECKPOINTS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((f) => f * COMPUTE);
// Two readings of the fitted curve: the analytic formula's differences between genomes, and
// those shrunk to what bench:fidelity measured at its reference, where the first rung misranks
// as it did on real training.
const SPREADS = { analytic: 1, measured: MEASURED_REFERENCE_SPREAD } as const;
const variants = {
  'single, base budget': { training: { images: BASE_IMAGES } },
  'single, top budget': { training: { images: TOP_IMAGES } },
  'multi-fidelity 3 rungs, η 3': { training: { images: BASE_IMAGES }, fidelity: { rungs: RUNGS, eta: ETA } },
} as const;

const fidelityRows: Array<Record<string, string | number>> = [];
for (const [spread, referenceSpread] of Object.entries(SPREADS)) {
  // One learning curve for every variant: anchored at BASE_IMAGES, whatever the run's first training.
  const proxyAt = new ProxyEvaluator(space, { baseImages: BASE_IMAGES, referenceSpread });
  for (const seed of [1, 2, 3]) {
    for (const [variant, over] of Object.entries(variants)) {
      const config = resolveSearchConfig({
        evaluator: 'proxy',
        seed,
        searcher: { algorithm: 'nsga2', population: 24 },
        budget: { images: COMPUTE },
        hypervolumeReference: { latencyMs: 0.6 },
        ...over,
      });
      const evaluator = new ProxyEvaluator(space, { baseImages: BASE_IMAGES, firstImages: config.training.images, referenceSpread });
      const result = await runSearch(config, { runDir: join(scratch, `fidelity-${spread}-${seed}-${variant.replace(/\W+/g, '-')}`), evaluator });
      const ledger = ledgerFor(config, BASE_IMAGES, objectivesOf(config));
      const perLine = (r: CandidateRecord) => (ledger ? ledger.sessionImages(rungOf(r)) : config.training.images!);
      for (const compute of CHECKPOINTS) {
        // The front a run would hand over after `compute` images, its members measured at the top budget.
        const measured = frontAfter(result.lines, config, compute, perLine).map((r) => ({ ...r, accuracy: proxyAt.accuracyAt(r.genome, r.id, TOP_IMAGES) }));
        fidelityRows.push({ spread, reference_spread: referenceSpread, seed, variant, compute_images: compute, compute_base_trainings: compute / BASE_IMAGES, top_rung_hv: Number(hypervolumeOf(measured, config).toFixed(6)) });
      }
    }
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const multi = 'multi-fidelity 3 rungs, η 3';
const reach: Record<string, Record<string, string>> = {};
for (const spread of Object.keys(SPREADS)) {
  const hvAt = (variant: string, compute: number) => mean(fidelityRows.filter((r) => r.spread === spread && r.variant === variant && r.compute_images === compute).map((r) => r.top_rung_hv as number));
  console.log(`\nproxy learning curve, ${spread} spread between genomes (referenceSpread ${SPREADS[spread as keyof typeof SPREADS]}): front members measured at ${TOP_IMAGES} images; mean top-rung hypervolume of 3 seeds by compute (in first trainings of ${BASE_IMAGES} images):`);
  console.log(`| compute | ${Object.keys(variants).join(' | ')} |`);
  console.log(`|---:|${Object.keys(variants).map(() => '---:').join('|')}|`);
  for (const compute of CHECKPOINTS) console.log(`| ${compute / BASE_IMAGES} | ${Object.keys(variants).map((v) => hvAt(v, compute).toFixed(4)).join(' | ')} |`);
  reach[spread] = {};
  for (const single of ['single, base budget', 'single, top budget']) {
    const target = hvAt(single, COMPUTE);
    const first = CHECKPOINTS.find((c) => hvAt(multi, c) >= target - 1e-9);
    reach[spread][single] = first === undefined ? 'not within the budget' : `${Math.round((100 * first) / COMPUTE)}% of its compute`;
    console.log(`multi-fidelity reaches "${single}"'s final top-rung hypervolume (${target.toFixed(4)}) with ${reach[spread][single]}`);
  }
}
summary.fidelity = { baseImages: BASE_IMAGES, topImages: TOP_IMAGES, compute: COMPUTE, curve: PROXY_LEARNING_CURVE, spreads: SPREADS, reach, rows: fidelityRows };
writeFileSync(join(out, 'search-fidelity.csv'), stringify(fidelityRows, { header: true }));
writeFileSync(join(out, 'search.json'), JSON.stringify(summary, null, 2));
console.error(`wrote ${join(out, 'search-quality.csv')}, search-fidelity.csv and search.json`);
