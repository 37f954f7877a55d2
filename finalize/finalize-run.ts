/**
 * `nas finalize <run>`: the front's best members and the hand-designed
 * baselines trained with one recipe on the full training split, one model
 * per worker, checkpointed every epoch; then all of them measured in one
 * interleaved latency run, compared (dominance) and reported.
 *
 * `final/plan.json` fixes what a finalization trains (models, recipe, data);
 * `--resume` reads it back, skips models whose `record.json` exists and
 * continues the others from their checkpoints. With `--time`, the plan also
 * gives each model its epochs (time-budget.ts), and a resume trains on with
 * them: it never measures or plans again.
 *
 * Where the models train is a `FinalTrainer` (final-pool.ts): this
 * machine's threads, or with `redis` the `nas worker`s
 * (final-queue-trainer.ts), which keep the same checkpoints.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { compareModels, type ComparedMeasurement } from '../benchmarks/compare.js';
import { BASELINE_NAMES, baselines as handDesigned, type Baseline, type BaselineName } from '../space/baselines.js';
import { readGenomeFile, writeFileAtomic } from '../space/candidate-files.js';
import { prepareData, type DataSplit } from '../train/datasets/prepared.js';
import { CodedError } from '../errors.js';
import { datasetContentHash } from '../train/training-job.js';
import { readCachedTeacher, teacherLogits, type TeacherResult } from '../train/teacher.js';
import { teacherEpochLine, teacherTrainingNote } from '../train/teacher-progress.js';
import { finalRecipe, recipeHash, recipeWithEpochs, spareThreadsPerModel, type FinalRecipe } from './recipe.js';
import { fitToTime, planTimeSchema, timePlanLines, type PlanTime } from './time-budget.js';
import { measureChallengers, type MeasuredChallengers } from './challengers.js';
import { selectFront } from './select.js';
import { LocalFinalTrainer, type FinalTrainer } from './final-pool.js';
import { readFinalRecord, type FinalTrainTask } from './train-final.js';
import { FinalizeError, type FinalizeEvent, type FinalizeInput, type FinalModel, type FinalRecord } from './types.js';

export const FINAL_DIR = 'final';
export const PLAN_FILE = 'plan.json';

/** How {@link finalizeRun} selects and trains; all optional. */
export interface FinalizeOptions {
  /** The K most accurate front members instead of the default selection (best per latency third + knee). */
  top?: number;
  /** These front members (genome ids) instead of the default selection, and no challengers: the ones a user picked from the report. */
  ids?: readonly string[];
  /** @default DEFAULT_FINAL_EPOCHS (recipe.ts) */
  epochs?: number;
  /**
   * Seconds the whole finalization may take (`--time`): each model's speed
   * is measured first and the plan gives each its epochs, or drops models,
   * to end within it (time-plan.ts). Not with `epochs`.
   */
  time?: number;
  /** Which baselines to train; `false` for none. @default every one of BASELINE_NAMES */
  baselines?: readonly BaselineName[] | false;
  /**
   * With the default selection and baselines: measure the front and the
   * untrained baselines interleaved first, and finalize, for each baseline,
   * the most accurate front member no slower than it (challengers.ts), so
   * that the verdict is against the front's best chance. `top` and `ids`
   * take exactly the members they name, and no challengers.
   * @default true
   */
  challengers?: boolean;
  /** Train on this many images of the training split (seeded) instead of all: for tests and scaled-down measurements. */
  subset?: number;
  /** Front members start from the weights in their front/<id>/ files, fine-tuned (recipe.ts `init`). @default 'scratch' */
  init?: FinalRecipe['init'];
  /** With `init` inherited: the share of the peak learning rate they are fine-tuned at (recipe.ts). @default FINE_TUNE_LEARNING_RATE_SCALE */
  fineTuneRate?: number;
  /** Continue a finalization from final/plan.json. @default false */
  resume?: boolean;
  /** Models trained at once, one per worker. @default the run's `workers` */
  workers?: number;
  /**
   * Threads each model trains on, data-parallel (train/data-parallel.ts):
   * a number, or `auto` for the cores left over when fewer models than cores
   * train at once (a single model on 2 cores gets 2). Fixed in the plan's
   * recipe when the finalization starts, so a resume trains on as it began.
   * @default 1
   */
  threads?: number | 'auto';
  /** Cores `threads: 'auto'` shares out. @default os.availableParallelism() */
  cores?: number;
  /** Latency: total measuring time per model (ms) and minimum runs, models interleaved (the challengers' measurement takes at most 1000 ms and 50 runs of each). @default 2000 and 200 */
  latencyTime?: number;
  latencyIterations?: number;
  /**
   * Train the models on the `nas worker`s of this Redis (redis://[user@]host[:port][/db],
   * rediss:// for TLS; the password from NAS_REDIS_PASSWORD or the URL) instead of
   * local threads; `workers` and `threads` do not apply to where they train.
   */
  redis?: string;
  /** With `redis`: the directory the workers write models' files to (`nas worker --shared-dir`), as this machine mounts it. */
  sharedDir?: string;
  /** With `redis`: how long the finalization stays listed after it was last heard from, seconds. @default 60 */
  redisRunTtl?: number;
  onEvent?: (event: FinalizeEvent) => void;
  /** Worker entry file; tests may substitute one. @default the built finalize/finalize-worker.js */
  workerFile?: string;
}

