/**
 * `nas finalize --time`: measures each selected model on this machine
 * (throughput.ts), asks the planner (time-plan.ts) which models train for
 * how many epochs, and gives the answer the form final/plan.json keeps — the
 * kept models with their epochs, the measurements (so a resume never
 * measures or plans again), what was dropped or shortened and why — and
 * the lines that print it.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { builtFile } from '../locations.js';
import { trainingThreads } from '../train/training-pool.js';
import { DEFAULT_FINAL_EPOCHS, MIN_TIMED_EPOCHS, type FinalRecipe } from './recipe.js';
import { finalEvaluationImages } from './throughput.js';
import type { ThroughputResult, ThroughputTask } from './throughput-worker.js';
import type { FinalTrainTask } from './train-final.js';
import { formatSeconds, planForTime, type TimedModelInput } from './time-plan.js';
import { FinalizeError, type FinalizeEvent, type FinalModel } from './types.js';

/**
 * Planned durations are the measured ones times this. Models are measured
 * `workers` at a time, as they train, but the last measurements of a batch
 * may run with the others done, and a long training meets more of the
 * machine's other work than a few seconds do. A margin, not a measured ratio.
 */
export const PLANNING_SLOWDOWN = 1.1;
/** Seconds after the trainings besides the latency measurement: workers' start, the report, finalized.svg. */
export const REPORT_SECONDS = 30;

const measuredSchema = z.object({ id: z.string(), imagesPerSecond: z.number().positive(), evaluationImagesPerSecond: z.number().positive(), checkpointSeconds: z.number().nonnegative(), steps: z.number().int() });
const kindSchema = z.enum(['front', 'baseline']);

/** What final/plan.json keeps of a `--time` plan (its `time` field). */
export const planTimeSchema = z.object({
  budgetSeconds: z.number().positive(),
  /** When the finalization started (ISO 8601): the budget counts from here. */
  startedAt: z.string(),
  epochs: z.object({ min: z.number().int().positive(), max: z.number().int().positive() }),
  workers: z.number().int().positive(),
  /** Each selected model's measured speed on this machine (dropped ones too). */
  measured: z.array(measuredSchema),
  /** Seconds outside the trainings: before planning (measuring included), and the latency measurement and report after. */
  overheadSeconds: z.number(),
  trainingSeconds: z.number(),
  /** Overhead plus trainings: the expected end, seconds after `startedAt`. */
  expectedSeconds: z.number(),
  /** The kept models in the order the pool is handed them (longest first), where each is expected to run. */
  schedule: z.array(z.object({ id: z.string(), name: z.string(), kind: kindSchema, epochs: z.number().int().positive(), worker: z.number().int(), start: z.number(), end: z.number() })),
  dropped: z.array(z.object({ id: z.string(), name: z.string(), kind: kindSchema, reason: z.string() })),
  shortened: z.string().nullable(),
});
/** A `--time` plan as final/plan.json keeps it. */
export type PlanTime = z.infer<typeof planTimeSchema>;

/** What {@link fitToTime} needs. */
export interface FitToTimeInput {
  /** The selection, in its order. */
  models: readonly FinalModel[];
  recipe: FinalRecipe;
  /** The finalization's training data, as its training tasks name it (each measuring thread loads it). */
  data: FinalTrainTask['data'];
  workers: number;
  budgetSeconds: number;
  /** When the finalization started: `Date.now()` and `performance.now()` then. */
  started: { date: number; clock: number };
  /** Latency measurement after training, seconds per model. */
  latencySecondsPerModel: number;
  onEvent?: (event: FinalizeEvent) => void;
  /** Worker entry; tests may substitute one. @default the built finalize/throughput-worker.js */
  workerFile?: string;
}

/** Each model's speed, measured `workers` at a time on a pool of measuring threads, in the selection's order. */
async function measureAll(input: FitToTimeInput, onEvent: (event: FinalizeEvent) => void): Promise<ThroughputResult[]> {
  const pool = trainingThreads(input.workerFile ?? builtFile(import.meta.url, 'throughput-worker.js'), Math.min(input.workers, input.models.length), true);
  onEvent({ type: 'log', line: `measuring the training speed of ${input.models.length} model(s) on this machine, ${Math.min(input.workers, input.models.length)} at a time (${input.recipe.threads ?? 1} thread(s) each)…` });
  try {
    return await Promise.all(
      input.models.map(async (model) => {
        const result = (await pool.run({ model, data: input.data, recipe: input.recipe } satisfies ThroughputTask)) as ThroughputResult;
        onEvent({ type: 'log', line: `${model.name}: ${result.imagesPerSecond.toFixed(0)} training images/s, ${result.evaluationImagesPerSecond.toFixed(0)} evaluated images/s` });
        return result;
      }),
    );
  } finally {
    await pool.destroy();
  }
}

