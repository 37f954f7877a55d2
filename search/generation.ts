/**
 * One generation of the search: constraints, then latency (one at a time),
 * then training in parallel lanes, promotions alongside. The search loop
 * (engine.ts) calls it once per generation.
 */
import type { Genome } from '../space/types.js';
import type { MobileNetSpace } from '../space/space.js';
import type { SearchConfig } from './config.js';
import { decideLatency, decideOnPrediction } from './latency-decision.js';
import { QueueError } from '../train/queue/redis-url.js';
import type { CandidateEvaluator, CandidateRecord, EvaluatedRecord, LatencyFigures, RungBudget } from './types.js';

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
    // The lookup table predicts fp32: an INT8 model can be twice as fast, so it rejects only fp32 runs' candidates.
    const slack = ctx.config.latency.precision === 'fp32' ? ctx.config.latency.predictorSlack : undefined;
    const predictedOnly = ctx.config.latency.source === 'predicted';
    if (limit !== undefined || predictedOnly) await ctx.evaluator.prepare?.(feasible.map((f) => f.genome));
    let accepted = 0;
    for (const f of feasible) {
      if (cancel.signal.aborted) break;
      const base = { id: f.id, generation, genome: f.genome, params: f.params, macs: f.macs };
      const accept = (latency: LatencyFigures) => {
        if (accepted++ < ctx.remainingBudget) submit({ genome: f.genome, id: f.id, latency, rung: ctx.firstRung, base });
        else overBudget++;
      };
      // A calibrated predictor's interval wholly inside or outside the limit saves the measurement;
      // with latency.source "predicted" its p50 decides alone and nothing is measured.
      const interval = limit !== undefined || predictedOnly ? ctx.evaluator.predictLatencyInterval?.(f.genome) ?? null : null;
      const decision = predictedOnly ? decideOnPrediction(interval, limit) : limit !== undefined ? decideLatency(interval, limit) : null;
      if (decision && decision.state !== 'uncertain') {
        // A predictor stands for one precision (checked when it was loaded): int8 runs predict INT8 latency.
        const latency = { p50: decision.predicted.p50, p90: decision.predicted.p90, source: 'predicted' as const, ...(ctx.config.latency.precision === 'int8' ? { precision: 'int8' as const } : {}) };
        if (decision.state === 'outside') ctx.onRecord({ ...base, state: 'rejected', constraint: 'maxLatencyMs', value: latency.p50, limit: limit!, latency });
        else accept(journaledLatency(latency));
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
      accept(journaledLatency(latency));
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

/** The latency fields a record keeps (an evaluator may return more). */
function journaledLatency(l: LatencyFigures): LatencyFigures {
  return {
    p50: l.p50,
    p90: l.p90,
    source: l.source,
    ...(l.precision !== undefined ? { precision: l.precision } : {}),
    ...(l.int8Variant !== undefined ? { int8Variant: l.int8Variant } : {}),
    ...(l.fp32P50 !== undefined ? { fp32P50: l.fp32P50 } : {}),
  };
}
