/**
 * Drawing genomes that have not been seen: searchers propose, this keeps
 * only new ids, and gives up after a bounded number of tries so a small,
 * exhausted space ends the run instead of looping.
 */
import type { EvolutionarySearchSpace, Genome } from '../space/types.js';

/** Tries per wanted genome before concluding the space is exhausted. */
export const MAX_TRIES_PER_GENOME = 50;

export function drawUnseen(
  space: EvolutionarySearchSpace,
  count: number,
  isSeen: (id: string) => boolean,
  draw: () => Genome,
): Genome[] {
  const out: Genome[] = [];
  const ids = new Set<string>();
  for (let tries = 0; out.length < count && tries < count * MAX_TRIES_PER_GENOME; tries++) {
    const genome = draw();
    const id = space.id(genome);
    if (isSeen(id) || ids.has(id)) continue;
    ids.add(id);
    out.push(genome);
  }
  return out;
}
