/**
 * The search's side of `"evaluator": "supernet"`: candidates are scored by a
 * trained supernet (train/supernet-scoring-job.ts) in a pool of threads
 * instead of trained, and latency is measured exactly as for trained ones
 * (RealEvaluator takes this as its trainer). The searched space is the
 * configured one narrowed as the supernet's was, and must then be a
 * subspace of the supernet's: a space it cannot score is refused before
 * anything runs, with the field named.
 */
import { builtFile } from '../locations.js';
import { checkSubnetSpace, supernetSpace, type SupernetFixedChoices } from '../space/supernet.js';
import type { Genome, SearchSpaceConfig } from '../space/types.js';
import type { BackendName } from '../train/backend.js';
import { requireSupernet, supernetFiles, type SupernetMeta } from '../train/supernet-cache.js';
import type { SubnetScoringTask } from '../train/supernet-scoring-job.js';
import type { TrainingTask } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';
import type { SearchConfig } from './config.js';
import { keepTrainingResult } from './evaluators.js';
import type { CandidateTrainer, TrainingOutcome } from './types.js';

/** The fixed choices a supernet's narrowing records. */
function choicesOf(meta: SupernetMeta): SupernetFixedChoices {
  const choices: SupernetFixedChoices = {};
  for (const n of meta.narrowed) {
    if (n.field.endsWith('.activations')) choices.activation = n.to[0] as SupernetFixedChoices['activation'];
    if (n.field.endsWith('.squeezeExcite')) choices.squeezeExcite = n.to[0] as boolean;
  }
  return choices;
}

/** The space a supernet search samples: `configured` narrowed as the supernet was, checked against it. */
export function supernetSearchSpace(configured: SearchSpaceConfig, key: string): { config: SearchSpaceConfig; meta: SupernetMeta } {
  const { meta } = requireSupernet(key);
  const narrowed = supernetSpace(configured, choicesOf(meta), `supernet ${key}`).config;
  checkSubnetSpace(narrowed, meta.space, `the search's space against supernet ${key} (${supernetFiles(key).meta})`);
  return { config: narrowed, meta };
}

export interface SupernetTrainerOptions {
  config: SearchConfig;
  /** The supernet's description: its key and the split it trained beside. */
  supernet: SupernetMeta;
  /** The searched (narrowed) space. */
  space: SearchSpaceConfig;
  runDir: string;
  dataContentHash: string;
  backend?: BackendName | 'auto';
}

/** Scores candidates with the run's supernet: `config.workers` threads, the candidate files written as a trained one's. */
export class SupernetTrainer implements CandidateTrainer {
  readonly #pool: TrainingPool;

  constructor(private readonly o: SupernetTrainerOptions) {
    this.#pool = new TrainingPool({ threads: o.config.workers, workerFile: builtFile(import.meta.url, '../train/supernet-score-worker.js') });
  }

  async train(genome: Genome, id: string, signal: AbortSignal): Promise<TrainingOutcome> {
    const c = this.o.config;
    const task: SubnetScoringTask = {
      job: {
        supernet: this.o.supernet.key,
        space: this.o.space,
        genome,
        // The supernet's own validation split, not the run's: the images it never trained on.
        data: { name: c.data, contentHash: this.o.dataContentHash, validationFraction: this.o.supernet.data.validationFraction, seed: this.o.supernet.data.splitSeed },
        backend: this.o.backend ?? 'auto',
      },
      dataSpec: c.data,
    };
    // The pool runs whatever its worker file exports; this one scores.
    const result = await this.#pool.run(task as unknown as TrainingTask, signal, c.training.timeLimit);
    return keepTrainingResult(this.o.runDir, id, result);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
