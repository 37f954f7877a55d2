/**
 * The bookkeeping of a multi-fidelity search: each rung's budget in images,
 * every rung result in the order the engine learned it, and which
 * promotions to make next (search/promotion.ts decides; this remembers).
 * Deterministic: the engine asks for promotions only at generation
 * boundaries, so the same results give the same promotions on a resumed run.
 */
import type { SearchConfig } from './config.js';
import { pointOf } from './objectives.js';
import { dominates } from './pareto.js';
import { nextPromotion, promotionKey, rungBudgets, type Promotion, type RungResult } from './promotion.js';
import type { CandidateRecord, EvaluatedRecord, ObjectiveName, RungBudget } from './types.js';

/** Images one candidate's first training sees: `training.images`, or its epochs over the (subset of the) training split. */
export function baseTrainingImages(config: SearchConfig, trainSplitCount: number): number {
  const t = config.training;
  if (t.images !== undefined) return t.images;
  const count = t.subset !== undefined ? Math.min(t.subset, trainSplitCount) : trainSplitCount;
  return Math.round((t.epochs ?? 1) * count);
}

/** The rung a record is from: records of runs without fidelity are rung 0. */
export function rungOf(record: CandidateRecord): number {
  return record.state === 'rejected' ? 0 : (record.rung ?? 0);
}

/** How a record is keyed in the journal: a candidate's first result by its id, a promotion's by id@rung. */
export function journalKey(record: CandidateRecord): string {
  const rung = rungOf(record);
  return rung === 0 ? record.id : `${record.id}@${rung}`;
}

export class RungLedger {
  /** Cumulative images per rung, lowest first. */
  readonly budgets: number[];
  readonly #results: RungResult[] = [];
  readonly #promoted = new Set<string>();

  constructor(
    baseImages: number,
    readonly eta: number,
    readonly rungs: number,
    private readonly objectives: readonly ObjectiveName[],
  ) {
    this.budgets = rungBudgets(baseImages, eta, rungs);
  }

  /** A trained result (any rung) joins its rung. */
  add(record: EvaluatedRecord): void {
    this.#results.push({ id: record.id, rung: rungOf(record), point: pointOf(record, this.objectives) });
  }

  /** Every promotion the results so far allow, highest rung first; each is remembered as made. */
  takePromotions(): Promotion[] {
    const taken: Promotion[] = [];
    for (let p = nextPromotion(this.#results, this.#promoted, this.eta, this.rungs); p; p = nextPromotion(this.#results, this.#promoted, this.eta, this.rungs)) {
      this.#promoted.add(promotionKey(p.id, p.from));
      taken.push(p);
    }
    return taken;
  }

  /** What training to rung `rung` means. */
  budget(rung: number): RungBudget {
    return { rung, images: this.budgets[rung] };
  }

  /** Images trained by one training session that ended at `rung` (not the candidate's total). */
  sessionImages(rung: number): number {
    return this.budgets[rung] - (rung > 0 ? this.budgets[rung - 1] : 0);
  }

  /** How many results each rung holds. */
  counts(): number[] {
    const counts = this.budgets.map(() => 0);
    for (const r of this.#results) counts[r.rung]++;
    return counts;
  }
}

/** A ledger for a config with `fidelity` of more than one rung, else null. */
export function ledgerFor(config: SearchConfig, baseImages: number, objectives: readonly ObjectiveName[]): RungLedger | null {
  const f = config.fidelity;
  if (!f || f.rungs < 2) return null;
  return new RungLedger(baseImages, f.eta, f.rungs, objectives);
}

/**
 * Journal lines in order → one record per candidate, at its highest rung
 * trained (what the CSVs, the front and the hypervolume use). A failed
 * promotion leaves the candidate's lower-rung result standing.
 */
export function latestRecords(lines: readonly CandidateRecord[]): CandidateRecord[] {
  const records: CandidateRecord[] = [];
  const position = new Map<string, number>();
  for (const line of lines) {
    const at = position.get(line.id);
    if (at === undefined) {
      position.set(line.id, records.length);
      records.push(line);
    } else if (line.state === 'evaluated' && rungOf(line) > rungOf(records[at])) {
      records[at] = line;
    }
  }
  return records;
}

/**
 * The non-dominated candidates, each compared with every other at the
 * highest rung both reached (each at its highest rung in the result). A
 * promoted candidate's accuracy is read after 3× or 9× the training of one
 * that was not, so one front over every candidate's highest rung keeps
 * little but the promoted (the more-trained dominate the rest by training,
 * not by architecture); compared at their common rung, a candidate is
 * removed only by one that was better at the same training. Without
 * promotions this is the plain Pareto front. Pure, O(n²).
 */
export function frontAtCommonRung(lines: readonly CandidateRecord[], objectives: readonly ObjectiveName[]): EvaluatedRecord[] {
  const byRung = new Map<string, EvaluatedRecord[]>();
  for (const line of lines) {
    if (line.state !== 'evaluated') continue;
    const results = byRung.get(line.id) ?? [];
    results[rungOf(line)] = line;
    byRung.set(line.id, results);
  }
  // Rungs are climbed one at a time, so a candidate has a result at every rung up to its highest.
  const candidates = [...byRung].map(([id, results]) => {
    const missing = Array.from(results).findIndex((r) => r === undefined);
    if (missing >= 0) throw new Error(`candidate ${id} has a result at rung ${results.length - 1} but none at rung ${missing}: rungs are climbed one at a time`);
    return { results, top: results.length - 1 };
  });
  const front = candidates.filter((b) =>
    candidates.every((a) => {
      if (a === b) return true;
      const rung = Math.min(a.top, b.top);
      return !dominates(pointOf(a.results[rung], objectives), pointOf(b.results[rung], objectives));
    }),
  );
  return front.map((c) => c.results[c.top]).sort((a, b) => b.accuracy - a.accuracy || a.latency.p50 - b.latency.p50);
}

/** Results of every rung in journal order: rungs.csv's rows. */
export function rungResults(lines: readonly CandidateRecord[]): EvaluatedRecord[] {
  return lines.filter((r): r is EvaluatedRecord => r.state === 'evaluated' && r.rung !== undefined);
}
