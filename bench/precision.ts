/**
 * `npm run bench:precision`: is the front of fp32 latencies the front of the
 * INT8 models a user deploys? (docs/bench/precision.md). Three measurements:
 *
 *   genomes   each space's --genomes genomes (spread over the analytic
 *             latency, bench/fidelity-genomes.ts), built with random weights,
 *             measured as fp32 and as every INT8 variant in one interleaved
 *             run per genome (what `latency.precision` measures), on each of
 *             --threads; τ between fp32 and INT8 p50, how often INT8 is
 *             slower, which variant wins, and how many members the fp32 and
 *             INT8 fronts share, both read from the proxy's analytic accuracy.
 *   --calibration N   N genomes of each space quantized twice, with one
 *             random-pixel batch (what the search does) and with 256 of the
 *             data's training images, measured interleaved: the same latency?
 *   --search N   two searches of N candidates each (NSGA-II, the proxy's
 *             accuracy, latency measured here), one by fp32 latency and one by
 *             INT8; both fronts' INT8 models measured in one interleaved run
 *             and compared by hypervolume in INT8 latency.
 *
 * Rows are appended to DIR/precision-rows.csv and DIR/precision-calibration.csv
 * as they are measured, so a rerun measures only what is missing; the
 * summary goes to DIR/precision-<spaces>.json; each pair of searches adds a row to
 * DIR/precision-searches.csv, and the pairs there of the same space, threads
 * and budget (one per --search-seed) are summed up together: how many the
 * INT8 search won, and a sign test. Timing: run it while nothing else runs.
 *
 * usage: npm run bench:precision -- [--spaces small,mobilenet-224] [--genomes 50]
 *        [--threads 1,2] [--time 500] [--calibration 8] [--search 120] [--seed 0] [--search-seed S] [--out DIR]
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parse } from 'csv-parse/sync';
import { deployedLatency, randomCalibrationBatch } from '../benchmarks/deployed-latency.js';
import { cpuFeatures } from '../benchmarks/cpu-features.js';
import { chooseInt8, INT8_VARIANTS } from '../benchmarks/int8-variants.js';
import { LatencyPool } from '../benchmarks/pool.js';
import { packageRoot } from '../locations.js';
import { quantizeModel } from '../onnx/quantize.js';
import { resolveSearchConfig } from '../search/config.js';
import { runSearch } from '../search/engine.js';
import { ProxyEvaluator } from '../search/evaluators.js';
import { hypervolume } from '../search/pareto.js';
import type { CandidateEvaluator, LatencyFigures } from '../search/types.js';
import { buildOnnxModel } from '../space/build-onnx.js';
import { NAMED_SPACES, type SpaceName } from '../space/defaults.js';
import { randomWeights } from '../space/random-weights.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { adaptedBatches, modelInput } from '../train/calibration-batches.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { PREDICTOR_DATA_SHAPES } from '../benchmarks/predictor-spaces.js';
import { atLeast } from './flags.js';
import { fidelityGenomes } from './fidelity-genomes.js';
import { evenlySpaced } from './fidelity-summary.js';
import { calibrationAgreement, frontIds, summarisePrecision, summariseSearchPairs, type CalibrationRow, type PrecisionRow } from './precision-summary.js';

const list = <T>(parse: (s: string) => T) => (value: string) => value.split(',').map((s) => parse(s.trim()));
const spaceName = (s: string): SpaceName => {
  if (!(s in NAMED_SPACES)) throw new InvalidArgumentError(`'${s}' is not one of ${Object.keys(NAMED_SPACES).join(', ')}`);
  return s as SpaceName;
};

const program = new Command('bench-precision')
  .option('--spaces <names>', 'named spaces, comma-separated', list(spaceName), ['small', 'mobilenet-224'] as SpaceName[])
  .option('--genomes <n>', 'genomes per space', atLeast(5), 50)
  .option('--pool <n>', 'distinct genomes sampled to spread them over latency', atLeast(5), 512)
  .option('--threads <n,…>', 'intra-op threads to measure at', list(atLeast(1)), [1, 2])
  .option('--time <ms>', 'measuring time per model in each interleaved run', atLeast(10), 500)
  .option('--calibration <n>', 'genomes per space quantized with random pixels and with data images', atLeast(0), 8)
  .option('--search <n>', 'candidates of each of the two searches (fp32 and INT8 latency); 0: none', atLeast(0), 0)
  .option('--data <name|path>', 'calibration images for --calibration', 'fashion-mnist')
  .option('--seed <n>', 'genome seed (and the searches\', unless --search-seed)', atLeast(0), 0)
  .option('--search-seed <n>', 'seed of the two searches', atLeast(0))
  .option('--out <dir>', 'where the CSVs and the JSON summary go', join(packageRoot(), 'results', 'bench'))
  .parse();
const o = program.opts<{ spaces: SpaceName[]; genomes: number; pool: number; threads: number[]; time: number; calibration: number; search: number; data: string; seed: number; searchSeed?: number; out: string }>();
const searchSeed = o.searchSeed ?? o.seed;
mkdirSync(o.out, { recursive: true });
const features = cpuFeatures();
const cpu = `${features.model} (${features.instructionSets.join(', ') || 'no recorded extensions'})`;
console.error(`bench:precision on ${cpu}`);

/** Appends rows to a CSV (header first when new); returns what it held before. */
function csvStore(file: string, columns: readonly string[]): { file: string; rows: Array<Record<string, string>>; append: (row: Record<string, string | number>) => void } {
  if (!existsSync(file)) writeFileSync(file, columns.join(',') + '\n');
  const rows = parse(readFileSync(file), { columns: true, skip_empty_lines: true, relax_column_count: true }) as Array<Record<string, string>>;
  // A torn last line (a kill mid-write) is dropped: it is measured again.
  const whole = rows.filter((r) => columns.every((c) => r[c] !== undefined && r[c] !== ''));
  return { file, rows: whole, append: (row) => appendFileSync(file, columns.map((c) => String(row[c])).join(',') + '\n') };
}

