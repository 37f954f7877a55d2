/**
 * `npm run bench:search -- --real`: multi- against single-fidelity NSGA-II at
 * equal compute on the real evaluator (issue 10, part 3), full Fashion-MNIST.
 *
 * Per seed, two searches of the overnight preset's candidate work (1 epoch on
 * a fixed 8,000-image subset, latency measured, models under 1 ms, no
 * teacher), each given the same compute in images trained (every rung
 * counted): single-fidelity (every candidate trained once) and multi-fidelity
 * (3 rungs, η 3: the best third train on to 3× and 9× the images). At each
 * checkpoint (a share of that compute) the front each search would hand over
 * is taken from its journal; every member of every such front is then trained
 * from scratch at the top rung's budget (9 epochs of the same subset, 72,000
 * images, one cosine schedule), every member's latency measured again in one
 * interleaved session per seed, and the hypervolume computed from those: a
 * front member that rode a lucky first training, or a lucky latency
 * measurement, loses that luck here.
 *
 * Everything resumes: the searches' run directories under
 * results/bench/search-real/ (their journals), and every top-budget training
 * appended to results/bench/search-real-top.csv as it finishes. A killed
 * bench restarts where it stopped; the summary is written when every
 * training it needs is in.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { compareModels } from '../benchmarks/compare.js';
import { objectivesOf, resolveSearchConfig, type SearchConfig, type SearchConfigInput } from '../search/config.js';
import { spaceConfigOf } from '../search/config-helpers.js';
import { runSearch } from '../search/engine.js';
import { trainingJobFor } from '../search/evaluators.js';
import { baseTrainingImages, ledgerFor, rungOf } from '../search/fidelity.js';
import { Journal, JOURNAL_FILE } from '../search/journal.js';
import { hypervolumeOf } from '../search/objectives.js';
import { OVERNIGHT } from '../search/presets.js';
import { readRunConfig } from '../search/run-directory.js';
import type { CandidateRecord, EvaluatedRecord } from '../search/types.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { MobileNetSpace } from '../space/space.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { datasetContentHash } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';
import { frontAfter, HAND_OVER_RULES, type HandOverRule, type LineCost } from './hand-over.js';

/** The overnight preset's first training: 1 epoch of an 8,000-image subset. */
export const REAL_BASE_SUBSET = 8000;
const RUNGS = 3;
const ETA = 3;
/** The top rung's budget in epochs of the subset (72,000 images). */
export const REAL_TOP_EPOCHS = ETA ** (RUNGS - 1);
/** Measuring time per model in the interleaved latency run (ms). */
const LATENCY_MS_PER_MODEL = 2000;
/** A top-budget training still running after this long is a failure. */
const TOP_TIME_LIMIT_SECONDS = 2 * 3600;

export const REAL_VARIANTS = {
  single: { label: 'single-fidelity', fidelity: undefined },
  multi: { label: `multi-fidelity ${RUNGS} rungs, η ${ETA}`, fidelity: { rungs: RUNGS, eta: ETA } },
} as const;
export type RealVariant = keyof typeof REAL_VARIANTS;

export interface RealComparisonOptions {
  data: string;
  seeds: readonly number[];
  /** Compute of each search, in first trainings (units of 8,000 images). */
  compute: number;
  population: number;
  workers: number;
  /** Shares of the compute at which the handed-over front is measured; 1 (the end, the verdict's reference) is added when missing. */
  checkpoints: readonly number[];
  outDir: string;
  log: (line: string) => void;
}

/** The search configuration of one variant and seed. */
export function realComparisonConfig(o: Pick<RealComparisonOptions, 'data' | 'compute' | 'population' | 'workers'>, variant: RealVariant, seed: number, baseImages = REAL_BASE_SUBSET): SearchConfig {
  const input: SearchConfigInput = {
    ...OVERNIGHT,
    name: `bench-search-real-${variant}-${seed}`,
    data: o.data,
    seed,
    teacher: null,
    searcher: { algorithm: 'nsga2', population: o.population },
    budget: { images: o.compute * baseImages },
    training: { epochs: 1, subset: REAL_BASE_SUBSET },
    fidelity: REAL_VARIANTS[variant].fidelity,
    // No predictor file here: every candidate is measured.
    latency: { iterations: 100, time: 500 },
    workers: o.workers,
    hypervolumeReference: { latencyMs: 1 },
  };
  return resolveSearchConfig(input);
}

