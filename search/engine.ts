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
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultResultsDir } from '../locations.js';
import { NAMED_SPACES } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import type { BackendName } from '../train/backend.js';
import { teacherLogits, type TeacherSpec } from '../train/teacher.js';
import { teacherEpochLine, teacherProgressLines, teacherTrainingNote, validationCurveLine } from '../train/teacher-progress.js';
import { trainedTeacherSpec } from '../train/trained-teacher.js';
import { datasetContentHash } from '../train/training-job.js';
import { AgingEvolution } from './aging-evolution.js';
import { configHash, objectivesOf, resolveSearchConfig, SearchConfigError, type SearchConfig } from './config.js';
import { captureRunEnvironment } from './environment.js';
import { baseTrainingImages, journalKey, ledgerFor, rungOf } from './fidelity.js';
import { LocalTrainer, ProxyEvaluator, RealEvaluator } from './evaluators.js';
import { Journal, JOURNAL_FILE, type JournalEntry } from './journal.js';
import { decideLatency } from './latency-decision.js';
import { Nsga2 } from './nsga2.js';
import { QueueTrainer } from './queue-evaluator.js';
import { SupernetTrainer, supernetSearchSpace } from './supernet-trainer.js';
import { frontOf, hypervolumeOf } from './objectives.js';
import { RandomSearch } from './random-search.js';
import { connectRedis, QueueError, redisUrlProblem } from './redis-connection.js';
import { writeRunReport } from './report.js';
import type { CandidateEvaluator, CandidateRecord, EvaluatedRecord, GenerationEvent, LatencyFigures, RungBudget, Searcher, StopReason } from './types.js';

export const CONFIG_FILE = 'config.json';

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

function defaultRunDir(config: SearchConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join(defaultResultsDir(), config.name ?? `run-${stamp}`);
}

/** The space a config names or holds. */
export function spaceConfigOf(config: SearchConfig) {
  return typeof config.space === 'string' ? NAMED_SPACES[config.space] : config.space;
}

function makeSearcher(config: SearchConfig, space: MobileNetSpace, isSeen: (id: string) => boolean): Searcher {
  const s = config.searcher;
  const objectives = objectivesOf(config);
  if (s.algorithm === 'nsga2') return new Nsga2(space, objectives, s, config.seed, isSeen);
  if (s.algorithm === 'aging') return new AgingEvolution(space, objectives, s, config.seed, isSeen);
  return new RandomSearch(space, s, config.seed, isSeen);
}

export function teacherSpecOf(config: SearchConfig, space: MobileNetSpace, dataResolution: number): TeacherSpec | null {
  const t = config.teacher;
  if (t === null) return null;
  if ('onnx' in t) return { kind: 'onnx', path: t.onnx, inputScale: t.inputScale, layout: t.layout };
  return trainedTeacherSpec(space, t.train.epochs, dataResolution, config.seed, t.train.threads ?? 1, t.train.architecture);
}

/** A new run's id: names its queue; unique to this run directory and moment. */
function newRunId(runDir: string, config: SearchConfig): string {
  return createHash('sha256').update(`${configHash(config)}:${resolve(runDir)}:${hostname()}:${new Date().toISOString()}`).digest('hex').slice(0, 16);
}

/** Opens (or, on resume, reopens) a run directory and its saved configuration. */
function openRunDir(input: SearchConfig | null, options: RunSearchOptions): { runDir: string; config: SearchConfig; runId: string } {
  if (options.resume) {
    if (!options.runDir) throw new SearchConfigError('resume needs the run directory');
    const file = join(options.runDir, CONFIG_FILE);
    if (!existsSync(file)) throw new SearchConfigError(`${file}: not found; is ${options.runDir} a run directory?`);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { config: unknown; configHash: string; runId?: unknown };
    const config = resolveSearchConfig(saved.config, file);
    if (configHash(config) !== saved.configHash) throw new SearchConfigError(`${file}: configHash does not match its config; the file was edited`);
    // Runs written before run ids existed get one from their configuration and place.
    const runId = typeof saved.runId === 'string' && /^[0-9a-f]{16}$/.test(saved.runId) ? saved.runId : createHash('sha256').update(`${saved.configHash}:${resolve(options.runDir)}`).digest('hex').slice(0, 16);
    return { runDir: options.runDir, config, runId };
  }
  const config = input!;
  let runDir = options.runDir ?? defaultRunDir(config);
  if (!options.runDir && options.uniqueRunDir) {
    const base = runDir;
    for (let n = 2; existsSync(join(runDir, JOURNAL_FILE)); n++) runDir = `${base}-${n}`;
  }
  if (existsSync(join(runDir, JOURNAL_FILE))) {
    throw new SearchConfigError(`${runDir} already holds a run; resume it with --resume ${runDir}, or choose another name`);
  }
  mkdirSync(runDir, { recursive: true });
  const runId = newRunId(runDir, config);
  writeFileSync(join(runDir, CONFIG_FILE), JSON.stringify({ config, configHash: configHash(config), seed: config.seed, runId }, null, 2) + '\n');
  return { runDir, config, runId };
}

