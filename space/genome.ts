/**
 * Genome identity: a canonical JSON form (fixed key order) and a short hash
 * of it. The id names the architecture, not weights, and keys duplicate
 * checks, caches, the journal and CSV rows.
 */
import { createHash } from 'node:crypto';
import type { Genome } from './types.js';

/** The canonical JSON of a genome: same architecture, same string. */
export function canonicalGenome(genome: Genome): string {
  return JSON.stringify({
    resolution: genome.resolution,
    stemWidth: genome.stemWidth,
    stages: genome.stages.map((s) => ({
      width: s.width,
      activation: s.activation,
      squeezeExcite: s.squeezeExcite,
      // hidden/squeezed (pruned models) only when present, so search ids never change.
      blocks: s.blocks.map((b) => ({
        kernel: b.kernel,
        expand: b.expand,
        ...(b.hidden !== undefined ? { hidden: b.hidden } : {}),
        ...(b.squeezed !== undefined ? { squeezed: b.squeezed } : {}),
      })),
    })),
    headWidth: genome.headWidth,
  });
}

/** 12 hex characters of sha256 of the canonical form. */
export function genomeId(genome: Genome): string {
  return createHash('sha256').update(canonicalGenome(genome)).digest('hex').slice(0, 12);
}

/**
 * A one-line summary for CSVs and logs, e.g.
 * `r28 s16 | 16x1:k3e1 | 24x2:k5e6,k3e4 se hs | h256`.
 */
export function summariseGenome(genome: Genome): string {
  const stages = genome.stages.map((s) => {
    const blocks = s.blocks.map((b) => `k${b.kernel}e${b.expand}${b.hidden !== undefined ? `h${b.hidden}` : ''}`).join(',');
    return `${s.width}x${s.blocks.length}:${blocks}${s.squeezeExcite ? ' se' : ''}${s.activation === 'hswish' ? ' hs' : ''}`;
  });
  return [`r${genome.resolution} s${genome.stemWidth}`, ...stages, `h${genome.headWidth}`].join(' | ');
}