/** A dataset name or path as one directory name. */
const runDirSafe = (data: string) => data.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'data';

/** Shares of compute times first trainings, without binary-fraction tails (0.6·36 = 21.599999…). */
const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Columns of search-real-top.csv: one top-budget training of one genome under one seed. */
const TOP_COLUMNS = ['seed', 'genome_id', 'params', 'macs', 'top_accuracy', 'train_seconds', 'data'] as const;
type TopRow = Record<(typeof TOP_COLUMNS)[number], string>;

/** The complete rows of search-real-top.csv (a torn last line, left by a kill, is dropped). */
export function parseTopCsv(text: string): TopRow[] {
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  const rows = parse(whole, { columns: true, relax_column_count: true, skip_empty_lines: true }) as Array<Partial<TopRow>>;
  return rows.filter((r): r is TopRow => TOP_COLUMNS.every((c) => r[c] !== undefined && r[c] !== '') && Number.isFinite(Number(r.top_accuracy)) && Number.isInteger(Number(r.seed)));
}

/** One search's handed-over front at one checkpoint. */
export interface HandOver {
  seed: number;
  variant: RealVariant;
  rule: HandOverRule;
  share: number;
  front: EvaluatedRecord[];
  config: SearchConfig;
  runDir: string;
}

export async function runRealComparison(o: RealComparisonOptions): Promise<void> {
  const started = performance.now();
  const checkpoints = [...new Set([...o.checkpoints, 1])].sort((a, b) => a - b);
  mkdirSync(join(o.outDir, 'search-real'), { recursive: true });
  const dataset = loadDataset(o.data);
  const dataHash = datasetContentHash(dataset);
  // A first training's images: the subset, or the whole training split when smaller (the bundled sample).
  const probe = realComparisonConfig(o, 'single', o.seeds[0]);
  const baseImages = baseTrainingImages(probe, prepareData(dataset, { validationFraction: probe.validationFraction, seed: probe.seed }).train.count);
  const topCsv = join(o.outDir, 'search-real-top.csv');
  const top = new Map<string, TopRow>();
  const topKey = (seed: number, id: string) => `${seed}|${id}`;
  if (existsSync(topCsv)) {
    for (const r of parseTopCsv(readFileSync(topCsv, 'utf8'))) if (r.data === dataHash) top.set(topKey(Number(r.seed), r.genome_id), r);
    // Rewritten whole so that appends follow a complete last line.
    writeFileAtomic(topCsv, stringify([...top.values()], { header: true, columns: [...TOP_COLUMNS] }));
  } else writeFileAtomic(topCsv, stringify([], { header: true, columns: [...TOP_COLUMNS] }));

  // 1. The searches (each resumes from its journal).
  const handOvers: HandOver[] = [];
  for (const seed of o.seeds) {
    for (const variant of Object.keys(REAL_VARIANTS) as RealVariant[]) {
      const runDir = join(o.outDir, 'search-real', `${runDirSafe(o.data)}-seed-${seed}-${variant}`);
      const resume = existsSync(join(runDir, JOURNAL_FILE));
      const wanted = realComparisonConfig(o, variant, seed, baseImages);
      if (resume) {
        // The run's own config.json wins on resume: refuse one made with other settings rather than mix them.
        const kept = readRunConfig(runDir).config;
        if (kept.budget.images !== wanted.budget.images || kept.searcher.population !== wanted.searcher.population) {
          throw new Error(`${runDir}: made with ${kept.budget.images} images of compute and population ${kept.searcher.population}, not ${wanted.budget.images} and ${wanted.searcher.population}; pass those, or move the directory away`);
        }
      }
      const t0 = performance.now();
      o.log(`${REAL_VARIANTS[variant].label}, seed ${seed}: ${resume ? 'resuming' : 'starting'} (${o.compute} first trainings of compute) in ${runDir}`);
      const result = await runSearch(resume ? null : wanted, {
        runDir,
        resume,
        onGeneration: (e) => o.log(`  generation ${e.generation}: ${e.evaluations} trained, ${e.imagesTrained} images${e.rungCounts ? ` (rungs ${e.rungCounts.join('/')})` : ''}, search hypervolume ${e.hypervolume.toFixed(4)}, ${(e.elapsedSeconds / 60).toFixed(1)} min`),
      });
      o.log(`  done in ${((performance.now() - t0) / 60_000).toFixed(1)} min: ${result.imagesTrained} images trained, stop: ${result.stopReason}`);
      // The journal's own order is the order compute was spent; a resumed run's `lines` replay
      // each generation in the searcher's order instead, which would move the checkpoints.
      const opened = Journal.open(join(runDir, JOURNAL_FILE));
      opened.journal.close();
      const spentOrder: CandidateRecord[] = opened.entries.map(({ at: _at, ...record }) => record as CandidateRecord);
      const ledger = ledgerFor(result.config, baseImages, objectivesOf(result.config));
      const cost: LineCost = (r: CandidateRecord) => (ledger ? ledger.sessionImages(rungOf(r)) : baseImages);
      // Without promotions both rules give the same front: the single-fidelity search is read once.
      for (const rule of variant === 'multi' ? HAND_OVER_RULES : (['highest-rung'] as const)) {
        for (const share of checkpoints) handOvers.push({ seed, variant, rule, share, front: frontAfter(spentOrder, result.config, share * o.compute * baseImages, cost, rule), config: result.config, runDir });
      }
    }
  }

  // 2. Every handed-over front member trained at the top budget, once per seed.
  const todo = new Map<string, { seed: number; record: EvaluatedRecord; config: SearchConfig }>();
  for (const h of handOvers) for (const r of h.front) if (!top.has(topKey(h.seed, r.id))) todo.set(topKey(h.seed, r.id), { seed: h.seed, record: r, config: h.config });
  o.log(`top budget (${REAL_TOP_EPOCHS} epochs of ${baseImages} images): ${todo.size} front members to train, ${top.size} already measured`);
  if (todo.size) {
    const pool = new TrainingPool({ threads: o.workers });
    const queue = [...todo.values()];
    let finished = 0;
    await Promise.all(
      Array.from({ length: o.workers }, async () => {
        for (let t = queue.shift(); t; t = queue.shift()) {
          const config: SearchConfig = { ...t.config, fidelity: undefined, training: { ...t.config.training, epochs: REAL_TOP_EPOCHS, subset: REAL_BASE_SUBSET, images: undefined } };
          const space = new MobileNetSpace(spaceConfigOf(config), { numClasses: dataset.numClasses, inputChannels: dataset.train.channels });
          const job = trainingJobFor({ space, config, teacherKey: null, dataContentHash: dataHash }, t.record.genome, t.record.id);
          const result = await pool.run({ job, dataSpec: o.data }, new AbortController().signal, TOP_TIME_LIMIT_SECONDS);
          const row: TopRow = {
            seed: String(t.seed),
            genome_id: t.record.id,
            params: String(t.record.params),
            macs: String(t.record.macs),
            top_accuracy: result.accuracy.toFixed(5),
            train_seconds: result.trainSeconds.toFixed(1),
            data: dataHash,
          };
          appendFileSync(topCsv, stringify([row], { columns: [...TOP_COLUMNS] }));
          top.set(topKey(t.seed, t.record.id), row);
          o.log(`  ${++finished}/${todo.size} seed ${t.seed} · ${t.record.id}: ${(t.record.accuracy * 100).toFixed(2)}% in the search → ${(result.accuracy * 100).toFixed(2)}% at the top budget (${result.trainSeconds.toFixed(0)} s)`);
        }
      }),
    );
    await pool.close();
  }

  // 3. Latency: a genome on both searches' fronts was measured once by each, and a sub-millisecond
  // model's p50 moves ±10% between measurements here; so every front member of a seed is measured
  // again, interleaved in one session, and both searches' fronts use those figures.
  const latencyOf = new Map<string, number>();
  for (const seed of o.seeds) {
    const members = new Map<string, string>();
    for (const h of handOvers) if (h.seed === seed) for (const r of h.front) members.set(r.id, join(h.runDir, 'candidates', r.id, 'model.onnx'));
    o.log(`latency: ${members.size} front members of seed ${seed}, interleaved`);
    const measured = await compareModels([...members].map(([name, source]) => ({ name, source })), { time: LATENCY_MS_PER_MODEL, iterations: 200, session: { intraOpThreads: 1 } });
    for (const m of measured) {
      if (m.state === 'errored') throw new Error(`latency of ${m.model} (seed ${seed}): ${m.error.message}`);
      latencyOf.set(topKey(seed, m.model), m.stats.p50);
    }
  }

  // 4. Hypervolumes.
  const rows = handOvers.map((h) => {
    const measured = h.front.map((r) => {
      const p50 = latencyOf.get(topKey(h.seed, r.id))!;
      return { ...r, accuracy: Number(top.get(topKey(h.seed, r.id))!.top_accuracy), latency: { ...r.latency, p50 } };
    });
    return {
      seed: h.seed,
      variant: REAL_VARIANTS[h.variant].label,
      hand_over: h.rule,
      compute_share: h.share,
      compute_base_trainings: round(h.share * o.compute),
      front_size: h.front.length,
      front_top_rung_members: h.front.filter((r) => rungOf(r) === (h.config.fidelity?.rungs ?? 1) - 1).length,
      // As the search measured it: its own accuracies and latencies.
      search_hv: Number(hypervolumeOf(h.front, h.config).toFixed(6)),
      top_budget_hv: Number(hypervolumeOf(measured, h.config).toFixed(6)),
    };
  });
  writeFileAtomic(join(o.outDir, 'search-real.csv'), stringify(rows, { header: true }));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const hvAt = (variant: RealVariant, rule: HandOverRule, share: number) =>
    mean(rows.filter((r) => r.variant === REAL_VARIANTS[variant].label && r.hand_over === rule && r.compute_share === share).map((r) => r.top_budget_hv));
  const cpu = cpus()[0]?.model ?? 'unknown';
  console.log(`\nreal evaluator, ${o.data}, NSGA-II ${o.population} per generation, ${o.compute} first trainings of ${baseImages} images each, seeds ${o.seeds.join(', ')}; ${cpu}`);
  console.log(`mean hypervolume of the handed-over front, every member trained at ${REAL_TOP_EPOCHS * baseImages} images:`);
  console.log(`| share of compute | first trainings | ${REAL_VARIANTS.single.label} | ${REAL_VARIANTS.multi.label}, front at highest rung | ${REAL_VARIANTS.multi.label}, compared at common rung |`);
  console.log('|---:|---:|---:|---:|---:|');
  for (const share of checkpoints) console.log(`| ${share} | ${round(share * o.compute)} | ${hvAt('single', 'highest-rung', share).toFixed(4)} | ${hvAt('multi', 'highest-rung', share).toFixed(4)} | ${hvAt('multi', 'common-rung', share).toFixed(4)} |`);
  const target = hvAt('single', 'highest-rung', 1);
  const verdict: Record<string, string> = {};
  for (const rule of HAND_OVER_RULES) {
    const reached = checkpoints.find((s) => hvAt('multi', rule, s) >= target - 1e-9);
    verdict[rule] = reached === undefined ? 'not within its compute' : `with ${Math.round(reached * 100)}% of the compute`;
    console.log(`multi-fidelity (${rule} front) reaches single-fidelity's final hypervolume (${target.toFixed(4)}) ${verdict[rule]}`);
  }
  console.log(`wall time ${((performance.now() - started) / 60_000).toFixed(1)} min (this invocation); rows in ${join(o.outDir, 'search-real.csv')}`);
  writeFileAtomic(
    join(o.outDir, 'search-real.json'),
    JSON.stringify({ date: new Date().toISOString(), cpu, data: o.data, seeds: o.seeds, compute: o.compute, population: o.population, checkpoints, baseImages, topImages: REAL_TOP_EPOCHS * baseImages, verdict, rows }, null, 2) + '\n',
  );
}
