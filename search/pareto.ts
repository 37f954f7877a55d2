/**
 * Multi-objective maths as pure functions over points to MINIMISE (callers
 * negate what they maximise): dominance, non-dominated sorting, crowding
 * distance, the Pareto front and the hypervolume.
 */

/** a dominates b: no worse anywhere, strictly better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/**
 * Fast non-dominated sort (Deb et al., NSGA-II): the indices of `points`
 * grouped into fronts, best first.
 */
export function nonDominatedSort(points: readonly (readonly number[])[]): number[][] {
  const n = points.length;
  const dominatedBy: number[][] = Array.from({ length: n }, () => []);
  const count = new Array<number>(n).fill(0);
  const fronts: number[][] = [[]];
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      if (p === q) continue;
      if (dominates(points[p], points[q])) dominatedBy[p].push(q);
      else if (dominates(points[q], points[p])) count[p]++;
    }
    if (count[p] === 0) fronts[0].push(p);
  }
  for (let i = 0; fronts[i].length; i++) {
    const next: number[] = [];
    for (const p of fronts[i]) for (const q of dominatedBy[p]) if (--count[q] === 0) next.push(q);
    fronts.push(next);
  }
  fronts.pop();
  return fronts;
}

/**
 * Crowding distance of each member of one front (same order as `front`):
 * boundary points get Infinity, others the normalised perimeter of the
 * cuboid formed by their neighbours.
 */
export function crowdingDistance(points: readonly (readonly number[])[], front: readonly number[]): number[] {
  const distance = new Array<number>(front.length).fill(0);
  if (front.length <= 2) return distance.fill(Infinity);
  const dims = points[front[0]].length;
  for (let m = 0; m < dims; m++) {
    const order = front.map((_, k) => k).sort((a, b) => points[front[a]][m] - points[front[b]][m]);
    const lo = points[front[order[0]]][m];
    const hi = points[front[order[order.length - 1]]][m];
    distance[order[0]] = distance[order[order.length - 1]] = Infinity;
    if (hi === lo) continue;
    for (let k = 1; k < order.length - 1; k++) {
      distance[order[k]] += (points[front[order[k + 1]]][m] - points[front[order[k - 1]]][m]) / (hi - lo);
    }
  }
  return distance;
}

/** Indices of the non-dominated points (duplicates of a front point are all kept). */
export function paretoFront(points: readonly (readonly number[])[]): number[] {
  return points.map((_, i) => i).filter((i) => !points.some((q, j) => j !== i && dominates(q, points[i])));
}

/** Area dominated by 2-D points and bounded by `reference` (points beyond it count for nothing). */
function hypervolume2d(points: readonly (readonly number[])[], reference: readonly number[]): number {
  const inside = points.filter((p) => p[0] < reference[0] && p[1] < reference[1]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let area = 0;
  let bestY = reference[1];
  for (const [x, y] of inside) {
    if (y >= bestY) continue;
    area += (reference[0] - x) * (bestY - y);
    bestY = y;
  }
  return area;
}

/**
 * Hypervolume dominated by `points` (minimised) and bounded by `reference`,
 * exact in 2-D and 3-D (3-D by slicing along the last objective).
 */
export function hypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  if (reference.length === 2) return hypervolume2d(points, reference);
  if (reference.length !== 3) throw new RangeError(`hypervolume supports 2 or 3 objectives, got ${reference.length}`);
  const inside = points.filter((p) => p.every((v, i) => v < reference[i])).sort((a, b) => a[2] - b[2]);
  let volume = 0;
  for (let k = 0; k < inside.length; k++) {
    const z = inside[k][2];
    const next = k + 1 < inside.length ? inside[k + 1][2] : reference[2];
    if (next === z) continue;
    volume += hypervolume2d(inside.slice(0, k + 1), reference) * (next - z);
  }
  return volume;
}
