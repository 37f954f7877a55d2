/**
 * Multi-fidelity promotion as pure functions (asynchronous successive
 * halving, ASHA, with a multi-objective order): every candidate is first
 * trained for the lowest rung's budget; a candidate whose result at rung r is
 * among the best ⌊n_r / η⌋ of the n_r results at that rung so far is promoted
 * to rung r + 1 and trained on from its saved weights. Promotion decisions
 * depend only on the results and the order they arrived in, so replaying a
 * journal in its order reproduces every decision.
 *
 * "Best" at a rung is NSGA-II's order: non-dominated rank first, then
 * crowding distance (wider first), then id so that ties are deterministic.
 */
import { crowdingDistance, nonDominatedSort } from './pareto.js';

/** One candidate's objectives (to minimise) after training to a rung's budget. */
export interface RungResult {
  id: string;
  rung: number;
  point: readonly number[];
}

/** A promotion to make: train `id` on from rung `from` to rung `to`. */
export interface Promotion {
  id: string;
  from: number;
  to: number;
}

/** Budgets of the rungs, lowest first: base, base·η, base·η², … (images trained in all, cumulative). */
export function rungBudgets(base: number, eta: number, rungs: number): number[] {
  if (!(base > 0) || !(eta > 1) || !Number.isInteger(rungs) || rungs < 1) {
    throw new RangeError(`rungBudgets: expected base > 0, eta > 1 and a whole number of rungs ≥ 1, got ${base}, ${eta}, ${rungs}`);
  }
  return Array.from({ length: rungs }, (_, r) => Math.round(base * eta ** r));
}

/** Ids of one rung's results, best first (rank, then crowding, then id). */
export function rankAtRung(results: readonly RungResult[]): string[] {
  const points = results.map((r) => r.point);
  const order: string[] = [];
  for (const front of nonDominatedSort(points)) {
    const crowding = crowdingDistance(points, front);
    const byCrowding = front.map((index, k) => ({ id: results[index].id, crowding: crowding[k] }));
    byCrowding.sort((a, b) => b.crowding - a.crowding || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    order.push(...byCrowding.map((c) => c.id));
  }
  return order;
}

/**
 * The next promotion to make, or null: from the highest rung below the top
 * down (finishing promising candidates first), the best-ranked result at
 * that rung within its top ⌊n/η⌋ that is not yet promoted — while fewer than
 * ⌊n/η⌋ have left that rung. The quota is where this differs from plain
 * ASHA, which promotes whatever is in the top 1/η *now* and so, as a rung
 * fills and its ranking shifts, can promote more than 1/η of it; here rung
 * sizes follow η exactly and a night's compute is what the budgets say.
 */
export function nextPromotion(results: readonly RungResult[], promoted: ReadonlySet<string>, eta: number, rungs: number): Promotion | null {
  for (let rung = rungs - 2; rung >= 0; rung--) {
    const atRung = results.filter((r) => r.rung === rung);
    const quota = Math.floor(atRung.length / eta);
    const left = atRung.filter((r) => promoted.has(promotionKey(r.id, rung))).length;
    if (left >= quota) continue;
    const best = rankAtRung(atRung).slice(0, quota);
    const id = best.find((candidate) => !promoted.has(promotionKey(candidate, rung)));
    if (id !== undefined) return { id, from: rung, to: rung + 1 };
  }
  return null;
}

/** How a promotion is remembered: a candidate is promoted out of each rung at most once. */
export function promotionKey(id: string, from: number): string {
  return `${id}@${from}`;
}

/** Every candidate's highest rung reached: what selection and the front use. */
export function highestRungs(results: readonly RungResult[]): Map<string, RungResult> {
  const top = new Map<string, RungResult>();
  for (const r of results) if ((top.get(r.id)?.rung ?? -1) < r.rung) top.set(r.id, r);
  return top;
}