/**
 * Measures every model, plans, and returns the kept models (selection
 * order, each with its `epochs`) and the plan's record. Throws the planner's
 * error, naming --time, when nothing fits.
 */
export async function fitToTime(input: FitToTimeInput): Promise<{ models: FinalModel[]; time: PlanTime }> {
  const onEvent = input.onEvent ?? (() => {});
  const afterTraining = input.models.length * input.latencySecondsPerModel + REPORT_SECONDS;
  if (input.budgetSeconds <= afterTraining) {
    throw new FinalizeError(`--time ${formatSeconds(input.budgetSeconds)}: too short; measuring the latency of ${input.models.length} model(s) and writing the report alone take about ${formatSeconds(afterTraining)}; give more time`);
  }
  const results = await measureAll(input, onEvent);
  const counts = results[0].counts;
  const measured: PlanTime['measured'] = results.map(({ counts: _, ...speed }, i) => ({ id: input.models[i].id, ...speed }));
  const epochs = { min: Math.min(MIN_TIMED_EPOCHS, DEFAULT_FINAL_EPOCHS), max: DEFAULT_FINAL_EPOCHS };
  const spent = (performance.now() - input.started.clock) / 1000;
  const overheadSeconds = spent + afterTraining;
  const planned: TimedModelInput[] = input.models.map((m, i) => ({
    id: m.id,
    name: m.name,
    kind: m.kind,
    imagesPerSecond: measured[i].imagesPerSecond / PLANNING_SLOWDOWN,
    imagesPerEpoch: counts.train,
    evaluationSecondsPerEpoch: PLANNING_SLOWDOWN * (counts.validation / measured[i].evaluationImagesPerSecond + measured[i].checkpointSeconds),
    fixedSeconds: (PLANNING_SLOWDOWN * finalEvaluationImages(counts)) / measured[i].evaluationImagesPerSecond,
    challengerOf: challengerOnly(m),
  }));
  const plan = planForTime({ models: planned, workers: input.workers, budgetSeconds: input.budgetSeconds, overheadSeconds, epochs });
  const epochsOf = new Map(plan.models.map((m) => [m.id, m.epochs]));
  return {
    models: input.models.filter((m) => epochsOf.has(m.id)).map((m) => ({ ...m, epochs: epochsOf.get(m.id)! })),
    time: {
      budgetSeconds: input.budgetSeconds,
      startedAt: new Date(input.started.date).toISOString(),
      epochs,
      workers: input.workers,
      measured,
      overheadSeconds,
      trainingSeconds: plan.trainingSeconds,
      expectedSeconds: plan.expectedSeconds,
      schedule: plan.models.map(({ id, name, kind, epochs, worker, start, end }) => ({ id, name, kind, epochs, worker, start, end })),
      dropped: plan.dropped,
      shortened: plan.shortened,
    },
  };
}

/** The baselines a front member was chosen only to challenge (every reason `challenger of <baseline>`), else none. */
function challengerOnly(model: FinalModel): string[] | undefined {
  if (model.kind !== 'front' || !model.selectedAs?.length) return undefined;
  const of = model.selectedAs.map((r) => /^challenger of (.+)$/.exec(r)?.[1]);
  return of.every((b): b is string => b !== undefined) ? of : undefined;
}

/** `2026-12-07 14:05 UTC`: a clock time everyone on a shared machine reads alike. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The plan in words, printed before training: budget, expected end, each model's epochs and time, what was shortened or dropped and why. */
export function timePlanLines(time: PlanTime): string[] {
  const start = Date.parse(time.startedAt);
  const speed = new Map(time.measured.map((m) => [m.id, m.imagesPerSecond]));
  return [
    `time budget ${formatSeconds(time.budgetSeconds)} from ${clock(start)}: ${time.schedule.length} model(s) on ${time.workers} worker(s), expected end ${clock(start + time.expectedSeconds * 1000)} (after ${formatSeconds(time.expectedSeconds)}: ${formatSeconds(time.trainingSeconds)} of training, ${formatSeconds(time.overheadSeconds)} of measuring, latency and report)`,
    ...time.schedule.map(
      (s) => `  ${s.name}: ${s.epochs} epochs, ${formatSeconds(s.end - s.start)} at ${speed.get(s.id)!.toFixed(0)} images/s measured (worker ${s.worker + 1}, from ${formatSeconds(s.start)} to ${formatSeconds(s.end)} of training)`,
    ),
    time.shortened ? `shortened: ${time.shortened}` : `every model trains the full ${time.epochs.max} epochs`,
    ...time.dropped.map((d) => `dropped ${d.name}: ${d.reason}`),
  ];
}
