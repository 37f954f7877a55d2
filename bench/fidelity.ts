/**
 * `npm run bench:fidelity`: how well the search's cheap training proxy ranks
 * candidates compared with a much larger budget (issue 10, part 1).
 *
 * Genomes: `--pool` distinct genomes sampled (seedrandom) from the `small`
 * space, sorted by the analytic latency of the proxy evaluator
 * (ProxyEvaluator.predictLatency: MACs and depth), and `--genomes` of them
 * taken evenly spaced along that order: the middle genome of each of
 * `--genomes` equal latency bins.
 *
 * Each genome is trained from scratch at every setting, each with its own
 * cosine schedule, through the search's own path: the overnight preset's
 * training job (search/evaluators.ts trainingJobFor → TrainingPool →
 * runTrainingJob), same seed per genome as in a search. Settings:
 *   --proxies N,…   1 epoch on a fixed N-image subset (the overnight proxy is 8,000)
 *   --budgets N,…   N images drawn from the full training split; the largest is the reference
 *   --kd-off        also every proxy with α 0 (only with a teacher)
 *   --retest N,…    train the settings of N images again with another
 *                   training seed per genome: how far a setting agrees with
 *                   itself (τ and Pearson's r seed to seed), the measured
 *                   ceiling of any agreement with it. `NxK` trains them K
 *                   more times (K + 1 seeds): what ranking by the mean of
 *                   k seeds buys, k·r/(1 + (k − 1)·r) beside the mean of
 *                   half the seeds against the other half and against the
 *                   reference at seeds it was not trained at
 *   --shared-data-order every genome trains on one batch order and
 *                   augmentation (training.sharedDataOrder; a retest draws
 *                   another one shared order): common random numbers, whether
 *                   the seed noise that is shared cancels in the ranking;
 *                   its rows are a run of their own (CSV `data_order`)
 *   --outside-subset N also validate every subset setting on N training
 *                   images its subset left out (the search's
 *                   training.validateOutsideSubset): the retest and
 *                   reference agreement are reported on both validation sets
 *                   from the same trainings
 * With `--teacher-epochs 0` no teacher is used (α 0 everywhere).
 *
 * Each genome × setting row is appended to results/bench/fidelity.csv as soon
 * as it is measured; a rerun with the same data and seed skips rows already
 * there (`--fresh` starts over). Prints a table of Kendall τ-b (with its 95%
 * interval over the genomes, search/rank-correlation.ts kendallTauInterval) / Spearman ρ
 * against the reference and writes results/bench/fidelity.json (agreement,
 * learning curves acc(b) = a − c·b^(−k) per genome, CPU, date).
 *
 * usage: npm run bench:fidelity -- [--data fashion-mnist] [--genomes 16] [--pool 512]
 *        [--proxies 8000,2000] [--budgets 24000,80000] [--teacher-epochs 20] [--kd-off] [--retest N[xK],…] [--outside-subset N] [--shared-data-order]
 *        [--supernet-space] [--out DIR] [--workers 1] [--seed 0] [--fresh | --summary-only]
 * The defaults are the full measurement: 16 × 114,000 images, ≈ 2 h 20 min
 * on 2 workers at the ≈ 220 images/s measured in all (AMD EPYC Zen3, 2
 * cores), plus the default teacher (1 h 45 min on 2 cores). `--retest 8000`
 * adds 16 × 8,000 images (minutes), `--retest 80000` 16 × 80,000 (≈ 1.7 h).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageRoot } from '../locations.js';
import { atLeast } from './flags.js';
import { resolveSearchConfig } from '../search/config.js';
import { teacherSpecOf } from '../search/config-helpers.js';
import { candidateSeed, sharedDataSeed } from '../train/candidate-seed.js';
import { trainingJobFor } from '../search/evaluators.js';
import { OVERNIGHT } from '../search/presets.js';
import type { Interval } from '../intervals.js';
import { NAMED_SPACES } from '../space/defaults.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { MobileNetSpace } from '../space/space.js';
import { supernetSpace } from '../space/supernet.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { teacherLogits } from '../train/teacher.js';
import { teacherEpochLine, teacherProgressLines } from '../train/teacher-progress.js';
import { DEFAULT_TEACHER_EPOCHS, DEFAULT_TEACHER_THREADS } from '../train/teacher-types.js';
import { datasetContentHash } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';
import { fidelityRowOf, formatFidelityCsv, parseFidelityCsv, type FidelityCsvRow } from './fidelity-csv.js';
import { agreementWithReference, crossSeedAgreement, fitProxyCurve, seedAveraging, learningCurves, rankingComparisons, retestAgreement, samplingReliability, tauCeiling, settingKey, settingLabel, type FidelityRow, type FidelitySetting, type ProxyCurveFit } from './fidelity-summary.js';
import { fidelityGenomes } from './fidelity-genomes.js';

/** The search's proxy (OVERNIGHT: 1 epoch on 8,000) and a cheaper one. */
const DEFAULT_PROXIES = '8000,2000';
/** 3× and 10× the search's proxy, on the full split. */
const DEFAULT_BUDGETS = '24000,80000';
/** A run still training after this long is a failure (the search's 30 min is too short for the largest budgets). */
const RUN_TIME_LIMIT_SECONDS = 6 * 3600;

