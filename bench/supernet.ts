/**
 * `npm run bench:supernet`: what a trained supernet is worth to the search
 * (docs/bench/supernet.md). Three measurements, each chosen by a flag:
 *
 *   --reference DIR  ranking: the genomes `bench:fidelity --supernet-space`
 *                    trained (the same --genomes/--pool/--seed pick them
 *                    again) scored by each supernet, against the mean of
 *                    their standalone trainings at the reference budget over
 *                    ≥ 2 seeds; beside it the one-epoch proxy's ranking of
 *                    the same genomes, and the compute each took, and the
 *                    free baselines (rank by parameters, by MACs); each
 *                    also at equal latency (the log of analytic latency
 *                    taken out of scores and reference alike). With two
 *                    supernets (two seeds), their agreement with each other.
 *   --throughput N   candidates an hour: a supernet search of N candidates
 *                    (latency measured as in any search, or predicted by the
 *                    first --predictors file) and, in the same process on the
 *                    same machine, a real search of --real M candidates at the
 *                    overnight preset's proxy training, latency alike.
 *   --targets N      fronts for two deployment targets from one supernet: an
 *                    NSGA-II search of N candidates with latency on 1 and on 2
 *                    intra-op threads (measured, or predicted by the
 *                    --predictors files built for each), the wall time of
 *                    each, and how many members the fronts share.
 *   --selection RUN  a supernet search's candidates, each scored on validation
 *                    and on the test split: the front that ranking by
 *                    validation accuracy hands over against the one ranking
 *                    by log-likelihood does, both judged by test accuracy;
 *                    with --validation-images and several --bn-images, also
 *                    what cheaper scorings (fewer images) hand over.
 *   --extremes       each supernet's largest and smallest subnet, inherited
 *                    weights: accuracy on validation and on the test split.
 *   --quality RUN    a supernet search's front member that challenges
 *                    MobileNetV2 ×0.35 fine-tuned from its inherited weights
 *                    for each of --fine-tune E1,E2… epochs, and trained from
 *                    scratch for --scratch-epochs, by nas finalize
 *                    (bench/supernet-quality.ts); RUN `targets` is this
 *                    invocation's 1-thread target search.
 *
 * Scores are appended to DIR/supernet-subnet-scores.csv as they are computed, so a
 * rerun scores only what is missing; the summary goes to DIR/supernet.json.
 *
 * usage: npm run bench:supernet -- --supernet KEY[,KEY2] [--extremes] [--selection RUN [--validation-images 1500,3000] [--seen-images 6000]] [--reference DIR]
 *        [--bn-images 512,2048] [--reference-seeds 2] [--throughput 300 --real 4] [--targets 300]
 *        [--predictors one-thread.json[,two-threads.json]] [--quality RUN|targets --fine-tune 1,2,5 --scratch-epochs 30]
 *        [--data fashion-mnist]
 *        [--genomes 32] [--pool 512] [--seed 0] [--workers 2] [--out DIR]
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parse } from 'csv-parse/sync';
import { packageRoot } from '../locations.js';
import { pearsonR } from './rank-correlation.js';
import { atLeast, share } from './flags.js';
import { resolveSearchConfig } from '../search/config.js';
import { runSearch } from '../search/engine.js';
import { NAMED_SPACES } from '../space/defaults.js';
import { planNetwork } from '../space/plan.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { flatWeightSource, largestGenome, stridesOf, supernetSpace } from '../space/supernet.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { requireSupernet } from '../train/supernet-cache.js';
import { ResizedSplits, subnetLogits } from '../train/supernet-score.js';
import { SUBNET_BN_IMAGES } from '../train/constants.js';
import type { TensorSplit } from '../train/types.js';
import { accuracyFromLogits, meanLogLikelihood } from '../train/evaluate.js';
import { parseFidelityCsv } from './fidelity-csv.js';
import { fidelityGenomes } from './fidelity-genomes.js';
import { agreement, agreementAtEqualCost, breakEvenCandidates, pairedValues, frontOverlap, perHour, recipeDifferences, referenceCeiling, seedMeans, selectionOutcome, type RankingAgreement, type SelectionOutcome } from './supernet-summary.js';
import { JOURNAL_FILE, readJournal } from '../search/journal.js';
import { latestRecords } from '../search/fidelity.js';
import { readRun } from '../search/run-directory.js';
import { spaceConfigOf } from '../search/config-helpers.js';
import type { EvaluatedRecord } from '../search/types.js';
import { measureQuality, QUALITY_BASELINE } from './supernet-quality.js';

const keys = (value: string): string[] => {
  const list = value.split(',');
  if (!list.every((k) => /^[0-9a-f]{20}$/.test(k))) throw new InvalidArgumentError(`expected supernet keys (20 hex digits, comma-separated), got '${value}'`);
  return list;
};

const program = new Command('bench-supernet')
  .requiredOption('--supernet <key,…>', 'cached supernet key(s) (nas supernet lists them); two keys: two seeds of one recipe', keys)
  .option('--reference <dir>', 'a bench:fidelity --supernet-space output directory (its fidelity.csv)')
  .option('--bn-images <n,…>', "training images each subnet's batch-norm statistics are computed from; several: the ranking at each", (v: string) => v.split(',').map(atLeast(1)), [SUBNET_BN_IMAGES])
  .option('--throughput <n>', 'candidates of the supernet search that measures throughput', atLeast(1))
  .option('--real <n>', 'candidates of the real search beside it', atLeast(1), 4)
  .option('--targets <n>', 'candidates of each of the two target searches', atLeast(1))
  // A shell expands only the first ~ of a comma-separated list: the others are expanded here.
  .option('--predictors <file,…>', 'latency predictor files (nas predictor build) for 1 and for 2 threads: latency.source "predicted" in the searches on that many threads', (v: string) => v.split(',').map((f) => f.replace(/^~(?=\/)/, homedir())))
  .option('--quality <run|targets>', "a supernet search's run directory (or `targets`: the 1-thread target search): its challenger of MobileNetV2 ×0.35 fine-tuned and trained from scratch")
  .option('--fine-tune <e,…>', 'with --quality: epochs of each fine-tuning from inherited weights (0: the inherited weights untrained)', (v: string) => v.split(',').map(atLeast(0)), [0, 1, 2, 5])
  .option('--fine-tune-rate <share>', "with --quality: the fine-tunings' share of the peak learning rate (finalize's --fine-tune-rate; default 0.2)", share)
  .option('--scratch-epochs <n>', "with --quality: epochs of the from-scratch training (finalize's recipe: 30; 0 for none)", atLeast(0), 30)
  .option('--selection <run>', "a supernet search's run directory: every candidate scored on validation and test, and the fronts that ranking by accuracy and by log-likelihood hand over, judged on test")
  .option('--validation-images <n,…>', "with --selection: also rank by the validation split's first n images (read from the same logits), and each --bn-images: what a cheaper scoring loses", (v: string) => v.split(',').map(atLeast(1)), [])
  .option('--seen-images <n>', "with --selection: also rank by n training images the supernet trained on, alone and pooled with the validation split (whether more images help when they are not held out)", atLeast(1))
  .option('--extremes', "each supernet's largest and smallest subnet: accuracy with inherited weights on the validation and the test split")
  .option('--scoring-noise', "with --reference: the first supernet's scores again on the test split, against its scores on validation (the scoring images' own noise)")
  .option('--reference-seeds <n>', 'seeds a genome needs at the reference budget to be ranked (2 is the measurement; 1 gives a provisional figure while the second seeds train)', atLeast(1), 2)
  .option('--data <name|path>', 'dataset', 'fashion-mnist')
  .option('--genomes <n>', "the reference run's --genomes", atLeast(2), 32)
  .option('--pool <n>', "the reference run's --pool", atLeast(2), 512)
  .option('--seed <n>', "the reference run's --seed", atLeast(0), 0)
  .option('--workers <n>', 'scoring and training threads of the searches', atLeast(1), 2)
  .option('--out <dir>', 'where supernet-subnet-scores.csv and supernet.json go', join(packageRoot(), 'results', 'bench'))
  .parse();
const o = program.opts<{ supernet: string[]; selection?: string; validationImages: number[]; seenImages?: number; extremes?: boolean; scoringNoise?: boolean; bnImages: number[]; reference?: string; referenceSeeds: number; predictors: string[]; quality?: string; fineTune: number[]; fineTuneRate?: number; scratchEpochs: number; throughput?: number; real: number; targets?: number; data: string; genomes: number; pool: number; seed: number; workers: number; out: string }>();
mkdirSync(o.out, { recursive: true });
const cpu = cpus()[0]?.model?.trim() || 'unknown CPU';
const summary: Record<string, unknown> = { cpu, date: new Date().toISOString(), supernets: o.supernet };
const tauText = (a: RankingAgreement) => `τ ${a.tau.toFixed(3)} (95%: ${a.tauInterval.low.toFixed(2)} to ${a.tauInterval.high.toFixed(2)}), ρ ${a.rho.toFixed(3)}, ${a.genomes} genomes`;

const dataset = loadDataset(o.data);
const shape = { numClasses: dataset.numClasses, inputChannels: dataset.train.channels };
const supernets = o.supernet.map((key) => ({ key, ...requireSupernet(key) }));
// Each supernet's own validation split: images it never trained on.
const prepared = new Map<string, ReturnType<typeof prepareData>>();
const dataOf = (s: (typeof supernets)[number]) => {
  const split = { validationFraction: s.meta.data.validationFraction, seed: s.meta.data.splitSeed };
  const key = JSON.stringify(split);
  if (!prepared.has(key)) prepared.set(key, prepareData(dataset, split));
  return prepared.get(key)!;
};
/**
 * Scores genomes with `s`'s inherited weights, BN statistics from `bnImages`
 * training images, accuracy on `images` (its validation split, or the test
 * split): the search's own scoring. `prefixes` also reads the scores on the
 * split's first n images, from the same logits (what scoring fewer
 * validation images would rank).
 */
