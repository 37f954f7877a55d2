/**
 * A per-candidate seed from the run seed and the genome id: a candidate
 * trained again (on resume, on another machine, when compressed) gets the
 * same initial weights and batch order.
 */
import { createHash } from 'node:crypto';

export function candidateSeed(runSeed: number, id: string): number {
  return createHash('sha256').update(`${runSeed}:${id}`).digest().readUInt32LE(0);
}