/** A trained model with its latency from the interleaved run. */
export interface FinalizedModel {
  record: Extract<FinalRecord, { state: 'trained' }>;
  latency: ComparedMeasurement;
  files: string;
  /** A front member's reasons for being finalized (plan.json `selectedAs`); empty for baselines and older plans. */
  selectedAs: string[];
}

/** A finished finalization: the recipe, the trained models with their latency, the failures and the teacher. */
export interface FinalizeResult {
  runDir: string;
  recipe: FinalRecipe;
  models: FinalizedModel[];
  failed: Array<Extract<FinalRecord, { state: 'failed' }>>;
  /** The run's teacher, as in TeacherResult (`trainSeconds` null for an ONNX teacher), with the test split's size. */
  teacher: (TeacherSummary & { testCount: number }) | null;
  /** Training wall-clock of this session, seconds. */
  wallSeconds: number;
  /** The `--time` plan (budget, measurements, what was dropped or shortened); null or absent without --time. */
  time?: PlanTime | null;
}

// `score` is absent in plans from before rankBy, which chose by accuracy.
const frontPointSchema = z.object({ id: z.string(), accuracy: z.number(), latency: z.number(), score: z.number().optional() }).transform((p) => ({ ...p, score: p.score ?? p.accuracy }));
const challengersSchema = z.object({
  front: z.array(frontPointSchema),
  baselines: z.array(z.object({ name: z.string(), latency: z.number() })),
  challengers: z.array(z.object({ baseline: z.string(), challenger: frontPointSchema.nullable() })),
});

const planSchema = z.object({
  configHash: z.string(),
  recipe: z.custom<FinalRecipe>((v) => typeof v === 'object' && v !== null),
  subset: z.number().int().positive().nullable(),
  teacherKey: z.string().nullable(),
  /** The training/validation split every model trains and validates on (FinalizeInput.split); absent in older plans: the config's. */
  split: z.object({ validationFraction: z.number().gt(0).lt(1), seed: z.number().int() }).optional(),
  models: z.array(
    z.custom<FinalModel>((v) => typeof v === 'object' && v !== null && 'id' in v && 'kind' in v, 'expected a model with id and kind').refine(
      (m) => m.epochs === undefined || (Number.isInteger(m.epochs) && m.epochs > 0),
      'epochs: expected a positive integer',
    ),
  ),
  /** The pre-training measurement that chose each baseline's challenger; absent with --top or --ids, without baselines or challengers, and in older plans. */
  challengers: challengersSchema.optional(),
  /** The `--time` plan; absent without --time and in older plans. */
  time: planTimeSchema.optional(),
});
/** What a finalization trains, fixed in final/plan.json when it starts. */
export type FinalizationPlan = z.infer<typeof planSchema>;
type Plan = FinalizationPlan;