function subnetScorer(s: (typeof supernets)[number], images: ScoringSplit, bnImages: number) {
  const kernelTransform = s.meta.recipe.kernelTransform ?? false;
  const source = flatWeightSource(planNetwork(largestGenome(s.meta.space), stridesOf(s.meta.space), shape), s.weights, kernelTransform);
  const data = dataOf(s);
  const split = images === 'seen' ? seenImages(data.train, o.seenImages!) : data[images];
  const resized = new ResizedSplits(data.train, split, bnImages);
  const count = split.count;
  const scoresOn = (logits: Float32Array, labels: Int32Array) => ({ accuracy: accuracyFromLogits(logits, labels, data.numClasses), logLikelihood: meanLogLikelihood(logits, labels, data.numClasses) });
  return {
    count,
    score: async (genome: Genome, strides: ReturnType<typeof stridesOf>, prefixes: readonly number[] = []) => {
      const splits = resized.at(genome.resolution);
      const { logits } = await subnetLogits(source, planNetwork(genome, strides, shape), splits, bnImages, kernelTransform);
      const { labels } = splits.validation;
      const onPrefix = new Map(prefixes.filter((n) => n < count).map((n) => [n, scoresOn(logits.subarray(0, n * data.numClasses), labels.subarray(0, n))]));
      return { ...scoresOn(logits, labels), onPrefix };
    },
  };
}
/** Where a subnet is scored: the supernet's validation split, the test split, or training images it trained on (--seen-images). */
type ScoringSplit = 'validation' | 'test' | 'seen';
/** The first training image --seen-images scores from: past the BN statistics' first images, so that the two sets differ. */
const SEEN_FROM = 20_000;
/** `n` training images from {@link SEEN_FROM} on: images the supernet trained on. */
function seenImages(train: TensorSplit, n: number): TensorSplit {
  const size = train.height * train.width * train.channels;
  const count = Math.min(n, train.count - SEEN_FROM);
  return { ...train, images: train.images.subarray(SEEN_FROM * size, (SEEN_FROM + count) * size), labels: train.labels.subarray(SEEN_FROM, SEEN_FROM + count), count };
}
// Scores of each (supernet, split, BN images, genome), appended as computed: a rerun scores only what is missing.
// A split `validation:N` is the validation split's first N images; `seen:F+N` the N training images from F on.
const scoresFile = join(o.out, 'supernet-subnet-scores.csv');
const SCORE_COLUMNS = 'supernet,split,bn_images,genome_id,accuracy,log_likelihood,seconds';
const scored = new Map<string, { accuracy: number; logLikelihood: number; seconds: number }>();
if (!existsSync(scoresFile)) writeFileSync(scoresFile, SCORE_COLUMNS + '\n');
for (const r of parse(readFileSync(scoresFile), { columns: true }) as Array<Record<string, string>>) {
  scored.set(`${r.supernet}|${r.split}|${r.bn_images}|${r.genome_id}`, { accuracy: Number(r.accuracy), logLikelihood: Number(r.log_likelihood), seconds: Number(r.seconds) });
}

