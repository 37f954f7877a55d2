/**
 * NSGA-II (Deb et al. 2002): binary tournament on (front rank, crowding
 * distance), crossover and mutation into a generation of new genomes, then
 * elitist survival of the best `population` of parents and offspring by
 * non-dominated sorting and crowding.
 */
import seedrandom from 'seedrandom';
import type { EvolutionarySearchSpace, Genome } from '../space/types.js';
import { pointOf } from './objectives.js';
import { crowdingDistance, nonDominatedSort } from './pareto.js';
import type { CandidateRecord, EvaluatedRecord, ObjectiveName, Searcher } from './types.js';
import { drawUnseen } from './unseen.js';

export interface Nsga2Options {
  population: number;
  crossoverProbability: number;
  mutationProbability: number;
}

interface Member {
  record: CandidateRecord;
  rank: number;
  crowding: number;
}

/** NSGA-II: non-dominated sorting and crowding distance over the objectives. */
export class Nsga2 implements Searcher {
  readonly name = 'nsga2';
  readonly #rng: seedrandom.PRNG;
  #population: Member[] = [];

  constructor(
    private readonly space: EvolutionarySearchSpace,
    private readonly objectives: readonly ObjectiveName[],
    private readonly options: Nsga2Options,
    seed: number,
    private readonly isSeen: (id: string) => boolean,
  ) {
    this.#rng = seedrandom(`searcher:nsga2:${seed}`);
  }

  #tournament(): Genome {
    const a = this.#population[Math.floor(this.#rng() * this.#population.length)];
    const b = this.#population[Math.floor(this.#rng() * this.#population.length)];
    const winner = a.rank < b.rank || (a.rank === b.rank && a.crowding >= b.crowding) ? a : b;
    return winner.record.genome;
  }

  ask(): Genome[] {
    const { population, crossoverProbability, mutationProbability } = this.options;
    if (this.#population.length === 0) {
      return drawUnseen(this.space, population, this.isSeen, () => this.space.sample(this.#rng));
    }
    return drawUnseen(this.space, population, this.isSeen, () => {
      const first = this.#tournament();
      const second = this.#tournament();
      const child = this.#rng() < crossoverProbability ? this.space.crossover(first, second, this.#rng) : first;
      return this.space.mutate(child, this.#rng, mutationProbability);
    });
  }

  /** A member's better-trained result replaces its old one; ranks are recomputed at the next tell. */
  update(record: EvaluatedRecord): void {
    for (const member of this.#population) if (member.record.id === record.id) member.record = record;
  }

  tell(records: CandidateRecord[]): void {
    const pool = [...this.#population.map((m) => m.record), ...records];
    const points = pool.map((r) => pointOf(r, this.objectives));
    const survivors: Member[] = [];
    nonDominatedSort(points).forEach((front, rank) => {
      if (survivors.length >= this.options.population) return;
      const crowding = crowdingDistance(points, front);
      const order = front.map((_, k) => k).sort((a, b) => crowding[b] - crowding[a] || a - b);
      for (const k of order) {
        if (survivors.length >= this.options.population) break;
        survivors.push({ record: pool[front[k]], rank, crowding: crowding[k] });
      }
    });
    this.#population = survivors;
  }
}