const SEARCH_COLUMNS = ['space', 'threads', 'candidates', 'seed', 'fp32_front', 'fp32_hypervolume', 'fp32_seconds', 'int8_front', 'int8_hypervolume', 'int8_seconds', 'cpu'] as const;
const ROW_COLUMNS = ['space', 'threads', 'id', 'params', 'macs', 'accuracy', 'fp32_p50_ms', 'int8_p50_ms', 'int8_variant', 'all_p50_ms', 'cpu'] as const;
const rowsFile = csvStore(join(o.out, 'precision-rows.csv'), ROW_COLUMNS);
const pool = new LatencyPool();
const compare = (models: Array<{ name: string; source: string | Uint8Array }>, options: object) => pool.compare(models, options);
const spaces = new Map(o.spaces.map((name) => [name, new MobileNetSpace(NAMED_SPACES[name], PREDICTOR_DATA_SHAPES[name])]));
const fp32Bytes = (space: MobileNetSpace, genome: Genome) => {
  const plan = space.plan(genome);
  return buildOnnxModel(plan, randomWeights(plan));
};
const summary: Record<string, unknown> = { cpu, date: new Date().toISOString(), options: o };

// --- genomes: fp32 against INT8, interleaved, at each thread count ---
const measured: PrecisionRow[] = [];
for (const [name, space] of spaces) {
  const { chosen } = fidelityGenomes(space, { seed: o.seed, sampled: o.pool, count: o.genomes });
  const proxy = new ProxyEvaluator(space);
  for (const threads of o.threads) {
    for (const [i, g] of chosen.entries()) {
      const done = rowsFile.rows.find((r) => r.space === name && Number(r.threads) === threads && r.id === g.id);
      if (!done) {
        const bytes = fp32Bytes(space, g.genome);
        const plan = space.plan(g.genome);
        const selection = await chooseInt8(bytes, g.id, [randomCalibrationBatch(plan, g.id)], null, { compare, latencyTime: o.time, session: { intraOpThreads: threads }, maxLatencyRatio: Infinity });
        const fastest = selection.chosen;
        if (!fastest?.p50 || selection.fp32.p50 === null) {
          console.error(`${name} ${g.id} ×${threads}: not measured (${selection.choice.state === 'fp32' ? selection.choice.reason : 'no p50'})`);
          continue;
        }
        const all = selection.variants.find((v) => v.name === 'all');
        const cost = space.cost(g.genome);
        const row = { space: name, threads, id: g.id, params: cost.params, macs: cost.macs, accuracy: proxy.accuracyAt(g.genome, g.id).toFixed(5), fp32_p50_ms: selection.fp32.p50.toFixed(5), int8_p50_ms: fastest.p50.toFixed(5), int8_variant: fastest.name, all_p50_ms: all?.p50?.toFixed(5) ?? 'NaN', cpu: features.model };
        rowsFile.append(row);
        rowsFile.rows.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])));
        console.error(`${name} ${i + 1}/${chosen.length} ×${threads} ${g.id}: fp32 ${row.fp32_p50_ms} ms, ${fastest.name} ${row.int8_p50_ms} ms (${(fastest.p50 / selection.fp32.p50).toFixed(2)}×)`);
      }
      const r = rowsFile.rows.find((x) => x.space === name && Number(x.threads) === threads && x.id === g.id)!;
      measured.push({ space: name, threads, id: g.id, accuracy: Number(r.accuracy), fp32P50: Number(r.fp32_p50_ms), int8P50: Number(r.int8_p50_ms), int8Variant: r.int8_variant, allP50: r.all_p50_ms === 'NaN' ? null : Number(r.all_p50_ms) });
    }
  }
}
const summaries = [...spaces.keys()].flatMap((name) => o.threads.map((threads) => measured.filter((r) => r.space === name && r.threads === threads)).filter((rows) => rows.length > 0).map(summarisePrecision));
summary.genomes = summaries;
const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
console.log(`\nfp32 against INT8 latency on ${cpu}\n`);
console.log('| space | threads | genomes | τ (95% CI) | INT8 slower | fp32 kept (> 0.97×) | median INT8/fp32 (range) | fastest variant | fp32 front | INT8 front | shared |');
console.log('|---|---:|---:|---|---:|---:|---|---|---:|---:|---:|');
for (const s of summaries) {
  const wins = Object.entries(s.variantWins).sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${n}`).join(', ');
  console.log(`| ${s.space} | ${s.threads} | ${s.genomes} | ${s.tau.toFixed(3)} (${s.tauInterval.low.toFixed(2)}–${s.tauInterval.high.toFixed(2)}) | ${pct(s.int8Slower)} | ${pct(s.fp32Kept)} | ${s.medianRatio.toFixed(2)} (${s.minRatio.toFixed(2)}–${s.maxRatio.toFixed(2)}) | ${wins} | ${s.fp32FrontSize} | ${s.int8FrontSize} | ${s.sharedFront} (${pct(s.sharedOfSmaller)}) |`);
}

// --- random-pixel against data calibration ---
if (o.calibration > 0) {
  const CAL_COLUMNS = ['space', 'id', 'variant', 'random_p50_ms', 'calibrated_p50_ms', 'cpu'] as const;
  const calFile = csvStore(join(o.out, 'precision-calibration.csv'), CAL_COLUMNS);
  const data = prepareData(loadDataset(o.data), { validationFraction: 0.1, seed: o.seed });
  const calRows: CalibrationRow[] = [];
  for (const [name, space] of spaces) {
    // A spread subset of the genomes measured above, so each is quantized as the variant the search chose for it.
    const { chosen: all } = fidelityGenomes(space, { seed: o.seed, sampled: o.pool, count: o.genomes });
    const chosen = evenlySpaced(all.length, Math.min(o.calibration, all.length)).map((i) => all[i]);
    for (const g of chosen) {
      let r = calFile.rows.find((x) => x.space === name && x.id === g.id);
      if (!r) {
        const bytes = fp32Bytes(space, g.genome);
        const plan = space.plan(g.genome);
        // The variant the search would measure for this genome on one thread (the fastest), or `all`.
        const variantName = measured.find((m) => m.space === name && m.threads === 1 && m.id === g.id)?.int8Variant ?? 'all';
        const variant = INT8_VARIANTS.find((v) => v.name === variantName)!;
        const random = (await quantizeModel(bytes, g.id, [randomCalibrationBatch(plan, g.id)], variant.options)).bytes;
        const batches = await adaptedBatches(data.train, 256, modelInput(bytes, g.id).plan, data, 'standardised');
        const calibrated = (await quantizeModel(bytes, g.id, batches, variant.options)).bytes;
        const m = await pool.compare([{ name: 'random', source: random }, { name: 'calibrated', source: calibrated }], { time: 2 * o.time, iterations: 100 });
        if (m[0].state === 'errored' || m[1].state === 'errored') {
          console.error(`${name} ${g.id}: calibration comparison not measured`);
          continue;
        }
        const row = { space: name, id: g.id, variant: variantName, random_p50_ms: m[0].stats.p50.toFixed(5), calibrated_p50_ms: m[1].stats.p50.toFixed(5), cpu: features.model };
        calFile.append(row);
        r = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)]));
        console.error(`${name} ${g.id} (${variantName}): random ${row.random_p50_ms} ms, calibrated ${row.calibrated_p50_ms} ms`);
      }
      calRows.push({ space: name, id: g.id, variant: r.variant, randomP50: Number(r.random_p50_ms), calibratedP50: Number(r.calibrated_p50_ms) });
    }
  }
  console.log(`\nINT8 latency: random-pixel calibration against ${o.data} images (1 thread)\n`);
  console.log('| space | genomes | median calibrated/random | range |');
  console.log('|---|---:|---:|---|');
  const bySpace = [...spaces.keys()].map((name) => ({ name, ...calibrationAgreement(calRows.filter((r) => r.space === name)) }));
  for (const c of bySpace) console.log(`| ${c.name} | ${c.genomes} | ${c.medianRatio.toFixed(3)} | ${c.minRatio.toFixed(3)}–${c.maxRatio.toFixed(3)} |`);
  summary.calibration = bySpace;
}

// --- two searches at equal compute: by fp32 latency and by INT8 latency ---
if (o.search > 0) {
  const name = o.spaces[0];
  const space = spaces.get(name)!;
  const threads = o.threads[0];
  /** The proxy's accuracy (nothing trains), latency measured here in the given precision. */
  const evaluatorFor = (precision: 'fp32' | 'int8'): CandidateEvaluator => {
    const proxy = new ProxyEvaluator(space);
    return {
      async latency(genome: Genome, id: string): Promise<LatencyFigures> {
        const bytes = fp32Bytes(space, genome);
        if (precision === 'int8') {
          const d = await deployedLatency(bytes, id, 'int8', { compare, time: o.time, threads, calibration: [randomCalibrationBatch(space.plan(genome), id)] });
          return { p50: d.p50, p90: d.p90, source: 'measured', precision: 'int8', int8Variant: d.int8Variant, fp32P50: d.fp32P50 };
        }
        const m = await pool.measure(bytes, id, { time: o.time, iterations: 50, session: { intraOpThreads: threads } });
        if (m.state === 'errored') throw new Error(m.error.message);
        return { p50: m.stats.p50, p90: m.stats.p90, source: 'measured' };
      },
      train: (genome, id, signal) => proxy.train(genome, id, signal),
      close: async () => {},
    };
  };
  const fronts: Record<'fp32' | 'int8', Array<{ id: string; genome: Genome; accuracy: number; seconds: number }>> = { fp32: [], int8: [] };
  for (const precision of ['fp32', 'int8'] as const) {
    const started = performance.now();
    const config = resolveSearchConfig({ seed: searchSeed, space: name, searcher: { algorithm: 'nsga2', population: 12 }, budget: { evaluations: o.search }, workers: 1 });
    const result = await runSearch(config, { runDir: join(o.out, `precision-search-${name}-${precision}-${searchSeed}`), evaluator: evaluatorFor(precision), uniqueRunDir: true });
    const seconds = (performance.now() - started) / 1000;
    const evaluated = result.records.filter((r) => r.state === 'evaluated');
    const ids = new Set(paretoIds(evaluated));
    fronts[precision] = evaluated.filter((r) => ids.has(r.id)).map((r) => ({ id: r.id, genome: r.genome, accuracy: r.accuracy, seconds }));
    console.error(`search by ${precision} latency: ${evaluated.length} candidates in ${seconds.toFixed(0)} s, front of ${ids.size}`);
  }
  // Every front member's deployed INT8 model (its fastest variant), all measured in one interleaved run.
  const members = new Map([...fronts.fp32, ...fronts.int8].map((m) => [m.id, m]));
  const int8Models: Array<{ name: string; source: Uint8Array }> = [];
  for (const m of members.values()) {
    const bytes = fp32Bytes(space, m.genome);
    const selection = await chooseInt8(bytes, m.id, [randomCalibrationBatch(space.plan(m.genome), m.id)], null, { compare, latencyTime: o.time, session: { intraOpThreads: threads }, maxLatencyRatio: Infinity });
    int8Models.push({ name: m.id, source: selection.chosen?.bytes ?? bytes });
  }
  const timed = await pool.compare(int8Models, { time: o.time, iterations: 50, session: { intraOpThreads: threads } });
  const p50 = new Map(timed.map((t, i) => [int8Models[i].name, t.state === 'errored' ? Number.NaN : t.stats.p50]));
  const reference = [0, 1.1 * Math.max(...[...p50.values()].filter(Number.isFinite))];
  const hv = (front: (typeof fronts)['fp32']) => hypervolume(front.map((m) => [-m.accuracy, p50.get(m.id)!]).filter((p) => Number.isFinite(p[1])), reference);
  const result = { space: name, threads, candidates: o.search, fp32: { front: fronts.fp32.length, hypervolume: hv(fronts.fp32), seconds: fronts.fp32[0]?.seconds }, int8: { front: fronts.int8.length, hypervolume: hv(fronts.int8), seconds: fronts.int8[0]?.seconds }, reference };
  summary.search = { ...result, seed: searchSeed };
  const searches = csvStore(join(o.out, 'precision-searches.csv'), SEARCH_COLUMNS);
  searches.append({ space: name, threads, candidates: o.search, seed: searchSeed, fp32_front: result.fp32.front, fp32_hypervolume: result.fp32.hypervolume.toFixed(6), fp32_seconds: (result.fp32.seconds ?? 0).toFixed(0), int8_front: result.int8.front, int8_hypervolume: result.int8.hypervolume.toFixed(6), int8_seconds: (result.int8.seconds ?? 0).toFixed(0), cpu: features.model });
  console.log(`\nTwo searches of ${o.search} candidates (${name}, ${threads} thread(s)), fronts' INT8 models measured in one interleaved run\n`);
  console.log('| searched by | front | hypervolume (INT8 latency) | search wall time |');
  console.log('|---|---:|---:|---:|');
  for (const p of ['fp32', 'int8'] as const) console.log(`| ${p} latency | ${result[p].front} | ${result[p].hypervolume.toFixed(6)} | ${result[p].seconds?.toFixed(0)} s |`);
  // Every pair in the CSV with this space, thread count and budget (one a seed: --search-seed S), read together.
  const sameSetting = csvStore(searches.file, SEARCH_COLUMNS).rows.filter((r) => r.space === name && Number(r.threads) === threads && Number(r.candidates) === o.search);
  const pairs = summariseSearchPairs(sameSetting.map((r) => ({ seed: Number(r.seed), fp32Hypervolume: Number(r.fp32_hypervolume), int8Hypervolume: Number(r.int8_hypervolume) })));
  summary.searchPairs = pairs;
  console.log(
    `\nAll ${pairs.pairs} pair(s) of ${o.search}-candidate searches in ${searches.file}: the INT8-searched front won ${pairs.int8Wins}; ` +
      `INT8 / fp32 hypervolume ${pairs.ratios.map((r) => r.toFixed(2)).join(', ')}, geometric mean ${pairs.geometricMeanRatio.toFixed(3)}; one-sided sign test p ${pairs.signTestP.toFixed(3)}`,
  );
}

/** Front ids of evaluated records by (accuracy, the latency they were searched by). */
function paretoIds(records: ReadonlyArray<{ id: string; accuracy: number; latency: { p50: number } }>): string[] {
  return frontIds(records.map((r) => ({ space: '', threads: 0, id: r.id, accuracy: r.accuracy, fp32P50: r.latency.p50, int8P50: r.latency.p50, int8Variant: '', allP50: null })), (r) => r.fp32P50);
}

writeFileSync(join(o.out, `precision-${o.spaces.join('+')}.json`), JSON.stringify(summary, null, 1) + '\n');
await pool.close();