const positiveList = (value: string): number[] => {
  const list = value.split(',').map(Number);
  if (!list.length || !list.every((n) => Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`expected comma-separated positive integers, got '${value}'`);
  return list;
};
/** `--retest 8000x4,24000`: each image count with how many retests (1 unless `xK`). */
const retestList = (value: string): Array<{ images: number; retests: number }> =>
  value.split(',').map((part) => {
    const m = /^(\d+)(?:x(\d+))?$/.exec(part.trim());
    const images = Number(m?.[1]);
    const retests = m?.[2] === undefined ? 1 : Number(m[2]);
    if (!m || images < 1 || retests < 1) throw new InvalidArgumentError(`expected comma-separated image counts, each optionally xK (K ≥ 1 retests), got '${part}' in '${value}'`);
    return { images, retests };
  });

const program: Command = new Command('bench-fidelity')
  .option('--data <name|path>', 'dataset', 'fashion-mnist')
  .option('--genomes <n>', 'genomes: the middle one of each of this many equal bins of the analytic latency order', atLeast(2), 16)
  .option('--pool <n>', 'distinct genomes sampled to choose them from', atLeast(2), 512)
  .option('--proxies <n,…>', '1 epoch on a fixed subset of this many images (the search proxy is 8000)', positiveList, positiveList(DEFAULT_PROXIES))
  .option('--budgets <n,…>', 'images from the full training split; the largest is the reference', positiveList, positiveList(DEFAULT_BUDGETS))
  .option('--teacher-epochs <n>', 'epochs of the teacher trained here (cached); 0: no teacher, α 0', atLeast(0), DEFAULT_TEACHER_EPOCHS)
  .option('--kd-off', 'also train every proxy with α 0 (with a teacher)', false)
  .option('--retest <n[xK],…>', "train the settings of these image counts again with another seed per genome (the setting's agreement with itself); xK: K more times", retestList, [])
  .option('--outside-subset <n>', 'also validate subset settings on this many training images outside the subset (training.validateOutsideSubset)', atLeast(1))
  .option('--shared-data-order', 'every genome trains on the same batch order and augmentation (training.sharedDataOrder); a retest draws another shared order', false)
  .option('--workers <n>', 'training threads', atLeast(1), 1)
  .option('--seed <n>', 'seed of the genome sample and of every training run', atLeast(0), 0)
  .option('--fresh', 'discard rows of an earlier run instead of resuming', false)
  .option('--supernet-space', "sample the genomes from the small space narrowed as a supernet narrows it (space/supernet.ts: one activation and SE setting per stage, no expand ratio 1): the genomes bench:supernet ranks", false)
  .option('--out <dir>', 'where fidelity.csv and fidelity.json go (a long run keeps them outside the work tree)', join(packageRoot(), 'results', 'bench'))
  .addOption(new Option('--summary-only', 'train nothing: the table and fits from the rows already measured (while a run goes on, or after one was stopped); give the options the run was given').default(false).conflicts('fresh'))
  .parse();
const o = program.opts<{ data: string; genomes: number; pool: number; proxies: number[]; budgets: number[]; teacherEpochs: number; kdOff: boolean; retest: Array<{ images: number; retests: number }>; outsideSubset?: number; sharedDataOrder: boolean; supernetSpace: boolean; out: string; workers: number; seed: number; fresh: boolean; summaryOnly: boolean }>();

const started = performance.now();
const outDir = o.out;
const csvPath = join(outDir, 'fidelity.csv');
mkdirSync(outDir, { recursive: true });

const dataset = loadDataset(o.data);
const dataContentHash = datasetContentHash(dataset);
const space = new MobileNetSpace(o.supernetSpace ? supernetSpace(NAMED_SPACES.small).config : NAMED_SPACES.small, { numClasses: dataset.numClasses, inputChannels: dataset.train.channels });

// --- genomes: spread over the analytic latency range ---
const picked = (() => {
  try {
    return fidelityGenomes(space, { seed: o.seed, sampled: o.pool, count: o.genomes });
  } catch (error) {
    return program.error(`--genomes ${o.genomes}: ${(error as Error).message}; raise --pool`);
  }
})();
const chosen = picked.chosen.map((g) => ({ ...g, ...space.cost(g.genome) }));

// --- teacher ---
const baseConfig = resolveSearchConfig({ ...OVERNIGHT, name: 'bench-fidelity', data: o.data, seed: o.seed, teacher: o.teacherEpochs ? { train: { epochs: o.teacherEpochs, threads: DEFAULT_TEACHER_THREADS } } : null });
let teacher: { key: string; description: string; testAccuracy: number } | null = null;
const spec = teacherSpecOf(baseConfig, space, dataset.train.height);
if (spec && o.summaryOnly) console.error('--summary-only: the teacher is not loaded; rows are read as measured');
else if (spec) {
  const data = prepareData(dataset, { validationFraction: baseConfig.validationFraction, seed: baseConfig.seed });
  teacher = await teacherLogits(data, spec, teacherProgressLines(spec, (l) => console.error(l)), (e) => console.error(teacherEpochLine(e)));
  console.error(`teacher: ${teacher.description}; test ${(teacher.testAccuracy * 100).toFixed(2)}%`);
} else console.error('no teacher (--teacher-epochs 0): every setting trains with α 0');

// --- settings, in the order they are measured: first proxy, reference, the rest ---
const kd = o.summaryOnly ? spec !== null : teacher !== null;
const proxies: FidelitySetting[] = o.proxies.map((n) => ({ images: n, subset: n, kd }));
const budgets: FidelitySetting[] = o.budgets.map((n) => ({ images: n, subset: null, kd }));
const reference = budgets.reduce<FidelitySetting | null>((best, s) => (best === null || s.images > best.images ? s : best), null);
if (!reference) program.error('--budgets: at least one is needed (the reference)');
const kdOff = kd && o.kdOff ? proxies.map((s) => ({ ...s, kd: false })) : [];
const settings = [proxies[0], reference, ...proxies.slice(1), ...budgets.filter((s) => s !== reference), ...kdOff].filter(Boolean);
// Retests last, so that a run given --retest later continues where it stopped.
const retestsOf = new Map(o.retest.map((r) => [r.images, r.retests]));
const retested = settings.filter((s) => retestsOf.has(s.images));
for (const { images } of o.retest) if (!retested.some((s) => s.images === images)) program.error(`--retest: ${images} is not the image count of any setting (${[...new Set(settings.map((s) => s.images))].join(', ')})`);
// Replicate by replicate, so that a run stopped early has every setting's first retests.
const mostRetests = Math.max(0, ...retestsOf.values());
const retests: FidelitySetting[] = Array.from({ length: mostRetests }, (_, i) => i + 1).flatMap((replicate) => retested.filter((s) => retestsOf.get(s.images)! >= replicate).map((s) => ({ ...s, replicate })));

// --- rows already measured (resume) ---
// Rows of another data order are another run's: a --shared-data-order run resumes and summarises its own.
const runTag = { data: dataContentHash, seed: String(o.seed), data_order: o.sharedDataOrder ? 'shared' : 'candidate' };
const rowKey = (genomeId: string, s: FidelitySetting) => `${genomeId}|${settingKey(s)}`;
const done = new Map<string, FidelityRow>();
if (o.fresh) rmSync(csvPath, { force: true });
if (existsSync(csvPath)) {
  const { rows: kept, dropped } = parseFidelityCsv(readFileSync(csvPath, 'utf8'));
  // Rows of other data or seeds stay in the file but are not this run's.
  const ours = kept.filter((r) => r.data === runTag.data && r.seed === runTag.seed && r.data_order === runTag.data_order);
  for (const r of ours) {
    const row = fidelityRowOf(r);
    done.set(rowKey(row.genomeId, row), row);
  }
  // Rewritten whole (atomically) so that appends follow a header and a complete last line;
  // left alone by --summary-only, which may read while another process appends.
  if (!o.summaryOnly) writeFileAtomic(csvPath, formatFidelityCsv(kept));
  console.error(`resuming: ${ours.length} rows of this data and seed already in ${csvPath}${dropped ? `; ${dropped} torn or incomplete line(s) dropped` : ''}`);
} else if (o.summaryOnly) program.error(`--summary-only: no ${csvPath} to summarise`);
else writeFileAtomic(csvPath, formatFidelityCsv([]));

// How far the validation split's own sampling noise lets each pair of settings agree.
const validationImages = prepareData(dataset, { validationFraction: baseConfig.validationFraction, seed: baseConfig.seed }).validation.count;

// --- training ---
const todo = o.summaryOnly ? [] : [...settings, ...retests].flatMap((s) => chosen.filter((g) => !done.has(rowKey(g.id, s))).map((g) => ({ s, g })));
const totalImages = todo.reduce((n, t) => n + t.s.images, 0);
console.error(
  `${chosen.length} genomes (analytic latency ${chosen[0].latencyMs.toFixed(3)}–${chosen.at(-1)!.latencyMs.toFixed(3)} ms, ${Math.min(...chosen.map((g) => g.params))}–${Math.max(...chosen.map((g) => g.params))} params) × ` +
    `${settings.length + retests.length} settings (${[...settings, ...retests].map(settingLabel).join('; ')}): ${todo.length} runs to do, ${totalImages} images, ${o.workers} thread(s)`,
);
// Not started for --summary-only (its threads would load tfjs for nothing).
const trainingPool = todo.length ? new TrainingPool({ threads: o.workers }) : null;
let imagesDone = 0;
async function measure(s: FidelitySetting, g: (typeof chosen)[number]): Promise<void> {
  const training = {
    ...baseConfig.training,
    alpha: s.kd ? baseConfig.training.alpha : 0,
    subset: s.subset ?? undefined,
    validateOutsideSubset: s.subset === null ? undefined : o.outsideSubset,
    epochs: s.subset === null ? undefined : s.images / s.subset,
    images: s.subset === null ? s.images : undefined,
  };
  const config = { ...baseConfig, training: { ...training, ...(o.sharedDataOrder ? { sharedDataOrder: true } : {}) } };
  const searchJob = trainingJobFor({ space, config, teacherKey: teacher?.key ?? null, dataContentHash }, g.genome, g.id);
  // A retest changes only the training seeds (initial weights, batch order, augmentation): the subset is the search's.
  // Under a shared data order the retest's order is again one for every genome, another than the first training's.
  const job = s.replicate
    ? { ...searchJob, options: { ...searchJob.options, seed: candidateSeed(o.seed, `${g.id}:retest${s.replicate}`), ...(o.sharedDataOrder ? { dataSeed: sharedDataSeed(o.seed, s.replicate) } : {}) } }
    : searchJob;
  const result = await trainingPool!.run({ job, dataSpec: o.data }, new AbortController().signal, RUN_TIME_LIMIT_SECONDS);
  const ranked = result.accuracyImages > validationImages;
  const row: FidelityRow = { genomeId: g.id, ...s, validationAccuracy: result.validationAccuracy, ...(ranked ? { ranking: { images: result.accuracyImages, accuracy: result.accuracy } } : {}) };
  done.set(rowKey(g.id, s), row);
  const csvRow: FidelityCsvRow = {
    genome_id: g.id,
    latency_order: String(chosen.indexOf(g)),
    params: String(g.params),
    macs: String(g.macs),
    analytic_latency_ms: g.latencyMs.toFixed(4),
    budget_images: String(s.images),
    subset: s.subset === null ? 'full' : String(s.subset),
    kd: String(s.kd),
    validation_accuracy: result.validationAccuracy.toFixed(5),
    train_seconds: result.trainSeconds.toFixed(1),
    images_per_second: result.imagesPerSecond.toFixed(1),
    ...runTag,
    replicate: String(s.replicate ?? 0),
    ranking_images: ranked ? String(result.accuracyImages) : '',
    ranking_accuracy: ranked ? result.accuracy.toFixed(5) : '',
    log_likelihood: result.logLikelihood === undefined ? '' : result.logLikelihood.toFixed(6),
  };
  appendFileSync(csvPath, formatFidelityCsv([csvRow], false));
  imagesDone += s.images;
  const elapsed = (performance.now() - started) / 1000;
  const rankedText = ranked ? ` (${(result.accuracy * 100).toFixed(2)}% on ${result.accuracyImages})` : '';
  console.error(`${settingLabel(s)} · ${g.id} (${g.params} params): ${(result.validationAccuracy * 100).toFixed(2)}%${rankedText} in ${result.trainSeconds.toFixed(0)} s — ${imagesDone}/${totalImages} images, ${(elapsed / 60).toFixed(1)} min`);
}
const queue = [...todo];
await Promise.all(
  Array.from({ length: o.workers }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) await measure(t.s, t.g);
  }),
);
await trainingPool?.close();