type Scores = { accuracy: Map<string, number>; logLikelihood: Map<string, number>; seconds: number; images: number };

/**
 * `genomes`' scores by one supernet on one split, from the cache or computed
 * now: accuracy and log-likelihood by id, and the seconds they took; and the
 * same on the split's first n images for each of `prefixes` (one pass gives
 * them all; their seconds are the whole split's).
 */
async function cachedScores(s: (typeof supernets)[number], split: ScoringSplit, bnImages: number, genomes: ReadonlyArray<{ id: string; genome: Genome }>, strides: ReturnType<typeof stridesOf>, prefixes: readonly number[] = []): Promise<Scores & { onPrefix: Map<number, Scores> }> {
  const scorer = subnetScorer(s, split, bnImages);
  const within = [...new Set(prefixes.filter((n) => n < scorer.count))];
  const empty = (images: number): Scores => ({ accuracy: new Map(), logLikelihood: new Map(), seconds: 0, images });
  const whole = empty(scorer.count);
  const onPrefix = new Map(within.map((n) => [n, empty(n)]));
  const name = split === 'seen' ? `seen:${SEEN_FROM}+${scorer.count}` : split;
  const keyOf = (id: string, n?: number) => `${s.key}|${n === undefined ? name : `${name}:${n}`}|${bnImages}|${id}`;
  const keep = (into: Scores, id: string, score: { accuracy: number; logLikelihood: number; seconds: number }) => {
    into.accuracy.set(id, score.accuracy);
    into.logLikelihood.set(id, score.logLikelihood);
    into.seconds += score.seconds;
  };
  for (const g of genomes) {
    let score = scored.get(keyOf(g.id));
    const missing = score === undefined || within.some((n) => !scored.has(keyOf(g.id, n)));
    if (missing) {
      const started = performance.now();
      const result = await scorer.score(g.genome, strides, within);
      const seconds = (performance.now() - started) / 1000;
      const rows: Array<[string, { accuracy: number; logLikelihood: number }]> = [[keyOf(g.id), result], ...within.map((n): [string, { accuracy: number; logLikelihood: number }] => [keyOf(g.id, n), result.onPrefix.get(n)!])];
      for (const [key, r] of rows) {
        if (scored.has(key)) continue;
        const [, splitName] = key.split('|');
        scored.set(key, { ...r, seconds });
        appendFileSync(scoresFile, `${s.key},${splitName},${bnImages},${g.id},${r.accuracy.toFixed(5)},${r.logLikelihood.toFixed(6)},${seconds.toFixed(2)}\n`);
      }
      score = scored.get(keyOf(g.id))!;
    }
    keep(whole, g.id, score!);
    for (const n of within) keep(onPrefix.get(n)!, g.id, scored.get(keyOf(g.id, n))!);
  }
  return { ...whole, onPrefix };
}

