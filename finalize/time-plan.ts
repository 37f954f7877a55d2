/**
 * `nas finalize --time`: which models train, for how many epochs, so that
 * the finalization ends within the time it is given. Pure: measured
 * throughputs and a budget in, a plan (or one error) out; finalize-run.ts
 * measures, time-plan.ts decides, so the decision is tested by hand.
 *
 * The policy, in order:
 * 1. Every kept model trains the SAME number of epochs, each a complete
 *    schedule of that length (warm-up, cosine to zero: recipe.ts
 *    `recipeWithEpochs`), never a longer schedule cut short, so that the
 *    front's accuracies and the baselines' compare. That number is the
 *    largest in [min, max] whose plan ends within the budget.
 * 2. When even `min` epochs (the floor, below which a schedule says little
 *    about what a model reaches) of every model do not fit, models are
 *    dropped one at a time, and step 1 is tried again with the rest:
 *    baselines before front members (the front is what the finalization is
 *    for; the baselines are its yardstick), and within each kind the most
 *    expensive first (MobileNetV2 ×1.0, then ×0.75, …), since it frees the
 *    most time; among equally expensive ones, the later in the given order.
 *    A front member that is there only as the challenger of baselines
 *    (`challengerOf`) goes with the last of them: nothing is left to judge
 *    it against.
 * 3. When a single model, the cheapest, at `min` epochs does not fit, there
 *    is no plan: one error naming --time and what the cheapest plan needs.
 *
 * Time is counted as the run spends it: `overheadSeconds` (what was spent
 * before planning, the interleaved latency measurement and the report
 * after training) plus the makespan of the trainings on `workers` workers,
 * list-scheduled longest first (each model to the worker free first), the
 * order finalize hands them to its pool in. A model's training is its
 * epochs of images at its measured images/s, plus its per-epoch evaluation
 * and its fixed cost (final evaluation, batch-norm recalibration).
 */
import { FinalizeError } from './types.js';

/** A model as the planner sees it: what it is, and what it costs on this machine. */
export interface TimedModelInput {
  id: string;
  name: string;
  kind: 'front' | 'baseline';
  /** Training images per second on this machine, with the recipe's threads (measured). */
  imagesPerSecond: number;
  /** Training images in one epoch. */
  imagesPerEpoch: number;
  /** Seconds of evaluation after each epoch (the validation split). @default 0 */
  evaluationSecondsPerEpoch?: number;
  /** Seconds once per model, whatever its epochs (final evaluation, batch-norm recalibration, saving). @default 0 */
  fixedSeconds?: number;
  /** A front member chosen only as the challenger of these baselines (ids): dropped once they all are. @default none */
  challengerOf?: readonly string[];
}

/** What {@link planForTime} is asked. */
export interface TimePlanInput {
  /** The models in the selection's order (the front first, then the baselines); the order breaks ties. */
  models: readonly TimedModelInput[];
  /** Models trained at once. */
  workers: number;
  /** The whole time given (--time), seconds. */
  budgetSeconds: number;
  /** Time outside the trainings: already spent before planning, plus the latency measurement and report after. */
  overheadSeconds: number;
  /** Epochs of a full schedule: at most `max` (the recipe's default), never fewer than `min` (the floor). */
  epochs: { min: number; max: number };
}

/** A kept model: its epochs and where it sits in the schedule. */
export interface TimedModel {
  id: string;
  name: string;
  kind: 'front' | 'baseline';
  epochs: number;
  /** Its training's expected seconds. */
  seconds: number;
  /** The worker (0-based) it is expected to train on, and when, in seconds from the start of training. */
  worker: number;
  start: number;
  end: number;
}

/** A model left out, and why in words. */
export interface DroppedModel {
  id: string;
  name: string;
  kind: 'front' | 'baseline';
  reason: string;
}

/** What the planner decided. */
export interface TimePlan {
  /** The kept models, in the order they are handed to the pool (longest first). */
  models: TimedModel[];
  dropped: DroppedModel[];
  /** Why the kept models train fewer than `epochs.max` epochs; null when they train the full `max`. */
  shortened: string | null;
  /** Trainings' makespan on the workers, seconds. */
  trainingSeconds: number;
  /** Overhead plus the makespan: when the finalization is expected to end, seconds from its start. */
  expectedSeconds: number;
  budgetSeconds: number;
}

/** A training's expected seconds at `epochs`. */
export function trainingSeconds(model: TimedModelInput, epochs: number): number {
  const perEpoch = model.imagesPerEpoch / model.imagesPerSecond + (model.evaluationSecondsPerEpoch ?? 0);
  return (model.fixedSeconds ?? 0) + epochs * perEpoch;
}

/**
 * Longest-first list scheduling of `durations` on `workers` workers: each
 * job, longest first (ties in the given order), to the worker free first
 * (ties: the lowest). Returns each job's worker and start, in the order the
 * jobs are handed out, and the makespan.
 */
export function listSchedule(durations: readonly number[], workers: number): { order: number[]; worker: number[]; start: number[]; makespan: number } {
  const order = durations.map((_, i) => i).sort((a, b) => durations[b] - durations[a] || a - b);
  const free = new Array<number>(Math.max(1, workers)).fill(0);
  const worker = new Array<number>(durations.length);
  const start = new Array<number>(durations.length);
  for (const i of order) {
    let w = 0;
    for (let k = 1; k < free.length; k++) if (free[k] < free[w]) w = k;
    worker[i] = w;
    start[i] = free[w];
    free[w] += durations[i];
  }
  return { order, worker, start, makespan: Math.max(0, ...free) };
}

