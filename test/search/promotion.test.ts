import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { highestRungs, nextPromotion, promotionKey, rankAtRung, rungBudgets, type RungResult } from '../../search/promotion.js';

/** Feeds results one at a time, promoting whenever ASHA says so; returns the promotions in order. */
function replay(results: RungResult[], eta: number, rungs: number): string[] {
  const seen: RungResult[] = [];
  const promoted = new Set<string>();
  const made: string[] = [];
  for (const r of results) {
    seen.push(r);
    for (let p = nextPromotion(seen, promoted, eta, rungs); p; p = nextPromotion(seen, promoted, eta, rungs)) {
      promoted.add(promotionKey(p.id, p.from));
      made.push(`${p.id}:${p.from}→${p.to}`);
    }
  }
  return made;
}

describe('multi-fidelity promotion (ASHA, multi-objective order)', () => {
  it('rung budgets grow by η', () => {
    expect(rungBudgets(8000, 3, 3)).toEqual([8000, 24000, 72000]);
    expect(() => rungBudgets(8000, 1, 3)).toThrow(/eta > 1/);
  });

  it('ranks a rung by non-dominated rank, then crowding, then id', () => {
    // minimise both: a and b are on the first front (a at an extreme, so infinitely crowded-apart), c is dominated
    const ranked = rankAtRung([
      { id: 'c', rung: 0, point: [3, 3] },
      { id: 'b', rung: 0, point: [2, 2] },
      { id: 'a', rung: 0, point: [1, 4] },
      { id: 'd', rung: 0, point: [4, 1] },
    ]);
    expect(ranked.slice(0, 3).sort()).toEqual(['a', 'b', 'd']);
    expect(ranked[3]).toBe('c');
  });

  it('promotes ⌊n/η⌋ of each rung: 27 candidates at η = 3 give 9 promotions to rung 1 and 3 to rung 2', () => {
    const rng = seedrandom('asha');
    const points = new Map<string, number[]>();
    const results: RungResult[] = [];
    for (let i = 0; i < 27; i++) {
      const id = `c${String(i).padStart(2, '0')}`;
      points.set(id, [rng(), rng()]);
      results.push({ id, rung: 0, point: points.get(id)! });
    }
    // Feed rung-0 results, then each promoted candidate's higher-rung result as soon as it is promoted.
    const seen: RungResult[] = [];
    const promoted = new Set<string>();
    const queue = [...results];
    const counts = [0, 0, 0];
    while (queue.length) {
      const r = queue.shift()!;
      seen.push(r);
      counts[r.rung]++;
      for (let p = nextPromotion(seen, promoted, 3, 3); p; p = nextPromotion(seen, promoted, 3, 3)) {
        promoted.add(promotionKey(p.id, p.from));
        // the same candidate trained longer: a little better on the first objective
        const [a, b] = points.get(p.id)!;
        queue.push({ id: p.id, rung: p.to, point: [a - 0.01 * p.to, b] });
      }
    }
    expect(counts).toEqual([27, 9, 3]);
    // Nobody is promoted twice out of the same rung, and only promoted candidates reach a rung.
    const tops = highestRungs(seen);
    expect([...tops.values()].filter((r) => r.rung === 2)).toHaveLength(3);
    expect([...tops.values()].filter((r) => r.rung === 1)).toHaveLength(6);
  });

  it('the same results in the same order give the same promotions (what makes resume exact), ⌊12/3⌋ of them', () => {
    const rng = seedrandom('order');
    const results: RungResult[] = Array.from({ length: 12 }, (_, i) => ({ id: `x${i}`, rung: 0, point: [rng(), rng()] }));
    expect(replay(results, 3, 2)).toEqual(replay(results.map((r) => ({ ...r })), 3, 2));
    expect(replay(results, 3, 2)).toHaveLength(4);
  });

  it('nothing is promoted past the top rung, or before a rung holds η results', () => {
    expect(nextPromotion([{ id: 'a', rung: 0, point: [0, 0] }, { id: 'b', rung: 0, point: [1, 1] }], new Set(), 3, 3)).toBeNull();
    const atTop: RungResult[] = ['a', 'b', 'c'].map((id, i) => ({ id, rung: 2, point: [i, i] }));
    expect(nextPromotion(atTop, new Set(), 3, 3)).toBeNull();
  });
});
