import { describe, expect, it } from 'vitest';
import { crowdingDistance, dominates, hypervolume, nonDominatedSort, paretoFront } from '../../search/pareto.js';

describe('Pareto maths (minimisation)', () => {
  it('dominance', () => {
    expect(dominates([1, 2], [2, 2])).toBe(true);
    expect(dominates([1, 2], [1, 2])).toBe(false);
    expect(dominates([1, 3], [2, 2])).toBe(false);
  });

  const points = [
    [1, 5], // 0 front 0
    [2, 3], // 1 front 0
    [4, 1], // 2 front 0
    [3, 4], // 3 front 1 (dominated by 1)
    [5, 2], // 4 front 1 (dominated by 2)
    [6, 6], // 5 front 2
  ];

  it('non-dominated sorting gives the fronts in order', () => {
    expect(nonDominatedSort(points).map((f) => f.sort())).toEqual([[0, 1, 2], [3, 4], [5]]);
    expect(paretoFront(points).sort()).toEqual([0, 1, 2]);
  });

  it('crowding distance: boundaries infinite, inner points the normalised neighbour gap', () => {
    const d = crowdingDistance(points, [0, 1, 2]);
    // point 1: x neighbours 1 and 4 over range 3 → 1; y neighbours 5 and 1 over range 4 → 1.
    expect(d).toEqual([Infinity, 2, Infinity]);
  });

  it('2-D hypervolume equals the union of rectangles to the reference point', () => {
    // reference (6, 6): [1,5]→5×1, then [2,3]→4×2, then [4,1]→2×2 = 5 + 8 + 4
    expect(hypervolume([[1, 5], [2, 3], [4, 1], [3, 4]], [6, 6])).toBe(17);
    expect(hypervolume([[7, 1]], [6, 6])).toBe(0);
  });

  it('3-D hypervolume by slicing equals the inclusion–exclusion volume', () => {
    // boxes to (4,4,4) from (1,2,3) → 3·2·1 = 6 and (2,1,2) → 2·3·2 = 12; overlap (2,2,3)→2·2·1 = 4
    expect(hypervolume([[1, 2, 3], [2, 1, 2]], [4, 4, 4])).toBe(14);
  });
});
