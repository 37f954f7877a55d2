/**
 * A per-candidate seed from the run seed and the genome id: a candidate
 * trained again (on resume, on another machine, when compressed) gets the
 * same initial weights and batch order.
 */
import { createHash } from 'node:crypto';

export function candidateSeed(runSeed: number, id: string): number {
  return createHash('sha256').update(`${runSeed}:${id}`).digest().readUInt32LE(0);
}

/**
 * The batch-order seed every candidate of a run shares under
 * `training.sharedDataOrder` (`replicate` > 0: a bench's retest draws another).
 * Not a genome id, so it cannot collide with a candidate's seed.
 */
export function sharedDataSeed(runSeed: number, replicate = 0): number {
  return candidateSeed(runSeed, replicate ? `shared-data-order:${replicate}` : 'shared-data-order');
}
