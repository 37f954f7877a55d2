/**
 * What a search would hand over had it stopped after a given compute: the
 * Pareto front of the journal's first lines whose training fits in that many
 * images (every rung counted), each candidate at the highest rung it had
 * reached by then (or compared at their common rung). Used by both equal-compute comparisons of
 * `npm run bench:search` (proxy and real evaluator). Pure.
 */
import { objectivesOf, type SearchConfig } from '../search/config.js';
import { frontAtCommonRung, latestRecords } from '../search/fidelity.js';
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

/**
 * How the handed-over front compares candidates: `highest-rung`, every
 * candidate at its highest rung in one front (the search's pareto.csv);
 * `common-rung`, each pair at the highest rung both reached
 * (search/fidelity.ts frontAtCommonRung). The same without promotions.
 */
export type HandOverRule = 'highest-rung' | 'common-rung';
export const HAND_OVER_RULES: readonly HandOverRule[] = ['highest-rung', 'common-rung'];

/** The front a run hands over after `compute` images. */
export function frontAfter(lines: readonly CandidateRecord[], config: SearchConfig, compute: number, cost: LineCost, rule: HandOverRule = 'highest-rung'): EvaluatedRecord[] {
  const within = linesWithin(lines, compute, cost).lines;
  return rule === 'common-rung' ? frontAtCommonRung(within, objectivesOf(config)) : frontOf(latestRecords(within), objectivesOf(config));
}