/** The recipe `model` trains with: the plan's, at the model's own epochs when the plan gives them (--time). */
export function modelRecipe(plan: Pick<FinalizationPlan, 'recipe'>, model: FinalModel): FinalRecipe {
  return model.epochs === undefined ? plan.recipe : recipeWithEpochs(plan.recipe, model.epochs);
}

/**
 * Where the models train: this machine's threads, or with `redis` the
 * `nas worker`s (bullmq and ioredis load only then).
 */
async function openTrainer(run: FinalizeInput, plan: Plan, options: FinalizeOptions, workers: number, onEvent: (e: FinalizeEvent) => void): Promise<FinalTrainer> {
  if (options.redis === undefined) return new LocalFinalTrainer(workers, options.workerFile);
  if (plan.recipe.init === 'inherited') throw new FinalizeError("--redis: --init inherited starts front members from this machine's front/ files, which the workers do not have; finalize without --redis");
  const { FinalQueueTrainer } = await import('./final-queue-trainer.js');
  const trainer = await FinalQueueTrainer.open({
    runId: run.runId ?? createHash('sha256').update(`${run.configHash}:${resolve(run.dir)}`).digest('hex').slice(0, 16),
    redisUrl: options.redis,
    sharedDir: options.sharedDir,
    ttlSeconds: options.redisRunTtl,
    teacherKey: plan.teacherKey,
    data: { name: run.config.data, contentHash: datasetContentHash(run.dataset), resolution: run.dataset.train.height },
  });
  onEvent({ type: 'log', line: `training through ${trainer.describe()}: start 'nas worker --redis <url>' on each machine` });
  return trainer;
}

/**
 * The front members to finalize, each with why it was chosen, and their
 * genomes from front/<id>/genome.json: the default selection (or the top K),
 * then each baseline's challenger; fastest first by the search's latency.
 */
function frontModels(run: FinalizeInput, pick: { top?: number; ids?: readonly string[] }, measured: MeasuredChallengers | null, inherit: boolean): FinalModel[] {
  const available = run.front.filter((r) => r.frontDir !== null);
  if (!available.length) throw new FinalizeError(`${join(run.dir, 'front')}: holds no front member's files; run the search to its end, or nas report`);
  const reasons = new Map<string, string[]>();
  const choose = (id: string, reason: string) => reasons.set(id, [...(reasons.get(id) ?? []), reason]);
  const points = available.map((r) => ({ id: r.id, accuracy: r.accuracy, latency: r.latencyP50, score: r.rankScore }));
  if (pick.ids) {
    for (const id of new Set(pick.ids)) {
      if (!available.some((r) => r.id === id)) throw new FinalizeError(`--ids: ${id} is not a front member of ${run.dir} with files (the front: ${available.map((r) => r.id).join(', ')})`);
      choose(id, 'chosen by id');
    }
  } else {
    for (const p of selectFront(points, pick.top)) choose(p.id, pick.top === undefined ? 'best of a latency third or the knee' : `top ${pick.top}`);
  }
  for (const c of measured?.challengers ?? []) if (c.challenger) choose(c.challenger.id, `challenger of ${c.baseline}`);
  return available
    .filter((r) => reasons.has(r.id))
    .sort((a, b) => a.latencyP50 - b.latencyP50)
    .map((r) => {
      const dir = join(run.dir, 'front', r.id);
      const file = readGenomeFile(dir);
      return { kind: 'front', id: r.id, name: `front ${r.id}`, genome: file.genome, strides: file.strides, selectedAs: reasons.get(r.id), ...(inherit ? { inheritFrom: dir } : {}) };
    });
}

/** One line per baseline: its challenger, or that the front holds nothing as fast. */
export function challengerLines(measured: MeasuredChallengers): string[] {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  return measured.challengers.map((c) => {
    const b = measured.baselines.find((x) => x.name === c.baseline)!;
    return c.challenger
      ? `${c.baseline} (${b.latency.toFixed(4)} ms untrained): challenger front ${c.challenger.id} (${pct(c.challenger.accuracy)} in the search, ${c.challenger.latency.toFixed(4)} ms)`
      : `${c.baseline} (${b.latency.toFixed(4)} ms untrained): no front member is as fast; it will be reported unbeaten`;
  });
}