for (const s of supernets) console.error(`supernet ${s.key}: ${s.meta.recipe.strategy}, ${s.meta.recipe.epochs} epochs, seed ${s.meta.recipe.seed}, ${(s.meta.trainSeconds / 3600).toFixed(2)} h on ${s.meta.trainedOn}`);

// --- the largest and smallest subnets, on validation and on the test split ---
if (o.extremes) {
  await selectBackend();
  const extremes: Record<string, unknown> = {};
  for (const s of supernets) {
    const sized = supernetSpace(s.meta.space);
    const row: Record<string, number> = {};
    const scorers = { validation: subnetScorer(s, 'validation', SUBNET_BN_IMAGES), test: subnetScorer(s, 'test', SUBNET_BN_IMAGES) };
    for (const [which, genome] of [['largest', sized.largest], ['smallest', sized.smallest]] as const) {
      for (const split of ['validation', 'test'] as const) row[`${which}_${split}`] = (await scorers[split].score(genome, stridesOf(s.meta.space))).accuracy;
      console.log(`supernet ${s.key}, ${which} subnet with inherited weights (BN from ${SUBNET_BN_IMAGES} images): validation ${(row[`${which}_validation`] * 100).toFixed(2)}%, test ${(row[`${which}_test`] * 100).toFixed(2)}% (${scorers.test.count} images)`);
    }
    extremes[s.key] = row;
  }
  summary.extremes = extremes;
}

