/**
 * The MobileNet-style search space as searchers see it: a config plus the
 * data's shape, with sampling, mutation, crossover, ids and analytic cost.
 */
import { readFileSync } from 'node:fs';
import { NAMED_SPACES } from './defaults.js';
import { genomeId } from './genome.js';
import { crossoverGenomes, mutateGenome, sampleGenome } from './operators.js';
import { planCost, planNetwork, type NetworkPlan } from './plan.js';
import { parseGenome, parseSearchSpace, SpaceConfigError } from './schema.js';
import type { DataShape, EvolutionarySearchSpace, Genome, GenomeCost, Random, SearchSpaceConfig } from './types.js';

/** A MobileNet-style search space over one dataset shape: sample, mutate, crossover, ids, plans and analytic cost. */
export class MobileNetSpace implements EvolutionarySearchSpace {
  readonly config: SearchSpaceConfig;
  readonly data: DataShape;

  /** `config` is validated here; a bad one throws {@link SpaceConfigError}. */
  constructor(config: unknown, data: DataShape, source?: string) {
    this.config = parseSearchSpace(config, source);
    this.data = data;
  }

  sample(rng: Random): Genome {
    return sampleGenome(this.config, rng);
  }

  mutate(genome: Genome, rng: Random, probability?: number): Genome {
    return mutateGenome(this.config, genome, rng, probability);
  }

  crossover(a: Genome, b: Genome, rng: Random): Genome {
    return crossoverGenomes(a, b, rng);
  }

  id(genome: Genome): string {
    return genomeId(genome);
  }

  /** The genome unrolled into layers, for the builders. */
  plan(genome: Genome): NetworkPlan {
    return planNetwork(genome, { stem: this.config.stemStride, stages: this.config.stages.map((s) => s.stride) }, this.data);
  }

  cost(genome: Genome): GenomeCost {
    return planCost(this.plan(genome));
  }

  /** Parses a genome (e.g. a genome.json's contents) and checks it against this space. */
  parseGenome(value: unknown, source?: string): Genome {
    return parseGenome(value, this.config, source);
  }
}

/**
 * Reads a space by name (`small`, `mobilenet-224`) or from a JSON file;
 * errors name the file and field.
 */
export function loadSpaceConfig(nameOrFile: string): { config: SearchSpaceConfig; source: string } {
  if (nameOrFile in NAMED_SPACES) {
    return { config: NAMED_SPACES[nameOrFile as keyof typeof NAMED_SPACES], source: `space '${nameOrFile}'` };
  }
  let text: string;
  try {
    text = readFileSync(nameOrFile, 'utf8');
  } catch {
    throw new SpaceConfigError('(file)', `cannot read; expected ${Object.keys(NAMED_SPACES).join(' or ')} or a JSON file`, nameOrFile);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SpaceConfigError('(file)', `is not valid JSON: ${(error as Error).message}`, nameOrFile);
  }
  return { config: parseSearchSpace(value, nameOrFile), source: nameOrFile };
}