/** What finalize reports of the run's teacher. */
type TeacherSummary = Pick<TeacherResult, 'description' | 'testAccuracy' | 'trainSeconds' | 'trainedOn'>;
type RunTeacher = TeacherSummary & { key: string };

function runTeacher(key: string, t: TeacherResult): RunTeacher {
  return { key, description: t.description, testAccuracy: t.testAccuracy, trainSeconds: t.trainSeconds, trainedOn: t.trainedOn };
}

/** The run's configured split: a run's own when its input names none, and an older plan's, which recorded none. */
function configSplit(run: FinalizeInput): DataSplit {
  return { validationFraction: run.config.validationFraction, seed: run.config.seed };
}

/** The run's teacher logits over `split`: from the cache, or computed again (resumably) when the cache lost them. */
async function ensureTeacher(run: FinalizeInput, split: DataSplit, onEvent: (e: FinalizeEvent) => void): Promise<RunTeacher | null> {
  if (run.teacherKey === null) return null;
  const cached = readCachedTeacher(run.teacherKey);
  if (cached) return runTeacher(run.teacherKey, cached);
  const spec = run.teacherSpec;
  if (!spec) return null;
  onEvent({ type: 'log', line: `teacher logits ${run.teacherKey} are not in the cache: computing them again (checkpointed each epoch)` });
  const data = prepareData(run.dataset, split);
  let last = 0;
  const result = await teacherLogits(data, spec, (done, total) => {
    if (done - last >= total / 50 || done === total) {
      last = done;
      onEvent({ type: 'progress', id: 'teacher', imagesSeen: done, imagesTotal: total });
    }
  }, (e) => onEvent({ type: 'log', line: teacherEpochLine(e) }));
  return runTeacher(result.key, result);
}

/** final/plan.json read back and checked (older plans, without per-model epochs or a --time plan, too); errors name the file and field. */
export function readPlan(file: string): Plan {
  if (!existsSync(file)) throw new FinalizeError(`${file}: not found; nothing to resume (start with nas finalize <run>)`);
  const parsed = planSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new FinalizeError(`${file}: ${parsed.error.issues[0].path.join('.') || '(root)'}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** Refuses options that contradict each other; the CLI calls it before any dataset or teacher work. */
export function checkSelection(options: Pick<FinalizeOptions, 'top' | 'ids'>): void {
  if (options.top !== undefined && options.ids) throw new FinalizeError('--top and --ids: choose front members one way');
}

/**
 * What a new finalization of `run` trains, writing nothing: the teacher, the
 * front members and why each was chosen — with baselines and the default
 * selection, after measuring the front and the untrained baselines
 * interleaved — the baselines, and the recipe. `nas finalize --dry-run`
 * prints it. A teacher whose logits the cache lost is computed again
 * (checkpointed in the cache) unless `computeTeacher` is false, as for a dry
 * run, which then plans with the run's teacher key and says so.
 */
export async function planFinalization(run: FinalizeInput, options: FinalizeOptions = {}, computeTeacher = true): Promise<FinalizationPlan> {
  const started = { date: Date.now(), clock: performance.now() };
  checkSelection(options);
  if (options.time !== undefined && options.epochs !== undefined) throw new FinalizeError('--time and --epochs: --time chooses the epochs; give one of them');
  const onEvent = options.onEvent ?? (() => {});
  let teacher: { key: string } | null;
  const split = run.split ?? configSplit(run);
  if (computeTeacher || run.teacherKey === null) teacher = await ensureTeacher(run, split, onEvent);
  else {
    teacher = { key: run.teacherKey };
    if (!readCachedTeacher(run.teacherKey)) onEvent({ type: 'log', line: `teacher logits ${run.teacherKey} are not in the cache: finalize will compute them again before training` });
  }
  const names = options.baselines === false ? [] : (options.baselines ?? BASELINE_NAMES);
  const { dataset } = run;
  const shape = { numClasses: dataset.numClasses, inputChannels: dataset.train.channels };
  const baselines: Baseline[] = handDesigned(dataset.train.height, names);
  let measured: MeasuredChallengers | null = null;
  if (options.top === undefined && !options.ids && options.challengers !== false && baselines.length) {
    onEvent({ type: 'log', line: `measuring the front and the untrained baselines, interleaved, to choose each baseline's challenger…` });
    measured = await measureChallengers(run, baselines, shape, {
      time: Math.min(options.latencyTime ?? 2000, 1000),
      iterations: Math.min(options.latencyIterations ?? 200, 50),
      threads: run.config.latency.threads,
    });
    for (const line of challengerLines(measured)) onEvent({ type: 'log', line });
  }
  const models: FinalModel[] = [
    ...frontModels(run, { top: options.top, ids: options.ids }, measured, options.init === 'inherited'),
    ...baselines.map((b): FinalModel => ({ kind: 'baseline', id: b.name, name: b.name, baseline: b })),
  ];
  const modelsAtOnce = Math.min(options.workers ?? run.config.workers, models.length);
  const threads = options.threads === 'auto' ? spareThreadsPerModel(options.cores ?? availableParallelism(), modelsAtOnce) : (options.threads ?? 1);
  const recipe = finalRecipe({ epochs: options.epochs, teacher: teacher !== null, alpha: run.config.training.alpha, temperature: run.config.training.temperature, threads, init: options.init, fineTuneRate: options.fineTuneRate });
  if (options.time !== undefined) {
    const data = { spec: run.config.data, ...split, subset: options.subset };
    const workers = options.workers ?? run.config.workers;
    const latencySecondsPerModel = (options.latencyTime ?? 2000) / 1000;
    const fitted = await fitToTime({ models, recipe, data, workers, budgetSeconds: options.time, started, latencySecondsPerModel, onEvent });
    return { configHash: run.configHash, recipe, subset: options.subset ?? null, teacherKey: teacher?.key ?? null, split, models: fitted.models, ...(measured ? { challengers: measured } : {}), time: fitted.time };
  }
  return { configHash: run.configHash, recipe, subset: options.subset ?? null, teacherKey: teacher?.key ?? null, split, models, ...(measured ? { challengers: measured } : {}) };
}

