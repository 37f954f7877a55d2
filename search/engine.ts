/**
 * `runSearch`: the overnight loop. Each generation the searcher proposes new
 * genomes; cheap constraints (params, MACs) reject first, then latency is
 * measured on the untrained ONNX model (one at a time; locally never while
 * training runs) and checked, then the feasible genomes train in parallel
 * workers, longest first.
 * Every finished candidate is journaled before it counts. A resumed run
 * replays the journal through the same seeded searcher, so it asks for the
 * same genomes and re-runs only those that were in flight.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ONNX_FILE } from '../space/candidate-files.js';
import type { MobileNetSpace } from '../space/space.js';
import { prepareData } from '../train/datasets/prepared.js';
import type { BackendName } from '../train/backend.js';
import { readTeacherMeta, teacherKey as teacherKeyOf, teacherLogits } from '../train/teacher.js';
import { teacherEpochLine, teacherProgressLines, teacherTrainingNote, validationCurveLine } from '../train/teacher-progress.js';
import { datasetContentHash } from '../train/training-job.js';
import { AgingEvolution } from './aging-evolution.js';
import { newRunConfig, objectivesOf, SearchConfigError, stoppingRuleProblem, type SearchBudget, type SearchConfig } from './config.js';
import { runSetting, spaceConfigOf } from './config-helpers.js';
import { captureRunEnvironment } from './environment.js';
import { baseTrainingImages, journalKey, ledgerFor, rungOf } from './fidelity.js';
import { LocalTrainer, ProxyEvaluator, RealEvaluator } from './evaluators.js';
import { evaluateGeneration, type PromotionWork } from './generation.js';
import { Journal, JOURNAL_FILE, readJournal, type JournalEntry } from './journal.js';
import { Nsga2 } from './nsga2.js';
import { SupernetTrainer, supernetKeyOf, supernetSearchSpace } from './supernet-trainer.js';
import { frontOf, hypervolumeOf } from './objectives.js';
import { RandomSearch } from './random-search.js';
import { redisUrlProblem } from '../train/queue/redis-url.js';
import { writeRunReport } from './report.js';
import { createRunDir, reopenRunDir } from './run-directory.js';
import type { CandidateEvaluator, CandidateRecord, EvaluatedRecord, GenerationEvent, Searcher, StopReason } from './types.js';

/** How {@link runSearch} runs; all optional. */
export interface RunSearchOptions {
  /** Where the run writes. @default results/<config.name or a timestamp> under the current directory */
  runDir?: string;
  /** Continue the run in `runDir` from its journal (config.json there wins). */
  resume?: boolean;
  /** Abort to stop cleanly: in-flight candidates are dropped (and re-run on resume). */
  signal?: AbortSignal;
  onGeneration?: (event: GenerationEvent) => void;
  onCandidate?: (record: CandidateRecord) => void;
  /** One line of what is going on (teacher, resume, repairs). */
  log?: (line: string) => void;
  /** When the default run directory already holds a run, use `<name>-2`, `-3`… instead of refusing. */
  uniqueRunDir?: boolean;
  /** Evaluator override (tests). */
  evaluator?: CandidateEvaluator;
  /** Training worker override (tests). */
  trainWorkerFile?: string;
  /** Latency override for the real evaluator (tests: analytic latency with real training, so runs compare exactly). */
  measureLatency?: CandidateEvaluator['latency'];
  /** tfjs backend of the training workers (the global `nas --backend`); a queue worker's own applies when 'auto'. @default 'auto' */
  backend?: BackendName | 'auto';
  /** Train through the Redis queue at this URL; overrides config.redis (e.g. a resumed run whose Redis moved). */
  redis?: string;
  /** With Redis: the directory the workers write candidates' files to. @default files come back through Redis */
  sharedDir?: string;
  /** Resume only: a new budget for the run (replacing its budget as a whole), recorded in the journal. */
  budget?: SearchBudget;
  /** Once the run directory is known, before the data and any teacher: what will run and where it writes. */
  onStart?: (event: SearchStart) => void;
  /** The teacher's progress (images done of total), from its first batch; lines go to `log` at each tenth either way. */
  onTeacherProgress?: (done: number, total: number) => void;
  /** With `"supernet": { "train": … }`: the supernet's training progress (images done of total). */
  onSupernetProgress?: (done: number, total: number) => void;
}

/** What a search is about to do: its configuration, its budget (a resume's may differ from config.json's) and its directory. */
export interface SearchStart {
  runDir: string;
  config: SearchConfig;
  budget: SearchBudget;
  resumed: boolean;
}

