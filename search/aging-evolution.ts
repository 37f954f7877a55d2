/**
 * Regularized (aging) evolution (Real et al. 2019), made multi-objective:
 * a parent is a random non-dominated member of a random sample of the
 * population; its mutant joins, and the oldest member leaves.
 */
import seedrandom from 'seedrandom';
import type { EvolutionarySearchSpace, Genome } from '../space/types.js';
import { pointOf } from './objectives.js';
import { paretoFront } from './pareto.js';
import type { CandidateRecord, EvaluatedRecord, ObjectiveName, Searcher } from './types.js';
import { drawUnseen } from './unseen.js';

export interface AgingOptions {
  /** Children per generation. */
  population: number;
  /** Members kept; until it is full, genomes are sampled at random. */
  agingPopulation: number;
  sampleSize: number;
  mutationProbability: number;
}

/** Aging (regularised) evolution: tournament parents, the oldest member leaves. */
export class AgingEvolution implements Searcher {
  readonly name = 'aging';
  readonly #rng: seedrandom.PRNG;
  readonly #queue: EvaluatedRecord[] = [];

  constructor(
    private readonly space: EvolutionarySearchSpace,
    private readonly objectives: readonly ObjectiveName[],
    private readonly options: AgingOptions,
    seed: number,
    private readonly isSeen: (id: string) => boolean,
  ) {
    this.#rng = seedrandom(`searcher:aging:${seed}`);
  }

  #parent(): Genome {
    const sample = Array.from({ length: this.options.sampleSize }, () => this.#queue[Math.floor(this.#rng() * this.#queue.length)]);
    const front = paretoFront(sample.map((r) => pointOf(r, this.objectives)));
    return sample[front[Math.floor(this.#rng() * front.length)]].genome;
  }

  ask(): Genome[] {
    const { population, agingPopulation, mutationProbability } = this.options;
    if (this.#queue.length < agingPopulation) {
      return drawUnseen(this.space, population, this.isSeen, () => this.space.sample(this.#rng));
    }
    return drawUnseen(this.space, population, this.isSeen, () => this.space.mutate(this.#parent(), this.#rng, mutationProbability));
  }

  /** A member's better-trained result replaces its old one (its age stays). */
  update(record: EvaluatedRecord): void {
    const at = this.#queue.findIndex((r) => r.id === record.id);
    if (at >= 0) this.#queue[at] = record;
  }

  tell(records: CandidateRecord[]): void {
    for (const r of records) if (r.state === 'evaluated') this.#queue.push(r);
    while (this.#queue.length > this.options.agingPopulation) this.#queue.shift();
  }
}