/**
 * Trains, measures and returns every model of the plan (see the file
 * comment) for the run the caller read. The report is written by report.ts.
 */
export async function finalizeRun(run: FinalizeInput, options: FinalizeOptions = {}): Promise<FinalizeResult> {
  const onEvent = options.onEvent ?? (() => {});
  const runDir = run.dir;
  const finalDir = join(runDir, FINAL_DIR);
  const planPath = join(finalDir, PLAN_FILE);
  let plan: Plan;
  if (options.resume) {
    plan = readPlan(planPath);
    if (plan.configHash !== run.configHash) throw new FinalizeError(`${planPath}: configHash ${plan.configHash} is not the run's ${run.configHash}`);
    if (options.epochs !== undefined && options.epochs !== plan.recipe.epochs) {
      throw new FinalizeError(`${planPath}: this finalization trains for ${plan.recipe.epochs} epochs, not ${options.epochs}; --resume continues it as planned (delete final/ to start another)`);
    }
    if (options.time !== undefined) throw new FinalizeError(`${planPath}: --time plans a new finalization; --resume continues this one with the epochs it planned (it never plans again)`);
    if (typeof options.threads === 'number' && options.threads !== (plan.recipe.threads ?? 1)) {
      throw new FinalizeError(`${planPath}: this finalization trains each model on ${plan.recipe.threads ?? 1} thread(s), not ${options.threads}; --resume continues it as planned (the thread count changes the result)`);
    }
  } else {
    if (existsSync(planPath)) throw new FinalizeError(`${planPath} exists: continue with --resume, or delete ${finalDir} to start over`);
    plan = await planFinalization(run, options);
    mkdirSync(finalDir, { recursive: true });
    writeFileAtomic(planPath, JSON.stringify(plan, null, 2) + '\n');
  }
  const split = plan.split ?? configSplit(run);
  const teacher = plan.teacherKey ? await ensureTeacher({ ...run, teacherKey: plan.teacherKey }, split, onEvent) : null;
  if (teacher) onEvent({ type: 'teacher', description: `${teacher.description}${teacherTrainingNote(teacher)}`, testAccuracy: teacher.testAccuracy });
  if (plan.time) for (const line of timePlanLines(plan.time)) onEvent({ type: 'log', line });
  const epochs = plan.models.some((m) => m.epochs !== undefined) ? 'epochs per model as planned' : `${plan.recipe.epochs} epochs`;
  onEvent({ type: 'log', line: `recipe ${recipeHash(plan.recipe)}: ${epochs}, SGD ${plan.recipe.learningRate} cosine after ${Number(plan.recipe.warmupEpochs.toFixed(3))} warm-up epoch(s), KD α ${plan.recipe.distillation.alpha}, label smoothing ${plan.recipe.labelSmoothing}${plan.recipe.threads ? `, ${plan.recipe.threads} threads per model (data-parallel)` : ''}` });

  const started = performance.now();
  const records = new Map<string, FinalRecord>();
  const pending: FinalModel[] = [];
  for (const m of plan.models) {
    const done = readFinalRecord(join(finalDir, m.id));
    if (done?.state === 'trained' && done.recipeHash === recipeHash(modelRecipe(plan, m))) records.set(m.id, done);
    else pending.push(m);
  }
  // A --time plan's makespan assumes its order, longest first; the pool hands tasks out in the order given.
  const order = new Map(plan.time?.schedule.map((s, i) => [s.id, i]));
  if (plan.time) pending.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  if (records.size) onEvent({ type: 'log', line: `resuming: ${records.size} of ${plan.models.length} models already finalized` });
  for (const m of plan.models) if (m.kind === 'front' && m.selectedAs) onEvent({ type: 'log', line: `${m.name}: ${m.selectedAs.join('; ')}` });
  onEvent({ type: 'plan', models: plan.models.length, pending: pending.length });

  const workers = Math.max(1, Math.min(options.workers ?? run.config.workers, pending.length || 1));
  const trainer = await openTrainer(run, plan, options, workers, onEvent);
  let finished = false;
  try {
    await Promise.all(
      pending.map(async (m) => {
        const task: FinalTrainTask = {
          model: m,
          data: { spec: run.config.data, ...split, subset: plan.subset ?? undefined },
          teacherKey: plan.teacherKey,
          recipe: modelRecipe(plan, m),
          outDir: join(finalDir, m.id),
        };
        try {
          records.set(m.id, await trainer.train(task, onEvent));
        } catch (error) {
          // A fault of the set-up (Redis, the shared directory), not of the model: the finalization stops, --resume continues it.
          if (error instanceof CodedError && error.code === 'E_QUEUE') throw error;
          const record: FinalRecord = { state: 'failed', id: m.id, kind: m.kind, name: m.name, error: (error as Error).message };
          records.set(m.id, record);
          onEvent({ type: 'done', record });
        }
      }),
    );
    finished = true;
  } finally {
    await trainer.close(finished);
  }
  const wallSeconds = (performance.now() - started) / 1000;

  const trained = plan.models.map((m) => records.get(m.id)!).filter((r): r is Extract<FinalRecord, { state: 'trained' }> => r?.state === 'trained');
  onEvent({ type: 'latency', models: trained.length });
  const latencies = trained.length
    ? await compareModels(
        trained.map((r) => ({ name: r.id, source: join(finalDir, r.id, 'model.onnx') })),
        { time: options.latencyTime ?? 2000, iterations: options.latencyIterations ?? 200, session: { intraOpThreads: run.config.latency.threads } },
      )
    : [];
  const testCount = trained[0]?.testCount ?? 0;
  return {
    runDir,
    recipe: plan.recipe,
    models: trained.map((record, i) => {
      const planned = plan.models.find((m) => m.id === record.id);
      return { record, latency: latencies[i], files: join(FINAL_DIR, record.id), selectedAs: planned?.kind === 'front' ? (planned.selectedAs ?? []) : [] };
    }),
    failed: [...records.values()].filter((r): r is Extract<FinalRecord, { state: 'failed' }> => r.state === 'failed'),
    teacher: teacher ? { description: teacher.description, testAccuracy: teacher.testAccuracy, trainSeconds: teacher.trainSeconds, trainedOn: teacher.trainedOn, testCount } : null,
    wallSeconds,
    time: plan.time ?? null,
  };
}