/** Seconds as `1h 05m`, `12m 30s` or `45s`: how the plan is printed. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function checkInput(input: TimePlanInput): void {
  const { min, max } = input.epochs;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && max >= min)) throw new RangeError(`epochs: need integers 1 ≤ min ≤ max, got ${min} and ${max}`);
  if (!(Number.isInteger(input.workers) && input.workers >= 1)) throw new RangeError(`workers must be a positive integer, got ${input.workers}`);
  if (!(input.budgetSeconds > 0)) throw new RangeError(`budgetSeconds must be positive, got ${input.budgetSeconds}`);
  if (!input.models.length) throw new RangeError('no models to plan');
  for (const m of input.models) {
    if (!(m.imagesPerSecond > 0 && m.imagesPerEpoch > 0)) throw new RangeError(`${m.name}: imagesPerSecond and imagesPerEpoch must be positive, got ${m.imagesPerSecond} and ${m.imagesPerEpoch}`);
  }
}

/** The schedule of `models` all at `epochs`, and when it ends (overhead included). */
function scheduleAt(models: readonly TimedModelInput[], epochs: number, input: TimePlanInput): { models: TimedModel[]; trainingSeconds: number; expectedSeconds: number } {
  const seconds = models.map((m) => trainingSeconds(m, epochs));
  const s = listSchedule(seconds, input.workers);
  return {
    models: s.order.map((i) => ({ id: models[i].id, name: models[i].name, kind: models[i].kind, epochs, seconds: seconds[i], worker: s.worker[i], start: s.start[i], end: s.start[i] + seconds[i] })),
    trainingSeconds: s.makespan,
    expectedSeconds: input.overheadSeconds + s.makespan,
  };
}

/** The largest epochs in [min, max] at which `models` end within the budget, or null. */
function largestFitting(models: readonly TimedModelInput[], input: TimePlanInput): number | null {
  // Scanned rather than bisected: list scheduling is not guaranteed monotone in the durations.
  for (let e = input.epochs.max; e >= input.epochs.min; e--) if (scheduleAt(models, e, input).expectedSeconds <= input.budgetSeconds) return e;
  return null;
}

/** The next model to drop: a baseline before a front member, the most expensive first, the later in the given order on a tie. */
function nextToDrop(kept: readonly TimedModelInput[], min: number): TimedModelInput {
  const rank = (m: TimedModelInput) => (m.kind === 'baseline' ? 1 : 0);
  return kept.reduce((worst, m) => {
    if (rank(m) !== rank(worst)) return rank(m) > rank(worst) ? m : worst;
    return trainingSeconds(m, min) >= trainingSeconds(worst, min) ? m : worst;
  });
}

/**
 * The plan for `input` (see the file comment for the policy). Throws a
 * FinalizeError naming --time when not even the cheapest model fits.
 */
export function planForTime(input: TimePlanInput): TimePlan {
  checkInput(input);
  const { min, max } = input.epochs;
  const budget = formatSeconds(input.budgetSeconds);
  let kept = [...input.models];
  const dropped: DroppedModel[] = [];
  let epochs = largestFitting(kept, input);
  while (epochs === null && kept.length > 1) {
    const drop = nextToDrop(kept, min);
    const ends = scheduleAt(kept, min, input).expectedSeconds;
    const why = drop.kind === 'baseline' ? 'baselines go first, the most expensive first' : 'no baseline is left, and front members go the most expensive first';
    dropped.push({
      id: drop.id,
      name: drop.name,
      kind: drop.kind,
      reason: `${min} epochs of the ${kept.length} models would end at ${formatSeconds(ends)}, past the ${budget} budget; ${why} (${drop.name}: ${formatSeconds(trainingSeconds(drop, min))} at ${min} epochs)`,
    });
    kept = kept.filter((m) => m !== drop);
    const gone = new Set(dropped.map((d) => d.id));
    for (const m of kept.filter((k) => k.challengerOf?.length && k.challengerOf.every((id) => gone.has(id)))) {
      dropped.push({ id: m.id, name: m.name, kind: m.kind, reason: `chosen only as the challenger of ${m.challengerOf!.join(', ')}, dropped` });
      kept = kept.filter((k) => k !== m);
    }
    epochs = largestFitting(kept, input);
  }
  if (epochs === null) {
    const cheapest = input.models.reduce((a, b) => (trainingSeconds(b, min) < trainingSeconds(a, min) ? b : a));
    const needs = input.overheadSeconds + trainingSeconds(cheapest, min);
    throw new FinalizeError(
      `--time ${budget}: too short for any model; the cheapest, ${cheapest.name}, needs ${formatSeconds(needs)} for ${min} epochs (at ${cheapest.imagesPerSecond.toFixed(0)} images/s, with ${formatSeconds(input.overheadSeconds)} of measuring and reporting); give more time`,
    );
  }
  const schedule = scheduleAt(kept, epochs, input);
  const shortened =
    epochs < max
      ? `every model trains ${epochs} epochs, not ${max}: ${max} epochs of the ${kept.length} models would end at ${formatSeconds(scheduleAt(kept, max, input).expectedSeconds)}, past the ${budget} budget`
      : null;
  return { models: schedule.models, dropped, shortened, trainingSeconds: schedule.trainingSeconds, expectedSeconds: schedule.expectedSeconds, budgetSeconds: input.budgetSeconds };
}
