/**
 * From records to points: each evaluated record becomes a vector to
 * minimise (accuracy, or the log-likelihood standing for it, negated), in
 * the order objectivesOf() gives. Records that were never trained sit at
 * infinity, behind every real point.
 */
import type { SearchConfig } from './config.js';
import { objectivesOf } from './config.js';
import { hypervolume, paretoFront } from './pareto.js';
import type { CandidateRecord, EvaluatedRecord, ObjectiveName } from './types.js';

function logLikelihoodOf(record: EvaluatedRecord): number {
  if (record.logLikelihood === undefined) {
    throw new Error(`candidate ${record.id}: its record has no logLikelihood, and the run ranks by it (rankBy); records from before rankBy have none`);
  }
  return record.logLikelihood;
}

export function pointOf(record: CandidateRecord, objectives: readonly ObjectiveName[]): number[] {
  if (record.state !== 'evaluated') return objectives.map(() => Infinity);
  return objectives.map((o) =>
    o === 'accuracy' ? -record.accuracy : o === 'logLikelihood' ? -logLikelihoodOf(record) : o === 'latency' ? record.latency.p50 : o === 'params' ? record.params : record.macs,
  );
}

/** The objectives in accuracy's unit: what hypervolume is read in, so that runs ranked by log-likelihood or by accuracy compare. */
export function hypervolumeObjectives(objectives: readonly ObjectiveName[]): ObjectiveName[] {
  return objectives.map((o) => (o === 'logLikelihood' ? 'accuracy' : o));
}

/** The stated hypervolume reference point, as a point to minimise, in accuracy's unit (see {@link hypervolumeOf}). */
export function referencePoint(config: SearchConfig): number[] {
  const ref = config.hypervolumeReference;
  const latency = ref.latencyMs ?? config.constraints.maxLatencyMs ?? 5;
  return hypervolumeObjectives(objectivesOf(config)).map((o) =>
    o === 'accuracy' ? -ref.accuracy : o === 'latency' ? latency : o === 'params' ? (ref.params ?? config.constraints.maxParams ?? 1e7) : (ref.macs ?? config.constraints.maxMacs ?? 1e9),
  );
}

/** Evaluated records on the Pareto front of `objectives`, best accuracy first. */
export function frontOf(records: readonly CandidateRecord[], objectives: readonly ObjectiveName[]): EvaluatedRecord[] {
  const evaluated = records.filter((r): r is EvaluatedRecord => r.state === 'evaluated');
  return paretoFront(evaluated.map((r) => pointOf(r, objectives)))
    .map((i) => evaluated[i])
    .sort((a, b) => b.accuracy - a.accuracy || a.latency.p50 - b.latency.p50);
}

/**
 * The hypervolume every evaluated record dominates, with accuracy as the first
 * objective even in a run that ranks by log-likelihood: the figure in the unit
 * the reports show, and one a user can compare between runs that rank differently.
 */
export function hypervolumeOf(records: readonly CandidateRecord[], config: SearchConfig): number {
  const objectives = hypervolumeObjectives(objectivesOf(config));
  const points = records.filter((r) => r.state === 'evaluated').map((r) => pointOf(r, objectives));
  return hypervolume(points, referencePoint(config));
}
