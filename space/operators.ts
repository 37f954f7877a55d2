/**
 * Seeded sample, mutate and crossover: pure functions of (space, genome, rng)
 * that always return genomes valid for the space.
 */
import { canonicalGenome } from './genome.js';
import type { BlockGene, Genome, Random, SearchSpaceConfig, StageGene, StageSpace } from './types.js';

/** A uniform pick. */
export function pick<T>(choices: readonly T[], rng: Random): T {
  return choices[Math.floor(rng() * choices.length)];
}

/** A uniform pick among the choices other than `current`, or `current` if there is none. */
function pickOther<T>(choices: readonly T[], current: T, rng: Random): T {
  const others = choices.filter((c) => c !== current);
  return others.length ? pick(others, rng) : current;
}

function sampleBlock(stage: StageSpace, rng: Random): BlockGene {
  return { kernel: pick(stage.kernelSizes, rng), expand: pick(stage.expandRatios, rng) };
}

function sampleStage(stage: StageSpace, rng: Random): StageGene {
  const depth = pick(stage.depths, rng);
  return {
    width: pick(stage.widths, rng),
    activation: pick(stage.activations, rng),
    squeezeExcite: pick(stage.squeezeExcite, rng),
    blocks: Array.from({ length: depth }, () => sampleBlock(stage, rng)),
  };
}

/** A genome drawn uniformly gene by gene. */
export function sampleGenome(space: SearchSpaceConfig, rng: Random): Genome {
  return {
    resolution: pick(space.resolutions, rng),
    stemWidth: pick(space.stemWidths, rng),
    stages: space.stages.map((s) => sampleStage(s, rng)),
    headWidth: pick(space.headWidths, rng),
  };
}

/** Default per-gene mutation probability. */
export const DEFAULT_MUTATION_PROBABILITY = 0.1;

/**
 * Each gene changes with `probability` to another allowed value; a stage's
 * depth change drops blocks from the end or appends sampled ones. If nothing
 * changed, one mutable gene chosen at random is forced to change, so the
 * result always differs when the space allows it.
 */
export function mutateGenome(
  space: SearchSpaceConfig,
  genome: Genome,
  rng: Random,
  probability = DEFAULT_MUTATION_PROBABILITY,
): Genome {
  type Mutation = (g: Genome) => void;
  const mutations: Mutation[] = [];
  const add = (choices: readonly unknown[], m: Mutation) => {
    if (choices.length > 1) mutations.push(m);
  };
  add(space.resolutions, (g) => (g.resolution = pickOther(space.resolutions, g.resolution, rng)));
  add(space.stemWidths, (g) => (g.stemWidth = pickOther(space.stemWidths, g.stemWidth, rng)));
  add(space.headWidths, (g) => (g.headWidth = pickOther(space.headWidths, g.headWidth, rng)));
  space.stages.forEach((s, i) => {
    add(s.widths, (g) => (g.stages[i].width = pickOther(s.widths, g.stages[i].width, rng)));
    add(s.activations, (g) => (g.stages[i].activation = pickOther(s.activations, g.stages[i].activation, rng)));
    add(s.squeezeExcite, (g) => (g.stages[i].squeezeExcite = pickOther(s.squeezeExcite, g.stages[i].squeezeExcite, rng)));
    add(s.depths, (g) => {
      const blocks = g.stages[i].blocks;
      const depth = pickOther(s.depths, blocks.length, rng);
      while (blocks.length > depth) blocks.pop();
      while (blocks.length < depth) blocks.push(sampleBlock(s, rng));
    });
    // Block genes exist up to the largest depth; a mutation of a block the
    // genome does not have is a no-op, so every genome sees the same list.
    const maxDepth = Math.max(...s.depths);
    for (let j = 0; j < maxDepth; j++) {
      add(s.kernelSizes, (g) => {
        const b = g.stages[i].blocks[j];
        if (b) b.kernel = pickOther(s.kernelSizes, b.kernel, rng);
      });
      add(s.expandRatios, (g) => {
        const b = g.stages[i].blocks[j];
        if (b) b.expand = pickOther(s.expandRatios, b.expand, rng);
      });
    }
  });
  const child: Genome = structuredClone(genome);
  for (const m of mutations) if (rng() < probability) m(child);
  const before = canonicalGenome(genome);
  // Forced change: try mutations in a seeded order until one takes effect.
  const remaining = [...mutations];
  while (canonicalGenome(child) === before && remaining.length) {
    const [m] = remaining.splice(Math.floor(rng() * remaining.length), 1);
    m(child);
  }
  return child;
}

/** Uniform crossover at stage granularity: each stage, and each global gene, from either parent. */
export function crossoverGenomes(a: Genome, b: Genome, rng: Random): Genome {
  const from = () => (rng() < 0.5 ? a : b);
  return structuredClone({
    resolution: from().resolution,
    stemWidth: from().stemWidth,
    stages: a.stages.map((_, i) => from().stages[i]),
    headWidth: from().headWidth,
  });
}