// --- ranking ---
if (o.reference) {
  await selectBackend();
  const csv = join(o.reference, 'fidelity.csv');
  if (!existsSync(csv)) program.error(`--reference ${o.reference}: no fidelity.csv there (bench:fidelity --supernet-space --out ${o.reference} writes it)`);
  const { rows } = parseFidelityCsv(readFileSync(csv, 'utf8'));
  const space = new MobileNetSpace(supernetSpace(NAMED_SPACES.small).config, shape);
  const { chosen } = fidelityGenomes(space, { seed: o.seed, sampled: o.pool, count: o.genomes });
  const full = rows.filter((r) => r.subset === 'full' && r.seed === String(o.seed));
  const referenceImages = Math.max(...full.map((r) => Number(r.budget_images)));
  const referenceTrainings = full.filter((r) => Number(r.budget_images) === referenceImages).map((r) => ({ genomeId: r.genome_id, replicate: Number(r.replicate), accuracy: Number(r.validation_accuracy) }));
  const reference = seedMeans(referenceTrainings, o.referenceSeeds);
  const proxyRows = rows.filter((r) => r.subset !== 'full' && r.replicate === '0' && r.seed === String(o.seed));
  const proxy = new Map(proxyRows.map((r) => [r.genome_id, Number(r.validation_accuracy)]));
  // A search compares genomes at equal latency: each ranking is also read with the log of analytic latency taken out.
  const logLatency = new Map(proxyRows.map((r) => [r.genome_id, Math.log(Number(r.analytic_latency_ms))]));
  const equalText = (a: RankingAgreement) => `at equal latency τ ${a.tau.toFixed(3)} (95%: ${a.tauInterval.low.toFixed(2)} to ${a.tauInterval.high.toFixed(2)})`;
  const proxySeconds = proxyRows.filter((r) => reference.has(r.genome_id)).reduce((s, r) => s + Number(r.train_seconds), 0);
  console.error(`reference: ${reference.size} of ${chosen.length} genomes have ≥ ${o.referenceSeeds} seed(s) at ${referenceImages} images`);

  const scoresOf = (s: (typeof supernets)[number], split: 'validation' | 'test', bnImages: number) => cachedScores(s, split, bnImages, chosen, stridesOf(space.config));
  // The reference's own noise: the τ no scorer can be expected to pass against its seed mean.
  const ceiling = referenceCeiling(referenceTrainings.filter((t) => reference.has(t.genomeId)), o.referenceSeeds);
  const seedMap = (replicate: number) => new Map(referenceTrainings.filter((t) => t.replicate === replicate && reference.has(t.genomeId)).map((t) => [t.genomeId, t.accuracy]));
  const seedToSeedAtEqualLatency = agreementAtEqualCost(seedMap(0), seedMap(1), logLatency);
  const ranking: Record<string, unknown> = { referenceImages, referenceSeeds: o.referenceSeeds, genomesWithReference: reference.size, referenceCeiling: ceiling, seedToSeedAtEqualLatency };
  console.log(
    `the reference against itself (seed 0 vs seed 1, ${ceiling.genomes} genomes): ${tauText(ceiling.seedToSeed)}, r ${ceiling.r.toFixed(3)}, ${equalText(seedToSeedAtEqualLatency)}; ` +
      `the mean of ${o.referenceSeeds} seed(s) has reliability ${ceiling.meanReliability.toFixed(3)}, so a scorer free of noise reaches τ ≈ ${ceiling.tauCeiling.toFixed(2)} against it at best`,
  );
  const bySupernet: Array<Map<string, number>> = [];
  const bySupernetLogLikelihood: Array<Map<string, number>> = [];
  for (const s of supernets) for (const bnImages of o.bnImages) {
    const { accuracy: scores, logLikelihood, seconds } = await scoresOf(s, 'validation', bnImages);
    if (bnImages === o.bnImages[0]) {
      bySupernet.push(scores);
      bySupernetLogLikelihood.push(logLikelihood);
    }
    const a = agreement(scores, reference);
    const equal = agreementAtEqualCost(scores, reference, logLatency);
    // Ranked by the mean log-probability of the true class instead of top-1: the same logits, less of the images' sampling noise.
    const l = agreement(logLikelihood, reference);
    const lEqual = agreementAtEqualCost(logLikelihood, reference, logLatency);
    // How well the supernet trained its subnets, whatever their order: their mean score over the same genomes (recipes compare on it).
    const mean = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((x, y) => x + y, 0) / Math.max(1, m.size);
    const meanScores = { accuracy: mean(scores), logLikelihood: mean(logLikelihood) };
    ranking[`${s.key}@${bnImages}`] = { ...a, atEqualLatency: equal, byLogLikelihood: { ...l, atEqualLatency: lEqual }, meanScores, bnImages, trainSeconds: s.meta.trainSeconds, scoringSeconds: seconds, scored: chosen.length };
    console.log(`supernet ${s.key} (BN from ${bnImages} images) against the reference: ${tauText(a)}, ${equalText(equal)}; its training ${(s.meta.trainSeconds / 3600).toFixed(2)} h, scoring ${(seconds / chosen.length).toFixed(1)} s a genome`);
    console.log(`  the same subnets ranked by log-likelihood: ${tauText(l)}, ${equalText(lEqual)}`);
    console.log(`  their mean validation accuracy ${(meanScores.accuracy * 100).toFixed(2)}%, mean log-likelihood ${meanScores.logLikelihood.toFixed(4)}`);
  }
  const p = agreement(proxy, reference);
  const pEqual = agreementAtEqualCost(proxy, reference, logLatency);
  // The proxy ranked by its own log-likelihood too, where its rows recorded one (bench:fidelity after session 22): the supernet's ranking score, given to its rival.
  const proxyLogLikelihood = new Map(proxyRows.filter((r) => r.log_likelihood !== '').map((r) => [r.genome_id, Number(r.log_likelihood)]));
  const pl = proxyLogLikelihood.size ? { ...agreement(proxyLogLikelihood, reference), atEqualLatency: agreementAtEqualCost(proxyLogLikelihood, reference, logLatency) } : undefined;
  ranking.proxy = { ...p, atEqualLatency: pEqual, trainSeconds: proxySeconds, ...(pl ? { byLogLikelihood: pl } : {}) };
  console.log(`one-epoch proxy (one seed) against the reference: ${tauText(p)}, ${equalText(pEqual)}; its trainings ${(proxySeconds / 3600).toFixed(2)} h`);
  if (pl) console.log(`  the same trainings ranked by log-likelihood: ${tauText(pl)}, ${equalText(pl.atEqualLatency)}`);
  // The free baselines any accuracy estimator must beat to be worth its compute: "bigger is better" by parameters and by MACs.
  for (const column of ['params', 'macs'] as const) {
    const sizes = new Map(proxyRows.map((r) => [r.genome_id, Number(r[column])]));
    const size = agreement(sizes, reference);
    const sizeEqual = agreementAtEqualCost(sizes, reference, logLatency);
    ranking[column] = { ...size, atEqualLatency: sizeEqual };
    console.log(`${column} alone (no training) against the reference: ${tauText(size)}, ${equalText(sizeEqual)}`);
  }
  // Equal compute at search scale: from this many candidates on, the supernet (its training counted) costs less per candidate than one proxy training.
  const first = ranking[`${supernets[0].key}@${o.bnImages[0]}`] as { trainSeconds: number; scoringSeconds: number; scored: number };
  const scoreSeconds = first.scoringSeconds / Math.max(1, first.scored);
  const proxyPerGenome = proxySeconds / Math.max(1, p.genomes);
  const breakEven = breakEvenCandidates(first.trainSeconds, scoreSeconds, proxyPerGenome);
  ranking.breakEvenCandidates = breakEven;
  console.log(`equal compute: a search of ${Math.ceil(breakEven)} candidates costs the same by either (supernet ${(first.trainSeconds / 3600).toFixed(2)} h + ${scoreSeconds.toFixed(1)} s a candidate, proxy ${proxyPerGenome.toFixed(1)} s a candidate); beyond it the supernet costs less`);
  if (bySupernet.length === 2) {
    const seeds = agreement(bySupernet[0], bySupernet[1]);
    const seedsByLogLikelihood = agreement(bySupernetLogLikelihood[0], bySupernetLogLikelihood[1]);
    // One recipe at two seeds: its seed-to-seed τ. Two recipes: how far apart they rank, their seeds' noise included.
    const differences = recipeDifferences(supernets[0].meta.recipe, supernets[1].meta.recipe);
    ranking.supernetSeeds = { ...seeds, byLogLikelihood: seedsByLogLikelihood, recipeDifferences: differences };
    const label = differences.length ? `the two supernets against each other (${differences.join(', ')})` : 'supernet seed to seed';
    console.log(`${label}: ${tauText(seeds)}; by log-likelihood ${tauText(seedsByLogLikelihood)}`);
    // Paired, genome by genome: on how many does the second supernet give the subnet the better score (two recipes' quality, each genome its own control).
    const [firstLl, secondLl] = pairedValues(bySupernetLogLikelihood[0], bySupernetLogLikelihood[1]);
    const secondBetter = secondLl.filter((v, i) => v > firstLl[i]).length;
    ranking.supernetSeeds = { ...(ranking.supernetSeeds as object), secondBetterByLogLikelihood: secondBetter, paired: firstLl.length };
    console.log(`  supernet ${supernets[1].key} gives the higher log-likelihood on ${secondBetter} of ${firstLl.length} genomes`);
  }
  if (bySupernet.length >= 2) {
    // Each genome's scores averaged over the supernets given (seedMeans' arithmetic): how much of a supernet's disagreement with
    // the reference is its own training noise, which an ensemble averages out at n× the training and scoring.
    const meanOver = (maps: ReadonlyArray<Map<string, number>>) => seedMeans(maps.flatMap((m) => [...m].map(([genomeId, accuracy]) => ({ genomeId, accuracy }))), maps.length);
    const mean = { accuracy: meanOver(bySupernet), logLikelihood: meanOver(bySupernetLogLikelihood) };
    const ensemble: Record<string, unknown> = { supernets: supernets.map((s) => s.key) };
    for (const measure of ['accuracy', 'logLikelihood'] as const) {
      const a = agreement(mean[measure], reference);
      const equal = agreementAtEqualCost(mean[measure], reference, logLatency);
      ensemble[measure] = { ...a, atEqualLatency: equal };
      console.log(`the mean of ${supernets.length} supernets' ${measure === 'accuracy' ? 'accuracies' : 'log-likelihoods'} against the reference: ${tauText(a)}, ${equalText(equal)}`);
    }
    ranking.supernetMean = ensemble;
  }
  if (o.scoringNoise) {
    // The same subnets scored on the 10,000 test images instead of the 6,000 validation ones: how much of a ranking the scoring images decide.
    const s = supernets[0];
    const bnImages = o.bnImages[0];
    const onValidation = await scoresOf(s, 'validation', bnImages);
    const onTest = await scoresOf(s, 'test', bnImages);
    const noise: Record<string, unknown> = { validationImages: onValidation.images, testImages: onTest.images };
    for (const measure of ['accuracy', 'logLikelihood'] as const) {
      const a = agreement(onValidation[measure], onTest[measure]);
      const r = pearsonR(...pairedValues(onValidation[measure], onTest[measure]));
      noise[measure] = { ...a, r };
      console.log(`supernet ${s.key} scored by ${measure === 'accuracy' ? 'accuracy' : 'log-likelihood'} on ${onValidation.images} validation images against on ${onTest.images} test images: ${tauText(a)}, r ${r.toFixed(3)}`);
    }
    ranking.scoringNoise = noise;
  }
  summary.ranking = ranking;
}