/** A finished (or interrupted) search: where it wrote, what it evaluated, its front. */
export interface SearchResult {
  runDir: string;
  config: SearchConfig;
  /** One record per candidate, at its highest rung. */
  records: CandidateRecord[];
  /** Every journal line in order: with multi-fidelity, a candidate's result at each rung. */
  lines: CandidateRecord[];
  /** Images trained in all, every rung counted: the run's compute. */
  imagesTrained: number;
  front: EvaluatedRecord[];
  hypervolume: number;
  generations: number;
  stopReason: StopReason;
}

/** A new run's directory made, or a resumed run's reopened, with its configuration and id. */
function openRun(input: SearchConfig | null, options: RunSearchOptions): { runDir: string; config: SearchConfig; runId: string } {
  if (options.resume) {
    if (!options.runDir) throw new SearchConfigError('resume needs the run directory');
    return { runDir: options.runDir, ...reopenRunDir(options.runDir) };
  }
  if (!input) throw new SearchConfigError('runSearch needs a configuration (or resumeSearch(runDir) to continue a run)');
  const noStop = stoppingRuleProblem(input.budget);
  if (noStop) throw new SearchConfigError(`config: ${noStop}`);
  const config = newRunConfig(input);
  return { config, ...createRunDir(config, options) };
}

function makeSearcher(config: SearchConfig, space: MobileNetSpace, isSeen: (id: string) => boolean): Searcher {
  const s = config.searcher;
  const objectives = objectivesOf(config);
  if (s.algorithm === 'nsga2') return new Nsga2(space, objectives, s, config.seed, isSeen);
  if (s.algorithm === 'aging') return new AgingEvolution(space, objectives, s, config.seed, isSeen);
  return new RandomSearch(space, s, config.seed, isSeen);
}

/** How {@link resumeSearch} runs: {@link RunSearchOptions} less where the run is and whether it resumes. */
export type ResumeSearchOptions = Omit<RunSearchOptions, 'runDir' | 'resume' | 'uniqueRunDir'>;

/** Continues the run in `runDir` from its journal; its config.json wins over anything else. */
export function resumeSearch(runDir: string, options: ResumeSearchOptions = {}): Promise<SearchResult> {
  return runSearch(null, { ...options, runDir, resume: true });
}

/**
 * Runs a new search with `input`; see the file comment. `runSearch(null, {
 * runDir, resume: true })` is the older spelling of {@link resumeSearch}.
 */
