/**
 * Contracts of the search stage: objectives, what one candidate's evaluation
 * records (a union keyed on `state`, one journal line each), the searcher
 * and evaluator interfaces, and the events a run reports. Types and docs only.
 */
import type { Genome } from '../space/types.js';
import type { PredictedLatency } from './latency-decision.js';

/**
 * Objectives by name: accuracy is maximised, the others minimised.
 * `logLikelihood` stands in for accuracy in a run that ranks by it (rankBy):
 * the same objective, read from every validation image's margin.
 */
export type ObjectiveName = 'accuracy' | 'logLikelihood' | 'latency' | 'params' | 'macs';

/** Limits checked before training; latency against the untrained model, which costs the same. */
export interface Constraints {
  maxLatencyMs?: number;
  maxParams?: number;
  maxMacs?: number;
}

/** A candidate’s latency, in milliseconds. */
export interface LatencyFigures {
  p50: number;
  p90: number;
  /**
   * Measured with the harness, or predicted: by the calibrated predictor when
   * its interval lies wholly inside or outside the latency limit (the
   * measurement was skipped), or by the lookup table for a rejection; or
   * `formula`: the proxy evaluator's analytic stand-in, never measured.
   */
  source: 'measured' | 'predicted' | 'formula';
  /**
   * The precision p50 and p90 are of (latency.precision): absent in fp32 runs
   * (and in runs from before precisions), `int8` with the INT8 variant measured;
   * under `best`, whichever won.
   */
  precision?: 'fp32' | 'int8';
  int8Variant?: string;
  /** fp32's p50 in the same interleaved run, when another precision was measured beside it. */
  fp32P50?: number;
}

interface RecordBase {
  /** The genome's id: keys the journal, caches and CSV rows. */
  id: string;
  /** The generation whose ask() produced it. */
  generation: number;
  genome: Genome;
  params: number;
  macs: number;
}

/** Over a constraint: never trained. */
export interface RejectedRecord extends RecordBase {
  state: 'rejected';
  constraint: keyof Constraints;
  value: number;
  limit: number;
  latency?: LatencyFigures;
}

/** Measured and trained: a point for the Pareto front. */
export interface EvaluatedRecord extends RecordBase {
  state: 'evaluated';
  latency: LatencyFigures;
  /** Distilled top-1 accuracy on the validation split, 0–1. */
  accuracy: number;
  /**
   * Mean log-probability of the true class on the same images (≤ 0): what a
   * run with `"rankBy": "log-likelihood"` ranks by. Supernet scoring and
   * training record it; absent for the proxy evaluator and in runs from before it.
   */
  logLikelihood?: number;
  trainSeconds: number;
  imagesPerSecond: number;
  lossCurve: number[];
  /** Multi-fidelity rung this result is from (0: the first training); absent in runs without fidelity. */
  rung?: number;
  /** Images the candidate has trained on in all, every rung counted. */
  imagesTrained?: number;
}

/** Latency or training threw, ran out of memory, or passed its time limit. The search goes on. */
export interface FailedRecord extends RecordBase {
  state: 'failed';
  stage: 'latency' | 'training';
  error: string;
  latency?: LatencyFigures;
  /** The rung whose training failed (a failed promotion keeps the candidate's lower-rung result). */
  rung?: number;
}

/** A candidate’s outcome, keyed on `state`. */
export type CandidateRecord = RejectedRecord | EvaluatedRecord | FailedRecord;

/**
 * A search algorithm over generations. It owns its seeded generator, so the
 * same seed and the same told results give the same genomes: that is what
 * lets a killed run be replayed from its journal.
 */
export interface Searcher {
  readonly name: string;
  /** The next generation's genomes, none of them already seen. */
  ask(): Genome[];
  /** The records of the last ask's genomes, in the same order. */
  tell(records: CandidateRecord[]): void;
  /**
   * A candidate told earlier has a better-trained result (a multi-fidelity
   * promotion): selection uses it from now on. Called before the next tell.
   */
  update?(record: EvaluatedRecord): void;
}

/**
 * One training of a candidate in a multi-fidelity search: to `images` in all,
 * on from the candidate's previous rung when `rung` > 0.
 */
export interface RungBudget {
  rung: number;
  images: number;
}

/** What the engine needs to evaluate genomes; tests plug in cheap fixtures. */
export interface CandidateEvaluator {
  /** Latency of the untrained model; throws when it cannot be measured. */
  latency(genome: Genome, id: string): Promise<LatencyFigures>;
  /** Gets ready to predict a generation's latencies (fills a lookup table). */
  prepare?(genomes: Genome[]): Promise<void>;
  /** A free prediction, or null; used only to reject clearly over-budget genomes. */
  predictLatency?(genome: Genome): number | null;
  /** A calibrated prediction with its interval, or null; see search/latency-decision.ts. */
  predictLatencyInterval?(genome: Genome): PredictedLatency | null;
  /** Trains and validates (to `rung`'s budget when given); throws (or rejects) when training fails. */
  train(genome: Genome, id: string, signal: AbortSignal, rung?: RungBudget): Promise<TrainingOutcome>;
  /** See {@link CandidateTrainer.writeFiles}. */
  writeFiles?(candidates: ReadonlyArray<{ genome: Genome; id: string }>): Promise<void>;
  /** `finished`: the run ended (not interrupted), so nothing of it needs keeping for a resume. */
  close(finished?: boolean): Promise<void>;
}

/** What training one candidate adds to its record. */
export type TrainingOutcome = Pick<EvaluatedRecord, 'accuracy' | 'logLikelihood' | 'trainSeconds' | 'imagesPerSecond' | 'lossCurve'>;

/**
 * Where candidates train: a pool of threads here (evaluators.ts) or the
 * workers of a Redis queue (queue-evaluator.ts). Either writes the trained
 * candidate's files under `<runDir>/candidates/<id>/` before resolving.
 */
export interface CandidateTrainer {
  /**
   * Trains one candidate (to `rung`'s budget, on from its previous rung's
   * checkpoint, when given); aborting `signal` drops it (not a failure: it re-runs on resume).
   */
  train(genome: Genome, id: string, signal: AbortSignal, rung?: RungBudget): Promise<TrainingOutcome>;
  /**
   * Writes `<runDir>/candidates/<id>/` for candidates evaluated without their
   * files. Present where `train` does not write them (a supernet scores
   * thousands of subnets and keeps files only for the front, made again at
   * the end); the engine calls it for the front members that lack them.
   */
  writeFiles?(candidates: ReadonlyArray<{ genome: Genome; id: string }>): Promise<void>;
  /** See {@link CandidateEvaluator.close}. */
  close(finished?: boolean): Promise<void>;
}

/** Reported after every generation. */
export interface GenerationEvent {
  generation: number;
  /** Candidates trained so far (evaluated or failed in training). */
  evaluations: number;
  /** Images trained so far, every rung counted. */
  imagesTrained: number;
  /** Multi-fidelity: results at each rung so far, lowest first. */
  rungCounts?: number[];
  candidates: number;
  frontSize: number;
  hypervolume: number;
  elapsedSeconds: number;
  /** Seconds left by the evaluation or time budget, whichever ends first; null when unbounded. */
  etaSeconds: number | null;
}

/** How a run ended. */
export type StopReason = 'evaluations' | 'images' | 'time' | 'generations' | 'interrupted' | 'exhausted';