// --- selection: what ranking by accuracy or by log-likelihood hands over, judged on the test split ---
if (o.selection) {
  if (!o.bnImages.includes(SUBNET_BN_IMAGES)) program.error(`--selection: --bn-images must include ${SUBNET_BN_IMAGES}, the search's own scoring, which the others are judged beside`);
  await selectBackend();
  const { config, sessions } = readRun(o.selection);
  const session = sessions.at(-1);
  const found = supernets.find((x) => x.key === session?.supernetKey);
  if (!found) program.error(`--selection ${o.selection}: its supernet (${session?.supernetKey ?? 'none recorded'}) is not among --supernet ${o.supernet.join(',')}`);
  const s = found!;
  const evaluated = latestRecords(readJournal(join(o.selection, JOURNAL_FILE)).entries).filter((r): r is EvaluatedRecord => r.state === 'evaluated');
  const strides = stridesOf(spaceConfigOf(config));
  const genomes = evaluated.map((r) => ({ id: r.id, genome: r.genome }));
  console.error(`selection: ${genomes.length} candidates of ${o.selection}, scored on validation and test by supernet ${s.key}`);
  // The held-out truth: test accuracy with the search's own scoring (BN from SUBNET_BN_IMAGES images), whatever setting is judged.
  const onTest = await cachedScores(s, 'test', SUBNET_BN_IMAGES, genomes, strides);
  // The search's latency (predicted or measured, as the run took it); one reference for every front, so that their hypervolumes compare.
  const latency = new Map(evaluated.map((r) => [r.id, r.latency.p50]));
  const reference = { accuracy: Math.min(...onTest.accuracy.values()), latency: Math.max(...latency.values()) };
  const selection: Record<string, unknown> = { run: o.selection, supernet: s.key, candidates: genomes.length, reference };
  /** What ranking by `scores` hands over, judged on test; logged under `label`. */
  const judge = (scores: Scores, measure: 'accuracy' | 'logLikelihood', label: string) => {
    const candidates = genomes.map((g) => ({ id: g.id, latency: latency.get(g.id)!, score: scores[measure].get(g.id)!, heldOut: onTest.accuracy.get(g.id)! }));
    const outcome = selectionOutcome(candidates, reference);
    const a = agreement(scores[measure], onTest.accuracy);
    console.log(`${label}: ${tauText(a)} against test accuracy; its front of ${outcome.front.length} has test hypervolume ${outcome.hypervolume.toFixed(6)}, best test ${(outcome.bestHeldOut * 100).toFixed(2)}%`);
    return { ...outcome, againstTestAccuracy: a };
  };
  // Cheaper scorings (fewer BN images, a prefix of the validation split) judged the same way: what a faster supernet evaluator would lose.
  const cheaper: Array<Record<string, unknown>> = [];
  for (const bnImages of o.bnImages) {
    const onValidation = await cachedScores(s, 'validation', bnImages, genomes, strides, o.validationImages);
    for (const [images, scores] of [[onValidation.images, onValidation] as const, ...[...onValidation.onPrefix].sort(([a], [b]) => b - a)]) {
      const seconds = scores.seconds / genomes.length;
      if (bnImages === SUBNET_BN_IMAGES && images === onValidation.images) {
        // The same scoring as the search's: its journaled accuracies come back (a check that the split and the supernet are the run's).
        const differing = evaluated.filter((r) => Math.abs(r.accuracy - scores.accuracy.get(r.id)!) > 1e-4).length;
        if (differing) console.error(`selection: warning: ${differing} of ${evaluated.length} validation accuracies differ from the run's journal`);
        for (const measure of ['accuracy', 'logLikelihood'] as const) selection[measure] = judge(scores, measure, `ranked by validation ${measure === 'accuracy' ? 'accuracy' : 'log-likelihood'}`);
      } else {
        const byLogLikelihood = judge(scores, 'logLikelihood', `ranked by log-likelihood on ${images} validation images, BN from ${bnImages}`);
        cheaper.push({ bnImages, validationImages: images, scoringSeconds: seconds, logLikelihood: byLogLikelihood });
      }
    }
  }
  const [byAccuracy, byLogLikelihood] = [selection.accuracy, selection.logLikelihood] as SelectionOutcome[];
  selection.shared = frontOverlap(byAccuracy.front, byLogLikelihood.front);
  selection.hypervolumeRatio = byLogLikelihood.hypervolume / byAccuracy.hypervolume;
  console.log(`fronts by log-likelihood and by accuracy share ${(selection.shared as { shared: number }).shared} members; test hypervolume ratio ${(selection.hypervolumeRatio as number).toFixed(3)} (log-likelihood / accuracy) (${cpu})`);
  for (const c of cheaper) {
    const outcome = c.logLikelihood as SelectionOutcome;
    c.sharedWithSearchScoring = frontOverlap(byLogLikelihood.front, outcome.front);
    c.hypervolumeRatio = outcome.hypervolume / byLogLikelihood.hypervolume;
    console.log(`  BN from ${c.bnImages}, ${c.validationImages} validation images: front shares ${(c.sharedWithSearchScoring as { shared: number }).shared} members with the full scoring's, test hypervolume ratio ${(c.hypervolumeRatio as number).toFixed(3)}`);
  }
  selection.cheaperScorings = cheaper;
  if (o.seenImages) {
    // More scoring images without a larger validation split: training images the supernet saw, alone and pooled with the validation split's.
    const onSeen = await cachedScores(s, 'seen', SUBNET_BN_IMAGES, genomes, strides);
    const onValidation = await cachedScores(s, 'validation', SUBNET_BN_IMAGES, genomes, strides);
    const pooled = new Map(genomes.map((g) => [g.id, (onValidation.logLikelihood.get(g.id)! * onValidation.images + onSeen.logLikelihood.get(g.id)! * onSeen.images) / (onValidation.images + onSeen.images)]));
    const seen = judge(onSeen, 'logLikelihood', `ranked by log-likelihood on ${onSeen.images} training images the supernet saw`);
    const both = judge({ ...onValidation, logLikelihood: pooled }, 'logLikelihood', `ranked by log-likelihood on those and the ${onValidation.images} validation images pooled`);
    selection.seenImages = { images: onSeen.images, from: SEEN_FROM, seen, pooled: both };
  }
  summary.selection = selection;
}