/** Runs (or resumes) a search; see the file comment. */
export async function runSearch(input: SearchConfig | null, options: RunSearchOptions = {}): Promise<SearchResult> {
  const { runDir, config, runId } = openRunDir(input, options);
  const redisUrl = options.redis ?? config.redis;
  if (redisUrl !== undefined) {
    const problem = redisUrlProblem(redisUrl);
    if (problem) throw new SearchConfigError(`redis: ${problem}`);
  }
  const distributed = redisUrl !== undefined && config.evaluator === 'real' && !options.evaluator;
  // Reached and its settings checked before the data and any teacher training: a bad Redis fails at once.
  if (distributed) (await connectRedis(redisUrl, 'redis')).disconnect();
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const started = performance.now();

  const dataset = loadDataset(config.data);
  // A supernet search samples the configured space narrowed as its supernet was (refused here if the supernet cannot score it).
  const supernet = config.evaluator === 'supernet' ? supernetSearchSpace(spaceConfigOf(config), config.supernet!) : null;
  if (supernet) log(`supernet ${config.supernet}: ${supernet.meta.data.name}, ${supernet.meta.recipe.strategy}, ${supernet.meta.recipe.epochs} epochs, trained on ${supernet.meta.trainedOn}`);
  const space = new MobileNetSpace(supernet?.config ?? spaceConfigOf(config), { numClasses: dataset.numClasses, inputChannels: dataset.train.channels });
  let teacherKey: string | null = null;
  const teacherSpec = teacherSpecOf(config, space, dataset.train.height);
  const data = prepareData(dataset, { validationFraction: config.validationFraction, seed: config.seed });
  const objectives = objectivesOf(config);
  const baseImages = baseTrainingImages(config, data.train.count);
  const ledger = ledgerFor(config, baseImages, objectives);
  if (teacherSpec && config.evaluator === 'real') {
    const teacher = await teacherLogits(data, teacherSpec, teacherProgressLines(teacherSpec, log), (e) => log(teacherEpochLine(e)));
    teacherKey = teacher.key;
    log(`teacher: ${teacher.description}; test accuracy ${(teacher.testAccuracy * 100).toFixed(2)}%${teacherTrainingNote(teacher)}${teacher.fromCache ? ' (cached logits)' : ''}`);
    const curve = validationCurveLine(teacher);
    if (curve) log(`teacher ${curve}`);
  }
  await captureRunEnvironment(runDir, config, teacherKey);

  if (config.latency.agent && config.evaluator === 'real' && !process.env.NAS_AGENT_TOKEN) {
    throw new SearchConfigError(`latency.agent is ${config.latency.agent}: set NAS_AGENT_TOKEN to its token`);
  }
  const { journal, entries, repairedTornLine } = Journal.open(join(runDir, JOURNAL_FILE));
  if (repairedTornLine) log(`journal: dropped a torn last line (the previous run was killed mid-write)`);
  if (entries.length) log(`resuming: ${entries.length} candidates already in the journal`);
  const journaled = new Map<string, JournalEntry>(entries.map((e) => [journalKey(e), e]));

  let evaluator = options.evaluator ?? (config.evaluator === 'proxy' ? new ProxyEvaluator(space, { delayMs: config.proxyDelayMs, baseImages }) : null);
  if (!evaluator) {
    const context = { space, config, runDir, teacherKey, dataContentHash: datasetContentHash(dataset), backend: options.backend };
    let trainer;
    if (distributed) {
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
  const budget = config.budget;
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

export interface GenerationContext {
  config: SearchConfig;
  space: MobileNetSpace;
  evaluator: CandidateEvaluator;
  signal: AbortSignal;
  deadline: number;
  /** Training on a queue: every candidate of the generation is queued at once, the workers pull them. */
  distributed: boolean;
  remainingBudget: number;
  /** Multi-fidelity: the first rung's budget (new candidates keep their checkpoint for a promotion). */
  firstRung?: RungBudget;
  /** Multi-fidelity: candidates to train on to a higher rung, alongside the generation's new ones. */
  promotions: PromotionWork[];
  onRecord: (record: CandidateRecord) => void;
}

/** A promotion to run: the candidate's current (highest-rung) result and the rung to train it to. */
export interface PromotionWork {
  from: EvaluatedRecord;
  rung: RungBudget;
}

/** One training to run: a new candidate at the first rung, or a promotion to a higher one. */
interface TrainingWork {
  genome: Genome;
  id: string;
  latency: LatencyFigures;
  rung: RungBudget | undefined;
  base: { id: string; generation: number; genome: Genome; params: number; macs: number };
}

/** Relative training cost for ordering only: images × MACs. */
function trainingCost(w: TrainingWork): number {
  return (w.rung?.images ?? 1) * w.base.macs;
}

/**
 * Runs work items with at most `limit` at once, each started when a slot frees
 * and in the order added; items can be added while others run.
 */
class TrainingLanes {
  #active = 0;
  readonly #waiting: TrainingWork[] = [];
  readonly #running: Array<Promise<void>> = [];

  constructor(
    private readonly limit: number,
    private readonly run: (work: TrainingWork) => Promise<void>,
  ) {}

  add(work: TrainingWork): void {
    this.#waiting.push(work);
    this.#startWhatFits();
  }

  #startWhatFits(): void {
    while (this.#active < this.limit && this.#waiting.length) {
      const next = this.#waiting.shift()!;
      this.#active++;
      this.#running.push(
        this.run(next).finally(() => {
          this.#active--;
          this.#startWhatFits();
        }),
      );
    }
  }

  async drain(): Promise<void> {
    while (this.#running.length) await Promise.all(this.#running.splice(0));
  }
}

/**
 * Constraints, then latency (one at a time), then training (parallel).
 * Real training goes longest first (images × MACs), so the generation's last
 * minutes are not one long candidate with the other workers idle. Locally,
 * training starts once every latency is measured, so that no measurement
 * shares the machine with training; on a queue the workers are other
 * machines, so each candidate is queued as soon as its latency is accepted
 * (and promotions at once), and the workers train while the next latency is
 * measured. Returns false when it stopped early (abort, deadline or
 * evaluation budget) with candidates left unevaluated: that generation is
 * not told to the searcher.
 */
export async function evaluateGeneration(pending: Array<{ genome: Genome; id: string }>, generation: number, ctx: GenerationContext): Promise<boolean> {
  const { constraints } = ctx.config;
  const feasible: Array<{ genome: Genome; id: string; params: number; macs: number }> = [];
  for (const { genome, id } of pending) {
    const { params, macs } = ctx.space.cost(genome);
    const base = { id, generation, genome, params, macs };
    if (constraints.maxParams !== undefined && params > constraints.maxParams) {
      ctx.onRecord({ ...base, state: 'rejected', constraint: 'maxParams', value: params, limit: constraints.maxParams });
    } else if (constraints.maxMacs !== undefined && macs > constraints.maxMacs) {
      ctx.onRecord({ ...base, state: 'rejected', constraint: 'maxMacs', value: macs, limit: constraints.maxMacs });
    } else {
      feasible.push({ genome, id, params, macs });
    }
  }
  // Real training only: the proxy takes no time, and keeps the searcher's order. Stable sort:
  // equal costs keep the searcher's order too.
  const longestFirst = ctx.config.evaluator !== 'proxy';
  if (longestFirst) feasible.sort((a, b) => b.macs - a.macs);

  const cancel = new AbortController();
  const stop = () => cancel.abort();
  ctx.signal.addEventListener('abort', stop);
  let skipped = 0;
  // A fault of the set-up (the queue's shared directory, Redis), not of a candidate: the
  // search stops with it, and the candidates in flight re-run on resume.
  let setupFault: Error | null = null;
  const train = async (c: TrainingWork): Promise<void> => {
    // The time budget stops new training, not training under way.
    if (cancel.signal.aborted || performance.now() >= ctx.deadline) {
      skipped++;
      return;
    }
    const rung = c.rung ? { rung: c.rung.rung, imagesTrained: c.rung.images } : {};
    try {
      const outcome = await ctx.evaluator.train(c.genome, c.id, cancel.signal, c.rung);
      if (!cancel.signal.aborted) ctx.onRecord({ ...c.base, state: 'evaluated', latency: c.latency, ...outcome, ...rung });
    } catch (error) {
      if (error instanceof QueueError && !cancel.signal.aborted) {
        setupFault = error;
        cancel.abort();
        return;
      }
      // An abort is not the candidate's failure: it stays unjournaled and re-runs on resume.
      if (!cancel.signal.aborted) ctx.onRecord({ ...c.base, state: 'failed', stage: 'training', latency: c.latency, error: (error as Error).message, ...(c.rung ? { rung: c.rung.rung } : {}) });
    }
  };
  const lanes = new TrainingLanes(ctx.config.evaluator === 'proxy' || ctx.distributed ? Infinity : ctx.config.workers, train);
  const held: TrainingWork[] = [];
  const submit = (work: TrainingWork) => (ctx.distributed ? lanes.add(work) : held.push(work));
  let overBudget = 0;
  try {
    const promotions = ctx.promotions.map(({ from, rung }) => ({ genome: from.genome, id: from.id, latency: from.latency, rung, base: { id: from.id, generation: from.generation, genome: from.genome, params: from.params, macs: from.macs } }));
    if (longestFirst) promotions.sort((a, b) => trainingCost(b) - trainingCost(a));
    for (const p of promotions) submit(p);

    const limit = constraints.maxLatencyMs;
    const slack = ctx.config.latency.predictorSlack;
    if (limit !== undefined) await ctx.evaluator.prepare?.(feasible.map((f) => f.genome));
    let accepted = 0;
    for (const f of feasible) {
      if (cancel.signal.aborted) break;
      const base = { id: f.id, generation, genome: f.genome, params: f.params, macs: f.macs };
      const accept = (latency: LatencyFigures) => {
        if (accepted++ < ctx.remainingBudget) submit({ genome: f.genome, id: f.id, latency, rung: ctx.firstRung, base });
        else overBudget++;
      };
      // A calibrated predictor's interval wholly inside or outside the limit saves the measurement.
      const decision = limit !== undefined ? decideLatency(ctx.evaluator.predictLatencyInterval?.(f.genome) ?? null, limit) : null;
      if (decision && decision.state !== 'uncertain') {
        const latency = { p50: decision.predicted.p50, p90: decision.predicted.p90, source: 'predicted' as const };
        if (decision.state === 'outside') ctx.onRecord({ ...base, state: 'rejected', constraint: 'maxLatencyMs', value: latency.p50, limit: limit!, latency });
        else accept(latency);
        continue;
      }
      const predicted = limit !== undefined && slack !== undefined ? ctx.evaluator.predictLatency?.(f.genome) ?? null : null;
      if (predicted !== null && predicted > limit! * slack!) {
        ctx.onRecord({ ...base, state: 'rejected', constraint: 'maxLatencyMs', value: predicted, limit: limit!, latency: { p50: predicted, p90: predicted, source: 'predicted' } });
        continue;
      }
      let latency;
      try {
        latency = await ctx.evaluator.latency(f.genome, f.id);
      } catch (error) {
        ctx.onRecord({ ...base, state: 'failed', stage: 'latency', error: (error as Error).message });
        continue;
      }
      if (limit !== undefined && latency.p50 > limit) {
        ctx.onRecord({ ...base, state: 'rejected', constraint: 'maxLatencyMs', value: latency.p50, limit, latency });
        continue;
      }
      accept({ p50: latency.p50, p90: latency.p90, source: 'measured' });
    }
    // Promotions were held first and are usually the longest; new candidates follow, longest first.
    for (const work of held) lanes.add(work);
    await lanes.drain();
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
  if (setupFault) throw setupFault;
  return !cancel.signal.aborted && skipped === 0 && overBudget === 0;
}
