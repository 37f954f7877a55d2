/** Random search: every generation a fresh uniform sample. The baseline. */
import seedrandom from 'seedrandom';
import type { EvolutionarySearchSpace, Genome } from '../space/types.js';
import type { CandidateRecord, Searcher } from './types.js';
import { drawUnseen } from './unseen.js';

/** Random search: unseen seeded samples each generation; the baseline. */
export class RandomSearch implements Searcher {
  readonly name = 'random';
  readonly #rng: seedrandom.PRNG;

  constructor(
    private readonly space: EvolutionarySearchSpace,
    private readonly options: { population: number },
    seed: number,
    private readonly isSeen: (id: string) => boolean,
  ) {
    this.#rng = seedrandom(`searcher:random:${seed}`);
  }

  ask(): Genome[] {
    return drawUnseen(this.space, this.options.population, this.isSeen, () => this.space.sample(this.#rng));
  }

  tell(_records: CandidateRecord[]): void {}
}