/** A search of `evaluations` candidates in a fresh directory; its wall time and front. */
async function timedSearch(label: string, config: Record<string, unknown>) {
  // Under --out, not tmp: a target search's front is what --quality finalizes, possibly sessions later.
  const dir = join(o.out, 'runs', `${label}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const started = performance.now();
  const result = await runSearch(resolveSearchConfig({ data: o.data, seed: o.seed, workers: o.workers, ...config }), { runDir: dir });
  const seconds = (performance.now() - started) / 1000;
  const records = result.records.filter((r) => r.state === 'evaluated');
  const evaluated = records.length;
  // Seconds a worker spent on a candidate (scoring or training), the median: where a candidate's time goes besides latency.
  const each = records.map((r) => r.trainSeconds).sort((a, b) => a - b);
  const medianWorkerSeconds = each.length ? each[Math.floor(each.length / 2)] : Number.NaN;
  console.error(`${label}: ${evaluated} candidates in ${seconds.toFixed(0)} s, a worker's median ${medianWorkerSeconds.toFixed(2)} s a candidate (${dir})`);
  return { dir, seconds, evaluated, perHour: perHour(evaluated, seconds), medianWorkerSeconds, front: result.front.map((r) => r.id) };
}

/** A search's latency on `threads` threads: predicted when --predictors names a file for that many, else measured. */
const latencyOn = (threads: number) => {
  const predictor = o.predictors?.[threads - 1];
  return { iterations: 50, time: 150, threads, ...(predictor ? { predictor, source: 'predicted' } : {}) };
};
const latencyWord = (threads: number) => (o.predictors?.[threads - 1] ? `predicted by ${o.predictors[threads - 1]}` : 'measured');

// Throughput samples at random; a target's search is NSGA-II, so that each front follows its own latency.
const supernetSearch = (evaluations: number, threads: number, algorithm: 'random' | 'nsga2' = 'random') => ({
  evaluator: 'supernet',
  supernet: supernets[0].key,
  searcher: { algorithm, population: 24 },
  budget: { evaluations },
  latency: latencyOn(threads),
});

// --- throughput ---
if (o.throughput) {
  const s = await timedSearch('supernet-throughput', supernetSearch(o.throughput, 1));
  const r = await timedSearch('real-throughput', { searcher: { algorithm: 'random', population: o.real }, budget: { evaluations: o.real }, training: { epochs: 1, subset: 8000 }, teacher: null, latency: latencyOn(1) });
  summary.throughput = { supernet: s, real: r, ratio: s.perHour / r.perHour, latency: latencyWord(1) };
  console.log(`candidates an hour (latency ${latencyWord(1)}, ${o.workers} workers, ${cpu}): supernet ${s.perHour.toFixed(0)}, real ${r.perHour.toFixed(0)} (${(s.perHour / r.perHour).toFixed(1)}×)`);
}

// --- two targets ---
if (o.targets) {
  const one = await timedSearch('target-1-thread', supernetSearch(o.targets, 1, 'nsga2'));
  const two = await timedSearch('target-2-threads', supernetSearch(o.targets, 2, 'nsga2'));
  const overlap = frontOverlap(one.front, two.front);
  summary.targets = { oneThread: { ...one, latency: latencyWord(1) }, twoThreads: { ...two, latency: latencyWord(2) }, overlap };
  console.log(`two targets from one supernet: 1 thread ${one.front.length}-member front in ${(one.seconds / 60).toFixed(1)} min, 2 threads ${two.front.length}-member front in ${(two.seconds / 60).toFixed(1)} min; ${overlap.shared} shared`);
}

// --- quality ---
if (o.quality) {
  const targets = summary.targets as { oneThread: { dir: string } } | undefined;
  if (o.quality === 'targets' && !targets) program.error('--quality targets: needs --targets in the same run (or give a run directory)');
  const runDir = o.quality === 'targets' ? targets!.oneThread.dir : o.quality;
  const rows = await measureQuality({ runDir, fineTuneEpochs: o.fineTune, fineTuneRate: o.fineTuneRate, scratchEpochs: o.scratchEpochs, out: o.out, cpu, log: (line) => console.error(line) });
  summary.quality = rows;
  for (const r of rows) console.log(`quality ${r.setting}: ${r.genome_id} test ${(r.test_accuracy * 100).toFixed(2)}% (search ${(r.search_accuracy * 100).toFixed(2)}%), p50 ${r.latency_ms.toFixed(4)} ms against ${QUALITY_BASELINE}'s ${r.baseline_latency_ms.toFixed(4)} ms, ${r.train_seconds} s`);
}

writeFileSync(join(o.out, 'supernet.json'), JSON.stringify(summary, null, 2) + '\n');
console.error(`wrote ${join(o.out, 'supernet.json')}`);