// --- summary ---
const settingKeys = new Set(settings.map(settingKey));
const rows = [...done.values()].filter((r) => chosen.some((g) => g.id === r.genomeId) && settingKeys.has(settingKey(r)));
const accuracyOf = new Map(rows.map((r) => [rowKey(r.genomeId, r), r.validationAccuracy]));
// Each retested setting against itself: its seed-to-seed agreement, beside the sampling-only reliability of its first training.
const retestKeys = new Set(retests.map(settingKey));
const retestRows = [...rows, ...[...done.values()].filter((r) => chosen.some((g) => g.id === r.genomeId) && retestKeys.has(settingKey(r)))];
const retestAgreements = retested.map((s) => {
  const first = chosen.filter((g) => accuracyOf.has(rowKey(g.id, s))).map((g) => accuracyOf.get(rowKey(g.id, s))!);
  return { ...retestAgreement(retestRows, s), samplingReliability: samplingReliability(first, validationImages) };
});
const retestR = new Map(retestAgreements.filter((a) => a.genomes >= 3).map((a) => [settingKey(a.setting), a.r]));
const agreement = agreementWithReference(rows, settings, reference).map((a) => {
  const paired = chosen.filter((g) => accuracyOf.has(rowKey(g.id, a.setting)) && accuracyOf.has(rowKey(g.id, reference)));
  const reliability = samplingReliability(paired.map((g) => accuracyOf.get(rowKey(g.id, a.setting))!), validationImages);
  const referenceReliability = samplingReliability(paired.map((g) => accuracyOf.get(rowKey(g.id, reference))!), validationImages);
  // Measured where retests exist: the seed-to-seed r is each reliability with every noise counted (the sampling-only one stands in for a setting not retested).
  const retestCeiling = retestR.has(settingKey(reference)) ? tauCeiling(retestR.get(settingKey(a.setting)) ?? reliability, retestR.get(settingKey(reference))!) : Number.NaN;
  return { ...a, reliability, referenceReliability, tauCeiling: tauCeiling(reliability, referenceReliability), retestCeiling };
});
const curves = learningCurves(rows, kd);
// The proxy evaluator's curve (search/evaluators.ts PROXY_LEARNING_CURVE), fitted from the
// search's first budget (the first proxy) to every larger budget on the full split.
const baseSetting = proxies[0];
const proxyCurve: ProxyCurveFit | null = (() => {
  const later = budgets.filter((b) => b.images > baseSetting.images);
  const observations = chosen.flatMap((g) => {
    const base = done.get(rowKey(g.id, baseSetting));
    const points = later.flatMap((b) => done.get(rowKey(g.id, b)) ?? []).map((r) => ({ images: r.images, accuracy: r.validationAccuracy }));
    // Complete genomes only: one measured at fewer budgets would pull k towards its own few points.
    return base && points.length === later.length ? [{ genomeId: g.id, params: g.params, base: base.validationAccuracy, later: points }] : [];
  });
  const laterBudgets = new Set(observations.flatMap((x) => x.later.map((l) => l.images)));
  return observations.length >= 3 && laterBudgets.size >= 2 ? fitProxyCurve(observations, baseSetting.images) : null;
})();
const cpu = cpus()[0]?.model ?? 'unknown';
const wallSeconds = (performance.now() - started) / 1000;
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const interval = (i: Interval) => (Number.isFinite(i.low) ? `${f2(i.low)} to ${f2(i.high)}` : '–');
console.log(
  `data: ${dataset.name}; ${chosen.length} genomes of the small space; reference ${settingLabel(reference)}; ${teacher ? `teacher ${teacher.description}` : 'no teacher (α 0)'}; ` +
    `${o.sharedDataOrder ? 'one batch order for every genome (--shared-data-order)' : "each genome's batch order its own"}; ${cpu}`,
);
console.log(`τ ceiling: the τ all to expect at best were each setting's only noise the binomial sampling of the ${validationImages}-image validation split (a training seed adds more)`);
const retestColumn = retestR.has(settingKey(reference));
console.log(`τ 95%: the interval a τ over this many genomes leaves (Fieller–Hartley–Pearson: atanh τ ± 1.96·√(0.437/(n − 4)))`);
console.log(`| setting | images | ref ÷ setting | genomes | mean val. acc % | τ all | τ all 95% | ρ all | τ better half | ρ better half | top-¼ overlap | τ ceiling |${retestColumn ? ' τ ceiling (retests) |' : ''}`);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${retestColumn ? '---:|' : ''}`);
for (const a of agreement) {
  console.log(
    `| ${a.label} | ${a.setting.images} | ${a.budgetRatio.toFixed(1)} | ${a.genomes} | ${(a.meanAccuracy * 100).toFixed(2)} | ${f2(a.tauAll)} | ${interval(a.tauAllInterval)} | ${f2(a.rhoAll)} | ${f2(a.tauBetterHalf)} | ${f2(a.rhoBetterHalf)} | ${f2(a.topQuarterOverlap)} | ${f2(a.tauCeiling)} |${retestColumn ? ` ${f2(a.retestCeiling)} |` : ''}`,
  );
}
if (retestAgreements.length) {
  const retrained = o.sharedDataOrder ? 'with other initial weights per genome and another batch order shared by all' : 'with another seed per genome';
  console.log(`retests: each setting against itself trained again ${retrained}; Pearson's r seed to seed is its reliability with every noise counted`);
  console.log("  seed noise: one training's accuracy moved by the seed, the shift every genome shared taken out (sd of the differences ÷ √2); spread: sd across genomes");
  console.log('| setting | genomes | τ seed to seed | τ 95% | r seed to seed | reliability, sampling only | seed noise, points | spread, points | shared shift, points |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const p2 = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(2) : '–');
  for (const a of retestAgreements) {
    console.log(`| ${a.label} | ${a.genomes} | ${f2(a.tau)} | ${interval(a.tauInterval)} | ${f2(a.r)} | ${f2(a.samplingReliability)} | ${p2(a.rankingNoise)} | ${p2(a.spread)} | ${p2(a.shift)} |`);
  }
}
// With the reference retested too, each retested setting against the reference at the other seed: no seed's noise in common.
const crossSeed = retestColumn ? retested.filter((s) => settingKey(s) !== settingKey(reference)).map((s) => crossSeedAgreement(retestRows, s, reference)) : [];
if (crossSeed.length) {
  console.log(`against the reference at the other seed: each setting's first training against the reference's retest and its retest against the reference's first (mean of the two), beside the same-seed pairing that shares each genome's seed noise`);
  console.log('| setting | genomes | τ other seed | τ 95% | r other seed | τ same seed | r same seed |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const c of crossSeed) console.log(`| ${c.label} | ${c.genomes} | ${f2(c.tau)} | ${interval(c.tauInterval)} | ${f2(c.r)} | ${f2(c.tauSameSeed)} | ${f2(c.rSameSeed)} |`);
}
// With 3 or more seeds of a setting: ranking by the mean of k seeds, k = 1 … as far as the replicates go.
const seedMeans = retested
  .filter((s) => retestsOf.get(s.images)! >= 2)
  .flatMap((s) => Array.from({ length: retestsOf.get(s.images)! + 1 }, (_, i) => seedAveraging(retestRows, s, reference, i + 1)))
  .filter((a) => Number.isFinite(a.halves.tau) || Number.isFinite(a.reference.tau));
if (seedMeans.length) {
  console.log('mean of k seeds: predicted r = k·r₁/(1 + (k − 1)·r₁) from r₁, one training against another (mean over every pair of seeds); halves: the mean of seeds 0…k−1 against the mean of k…2k−1;');
  console.log("  vs reference: the mean of k seeds the reference was not trained at against the reference's mean over all its seeds (no seed in common)");
  console.log('| setting | seeds k | r₁ | predicted r | r halves | τ halves | τ halves 95% | seeds vs reference | τ vs reference | τ 95% | r vs reference | ρ vs reference |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|');
  for (const a of seedMeans) {
    const against = a.reference.replicates.length ? `${a.reference.replicates.join(', ')} vs ${a.reference.referenceSeeds}` : '–';
    console.log(
      `| ${a.label} | ${a.seeds} | ${f2(a.singleSeedR)} | ${f2(a.predictedR)} | ${f2(a.halves.r)} | ${f2(a.halves.tau)} | ${interval(a.halves.tauInterval)} | ${against} | ${f2(a.reference.tau)} | ${interval(a.reference.tauInterval)} | ${f2(a.reference.r)} | ${f2(a.reference.rho)} |`,
    );
  }
}
const rankingRows = rankingComparisons([...done.values()].filter((r) => chosen.some((g) => g.id === r.genomeId)), settings, reference);
if (rankingRows.length) {
  console.log(`validated outside the subset: the same trainings read on the ${validationImages}-image validation split alone and with the training images their subset left out (the reference on its validation split)`);
  console.log('| setting | validated on | τ seed to seed | r seed to seed | τ vs reference | ρ vs reference |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const c of rankingRows) {
    console.log(`| ${c.label} | ${validationImages} | ${f2(c.retest.validation.tau)} | ${f2(c.retest.validation.r)} | ${f2(c.reference.validation.tau)} | ${f2(c.reference.validation.rho)} |`);
    console.log(`| | ${c.rankingImages} | ${f2(c.retest.ranking.tau)} | ${f2(c.retest.ranking.r)} | ${f2(c.reference.ranking.tau)} | ${f2(c.reference.ranking.rho)} |`);
    console.log(`  (${c.retest.genomes} genomes retested, ${c.reference.genomes} against the reference; the two readings of the same ${c.genomes} trainings: r ${f2(c.readingsR)})`);
  }
}
const refRows = rows.filter((r) => settingKey(r) === settingKey(reference));
{
  const acc = refRows.map((r) => r.validationAccuracy);
  const mean = acc.reduce((s, a) => s + a, 0) / Math.max(1, acc.length);
  const sd = Math.sqrt(acc.reduce((s, a) => s + (a - mean) ** 2, 0) / Math.max(1, acc.length - 1));
  const noise = Math.sqrt((mean * (1 - mean)) / validationImages);
  console.log(
    `reference ${settingLabel(reference)}: ${acc.length} genomes, validation accuracy mean ${(mean * 100).toFixed(2)}%, ` +
      `range ${(Math.min(...acc) * 100).toFixed(2)}–${(Math.max(...acc) * 100).toFixed(2)}%, sd across genomes ${(sd * 100).toFixed(2)} points against a sampling sd of ${(noise * 100).toFixed(2)} points`,
  );
}
if (curves.perGenome.length) {
  const g = (s: typeof curves.c, d: number) => `median ${s.median.toFixed(d)} (quartiles ${s.q1.toFixed(d)}–${s.q3.toFixed(d)}, range ${s.min.toFixed(d)}–${s.max.toFixed(d)})`;
  console.log(`learning curves acc(b) = a − c·b^(−k), b in images, ${curves.perGenome.length} genomes: k ${g(curves.k, 3)}; c ${g(curves.c, 3)}; a ${g(curves.a, 4)}`);
}
if (proxyCurve) {
  console.log(
    `proxy evaluator's curve from ${settingLabel(baseSetting)}: acc(b) − acc(b₀) = G·(1 − (b/b₀)^(−k)), k ${proxyCurve.k.toFixed(3)}; ` +
      `G = ${(proxyCurve.gainMax * 100).toFixed(2)} points·(1 − e^(−params/${Math.round(proxyCurve.gainParams)})) ± ${(proxyCurve.gainSpread * 100).toFixed(2)} points (sd not explained by size); rmse ${(proxyCurve.rmse * 100).toFixed(2)} points`,
  );
}
console.log(`wall time ${(wallSeconds / 60).toFixed(1)} min (this invocation)`);

writeFileAtomic(
  join(outDir, 'fidelity.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      cpu,
      data: { name: dataset.name, contentHash: dataContentHash, trainImages: dataset.train.count },
      seed: o.seed,
      dataOrder: runTag.data_order,
      teacher: teacher ? { description: teacher.description, testAccuracy: teacher.testAccuracy } : null,
      genomeChoice: `${o.genomes} of ${picked.distinct} sampled genomes, the middle genome of each of ${o.genomes} equal bins of the analytic latency order (ProxyEvaluator.predictLatency)`,
      genomes: chosen.map((g, i) => ({ id: g.id, latencyOrder: i, params: g.params, macs: g.macs, analyticLatencyMs: g.latencyMs })),
      reference: { ...reference, label: settingLabel(reference) },
      settings: settings.map((s) => ({ ...s, label: settingLabel(s) })),
      agreement,
      retests: retestAgreements,
      crossSeed,
      seedMeans,
      validatedOutsideSubset: rankingRows,
      learningCurve: { model: 'acc(b) = a - c * b^(-k), b = images trained', kd, ...curves },
      proxyCurve: proxyCurve && { model: 'acc(b) - acc(b0) = G * (1 - (b/b0)^(-k)); G = gainMax * (1 - exp(-params/gainParams)) + e, sd(e) = gainSpread', base: settingLabel(baseSetting), ...proxyCurve },
      wallSecondsThisInvocation: wallSeconds,
    },
    (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  ) + '\n',
);
