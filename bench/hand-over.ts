/**
 * What a search would hand over had it stopped after a given compute: the
 * Pareto front of the journal's first lines whose training fits in that many
 * images (every rung counted), each candidate at the highest rung it had
 * reached by then. Used by both equal-compute comparisons of
 * `npm run bench:search` (proxy and real evaluator). Pure.
 */
import { objectivesOf, type SearchConfig } from '../search/config.js';
import { latestRecords } from '../search/fidelity.js';
import { frontOf } from '../search/objectives.js';
import type { CandidateRecord, EvaluatedRecord } from '../search/types.js';

/** Images a journal line cost: its session's training (a failed training counts; a rejection before training does not). */
export type LineCost = (line: CandidateRecord) => number;

/** The journal lines, in order, that fit in `compute` images, and the images they spent. */
export function linesWithin(lines: readonly CandidateRecord[], compute: number, cost: LineCost): { lines: CandidateRecord[]; spent: number } {
  let spent = 0;
  const prefix: CandidateRecord[] = [];
  for (const line of lines) {
    const c = line.state === 'evaluated' || (line.state === 'failed' && line.stage === 'training') ? cost(line) : 0;
    if (spent + c > compute) break;
    spent += c;
    prefix.push(line);
  }
  return { lines: prefix, spent };
}

/** The front a run hands over after `compute` images. */
export function frontAfter(lines: readonly CandidateRecord[], config: SearchConfig, compute: number, cost: LineCost): EvaluatedRecord[] {
  return frontOf(latestRecords(linesWithin(lines, compute, cost).lines), objectivesOf(config));
}