export async function runSearch(input: SearchConfig | null, options: RunSearchOptions = {}): Promise<SearchResult> {
  const { runDir, config, runId } = openRun(input, options);
  // A resume's budget: the one given now, else the last one a resume recorded, else config.json's.
  const recordedBudget = options.resume ? readJournal(join(runDir, JOURNAL_FILE)).budgets.at(-1)?.budget : undefined;
  const noStop = options.resume && options.budget ? stoppingRuleProblem(options.budget) : null;
  if (noStop) throw new SearchConfigError(`resume: ${noStop}`);
  const budget = options.resume && options.budget ? options.budget : (recordedBudget ?? config.budget);
  options.onStart?.({ runDir, config, budget, resumed: !!options.resume });
  const redisUrl = options.redis ?? config.redis;
  if (redisUrl !== undefined) {
    const problem = redisUrlProblem(redisUrl);
    if (problem) throw new SearchConfigError(`redis: ${problem}`);
  }
  const distributed = redisUrl !== undefined && config.evaluator === 'real' && !options.evaluator;
  // Reached and its settings checked before the data and any teacher training: a bad Redis fails at once.
  if (distributed) (await (await import('../train/queue/redis-connection.js')).connectRedis(redisUrl, 'redis')).disconnect();
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const started = performance.now();

  // A supernet search samples the configured space narrowed as its supernet was (refused here if the supernet cannot score it).
  const supernetKey = config.evaluator === 'supernet' ? await supernetKeyOf(config, { log, backend: options.backend, onProgress: options.onSupernetProgress }) : null;
  const supernet = supernetKey !== null ? supernetSearchSpace(spaceConfigOf(config), supernetKey) : null;
  if (supernet) log(`supernet ${supernetKey}: ${supernet.meta.data.name}, ${supernet.meta.recipe.strategy}, ${supernet.meta.recipe.epochs} epochs, trained on ${supernet.meta.trainedOn}`);
  const { dataset, space, teacherSpec } = runSetting(config, supernet?.config);
  let teacherKey: string | null = null;
  // A supernet run validates on its supernet's split, the images the inherited weights never trained on; finalize trains and validates on the run's split.
  const split = supernet ? { validationFraction: supernet.meta.data.validationFraction, seed: supernet.meta.data.splitSeed } : { validationFraction: config.validationFraction, seed: config.seed };
  const data = prepareData(dataset, split);
  const objectives = objectivesOf(config);
  const baseImages = baseTrainingImages(config, data.train.count);
  const ledger = ledgerFor(config, baseImages, objectives);
  if (teacherSpec && config.evaluator === 'real') {
    const lines = teacherProgressLines(teacherSpec, log);
    const progress = options.onTeacherProgress;
    const teacher = await teacherLogits(data, teacherSpec, progress ? (done, total) => (progress(done, total), lines(done, total)) : lines, (e) => log(teacherEpochLine(e)));
    teacherKey = teacher.key;
    log(`teacher: ${teacher.description}; test accuracy ${(teacher.testAccuracy * 100).toFixed(2)}%${teacherTrainingNote(teacher)}${teacher.fromCache ? ' (cached logits)' : ''}`);
    const curve = validationCurveLine(teacher);
    if (curve) log(`teacher ${curve}`);
  } else if (teacherSpec && supernet) {
    // Scoring distils nothing, so the teacher is not computed for the search: its key is recorded for nas finalize,
    // which distils it into the front. A { "train": … } supernet distilled the same teacher on the same split, so its logits are cached under this key.
    teacherKey = teacherKeyOf(data, teacherSpec);
    log(`teacher ${teacherKey}: not needed to score subnets; nas finalize distils it${readTeacherMeta(teacherKey) ? ' (its logits are cached)' : ' (and computes it first)'}`);
  }
  await captureRunEnvironment(runDir, config, teacherKey, supernetKey, split);

  if (config.latency.agent && config.evaluator === 'real' && !process.env.NAS_AGENT_TOKEN) {
    throw new SearchConfigError(`latency.agent is ${config.latency.agent}: set NAS_AGENT_TOKEN to its token`);
  }
  const { journal, entries, repairedTornLine } = Journal.open(join(runDir, JOURNAL_FILE));
  if (repairedTornLine) log(`journal: dropped a torn last line (the previous run was killed mid-write)`);
  if (entries.length) log(`resuming: ${entries.length} candidates already in the journal`);
  if (options.resume && options.budget) {
    journal.appendBudget(options.budget);
    log(`budget: ${JSON.stringify(options.budget)} from now on, replacing ${JSON.stringify(recordedBudget ?? config.budget)} (recorded in the journal)`);
  }
  const journaled = new Map<string, JournalEntry>(entries.map((e) => [journalKey(e), e]));

  let evaluator: CandidateEvaluator | null = options.evaluator ?? (config.evaluator === 'proxy' ? new ProxyEvaluator(space, { delayMs: config.proxyDelayMs, baseImages }) : null);
  if (!evaluator) {
    const context = { space, config, runDir, teacherKey, dataContentHash: datasetContentHash(dataset), backend: options.backend };
    let trainer;
    if (distributed) {
      // bullmq and ioredis load only for a run that trains through a queue.
      const { QueueTrainer } = await import('./queue-evaluator.js');
      const queue = await QueueTrainer.open({ ...context, runId, redisUrl: redisUrl!, sharedDir: options.sharedDir }).catch((error: unknown) => {
        journal.close();
        throw error;
      });
      log(`training through ${queue.describe()}: start 'nas worker --redis <url>' on each machine`);
      trainer = queue;
    } else if (supernet) {
      trainer = new SupernetTrainer({ config, supernet: supernet.meta, space: space.config, runDir, dataContentHash: context.dataContentHash, backend: options.backend });
    } else {
      trainer = new LocalTrainer({ ...context, trainWorkerFile: options.trainWorkerFile });
    }
    evaluator = new RealEvaluator({ space, config, runDir, trainer, measureLatency: options.measureLatency });
  }
  const seen = new Set<string>();
  const searcher = makeSearcher(config, space, (id) => seen.has(id));
  // `lines`: every journal line in order (all rungs); `records`: one per candidate, at its highest rung.
  const lines: CandidateRecord[] = [];
  const records: CandidateRecord[] = [];
  const position = new Map<string, number>();
  let imagesTrained = 0;
  const deadline = budget.time !== undefined ? started + budget.time * 1000 : Infinity;
  const trained = () => records.filter((r) => r.state === 'evaluated' || (r.state === 'failed' && r.stage === 'training')).length;
  const finish = (record: CandidateRecord, fromJournal: boolean) => {
    if (!fromJournal) journal.append(record);
    lines.push(record);
    const rung = rungOf(record);
    if (rung === 0) {
      position.set(record.id, records.length);
      records.push(record);
    } else if (record.state === 'evaluated') {
      records[position.get(record.id)!] = record;
    }
    if (record.state === 'evaluated') ledger?.add(record);
    if (record.state === 'evaluated' || (record.state === 'failed' && record.stage === 'training')) imagesTrained += ledger ? ledger.sessionImages(rung) : baseImages;
    options.onCandidate?.(record);
  };

  let generation = 0;
  let stopReason: StopReason | null = null;
  try {
    while (!stopReason) {
      if (signal.aborted) stopReason = 'interrupted';
      else if (budget.generations !== undefined && generation >= budget.generations) stopReason = 'generations';
      else if (budget.evaluations !== undefined && trained() >= budget.evaluations) stopReason = 'evaluations';
      else if (budget.images !== undefined && imagesTrained >= budget.images) stopReason = 'images';
      else if (performance.now() >= deadline) stopReason = 'time';
      if (stopReason) break;

      const genomes = searcher.ask();
      if (genomes.length === 0) {
        stopReason = 'exhausted';
        break;
      }
      const ids = genomes.map((g) => space.id(g));
      // Promotions are decided here, from every result of the generations before (so before
      // this generation's journaled results are replayed): the same results give the same promotions.
      const promotions = ledger?.takePromotions() ?? [];
      const done = new Map<string, CandidateRecord>();
      for (const id of ids) {
        const entry = journaled.get(id);
        if (entry) {
          const { at: _at, ...record } = entry;
          done.set(id, record as CandidateRecord);
          finish(record as CandidateRecord, true);
        }
      }
      const pending = genomes.map((genome, i) => ({ genome, id: ids[i] })).filter(({ id }) => !done.has(id));
      const promoted = new Map<string, CandidateRecord>();
      const toPromote: PromotionWork[] = [];
      for (const p of promotions) {
        const key = `${p.id}@${p.to}`;
        const entry = journaled.get(key);
        if (entry) {
          const { at: _at, ...record } = entry;
          promoted.set(key, record as CandidateRecord);
          finish(record as CandidateRecord, true);
        } else {
          toPromote.push({ from: records[position.get(p.id)!] as EvaluatedRecord, rung: ledger!.budget(p.to) });
        }
      }
      const complete = await evaluateGeneration(pending, generation, {
        config, space, evaluator, signal, deadline, distributed,
        remainingBudget: budget.evaluations === undefined ? Infinity : budget.evaluations - trained(),
        firstRung: ledger?.budget(0),
        promotions: toPromote,
        onRecord: (r) => {
          if (rungOf(r) > 0) promoted.set(journalKey(r), r);
          else done.set(r.id, r);
          finish(r, false);
        },
      });
      if (!complete) {
        stopReason = signal.aborted ? 'interrupted' : performance.now() >= deadline ? 'time' : 'evaluations';
        break;
      }
      for (const id of ids) seen.add(id);
      // Better-trained results reach selection in the order promotions were decided, not as they finished.
      for (const p of promotions) {
        const result = promoted.get(`${p.id}@${p.to}`);
        if (result?.state === 'evaluated') searcher.update?.(result);
      }
      searcher.tell(ids.map((id) => done.get(id)!));
      await writeRunReport(runDir, config, lines, { final: false });
      const frontSize = frontOf(records, objectives).length;
      const elapsedSeconds = (performance.now() - started) / 1000;
      const perEvaluation = trained() ? elapsedSeconds / trained() : null;
      const byEvaluations = budget.evaluations !== undefined && perEvaluation !== null ? (budget.evaluations - trained()) * perEvaluation : Infinity;
      const byTime = Number.isFinite(deadline) ? (deadline - performance.now()) / 1000 : Infinity;
      const byGenerations = budget.generations !== undefined ? ((budget.generations - generation - 1) * elapsedSeconds) / (generation + 1) : Infinity;
      const eta = Math.min(byEvaluations, byTime, byGenerations);
      options.onGeneration?.({
        generation,
        evaluations: trained(),
        imagesTrained,
        ...(ledger ? { rungCounts: ledger.counts() } : {}),
        candidates: records.length,
        frontSize,
        hypervolume: hypervolumeOf(records, config),
        elapsedSeconds,
        etaSeconds: Number.isFinite(eta) ? Math.max(0, eta) : null,
      });
      generation++;
    }
    // Where evaluation wrote no files (a supernet run), the front's are made now, for report.ts to copy into front/.
    if (evaluator.writeFiles) {
      const missing = frontOf(records, objectives).filter((r) => !existsSync(join(runDir, 'candidates', r.id, ONNX_FILE)));
      if (missing.length) {
        log(`front: writing the files of ${missing.length} member(s)`);
        await evaluator.writeFiles(missing.map((r) => ({ genome: r.genome, id: r.id })));
      }
    }
  } finally {
    journal.close();
    await evaluator.close(stopReason !== null && stopReason !== 'interrupted');
  }
  await writeRunReport(runDir, config, lines, { final: true });
  return {
    runDir,
    config,
    records,
    lines,
    imagesTrained,
    front: frontOf(records, objectives),
    hypervolume: hypervolumeOf(records, config),
    generations: generation,
    stopReason,
  };
}
