/** Shared test helpers: seeded arrays and relative error against a reference. */
import seedrandom from 'seedrandom';

/** Seeded normal-ish values in [-1, 1). */
export function seededArray(length: number, seed: string): Float32Array {
  const rng = seedrandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng() * 2 - 1;
  return out;
}

/** max |a − b| divided by max |b|: error relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (actual.length !== reference.length) throw new Error(`length ${actual.length} != ${reference.length}`);
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return maxDiff / (scale || 1);
}
