/**
 * The search's side of `"evaluator": "supernet"`: candidates are scored by a
 * trained supernet (train/supernet-scoring-job.ts) in a pool of threads
 * instead of trained, and latency is measured exactly as for trained ones
 * (RealEvaluator takes this as its trainer). The searched space is the
 * configured one narrowed as the supernet's was, and must then be a
 * subspace of the supernet's: a space it cannot score is refused before
 * anything runs, with the field named. The supernet is a cached one the
 * config names by key, or the space's own, trained first when the config
 * asks for `{ "train": … }` (supernetKeyOf).
 */
import { builtFile } from '../locations.js';
import { checkSubnetSpace, supernetSpace, type SupernetFixedChoices } from '../space/supernet.js';
import type { Genome, SearchSpaceConfig } from '../space/types.js';
import { selectBackend, type BackendName } from '../train/backend.js';
import { prepareData } from '../train/datasets/prepared.js';
import { requireSupernet, supernetFiles, type SupernetMeta } from '../train/supernet-cache.js';
import { keyOf, supernetFor } from '../train/supernet-run.js';
import { supernetRecipe } from '../train/supernet-train.js';
import { teacherLogits } from '../train/teacher.js';
import { teacherEpochLine } from '../train/teacher-progress.js';
import type { TeacherResult } from '../train/teacher-types.js';
import type { SubnetScoringResult, SubnetScoringTask } from '../train/supernet-scoring-job.js';
import type { TrainingTask } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';
import type { SearchConfig } from './config.js';
import { runSetting, spaceConfigOf } from './config-helpers.js';
import { keepTrainingResult } from './evaluators.js';
import type { CandidateTrainer, TrainingOutcome } from './types.js';

/** The validation split a search-trained supernet holds out: `nas supernet train`'s default, so a search at any seed reuses the same supernet. */
export const SEARCH_SUPERNET_SPLIT_SEED = 0;

export interface SupernetKeyOptions {
  log: (line: string) => void;
  backend?: BackendName | 'auto';
  onProgress?: (done: number, total: number) => void;
}

/**
 * The key of the run's supernet: the configured one, or with `{ "train": {…} }`
 * the space's supernet as `nas supernet train` makes it (its default recipe
 * with the fields given, the run's data and teacher), found in the cache or
 * trained now; an interrupted training of it is continued, as a teacher's is.
 */
export async function supernetKeyOf(config: SearchConfig, o: SupernetKeyOptions): Promise<string> {
  const wanted = config.supernet;
  if (wanted === undefined) throw new Error('supernetKeyOf: the config names no supernet');
  if (typeof wanted === 'string') return wanted;
  const { dataset, teacherSpec } = runSetting(config);
  const split = { validationFraction: config.validationFraction, seed: SEARCH_SUPERNET_SPLIT_SEED };
  const data = prepareData(dataset, split);
  const space = supernetSpace(spaceConfigOf(config));
  let teacher: TeacherResult | null = null;
  if (teacherSpec) {
    teacher = await teacherLogits(data, teacherSpec, undefined, (e) => o.log(teacherEpochLine(e)));
    o.log(`teacher for the supernet: ${teacher.description}; test accuracy ${(teacher.testAccuracy * 100).toFixed(2)}%${teacher.fromCache ? ' (cached logits)' : ''}`);
  }
  const { epochs, strategy, seed } = wanted.train;
  const recipe = supernetRecipe({ epochs, strategy, seed }, teacher !== null);
  await selectBackend(o.backend ?? 'auto');
  const threads = wanted.train.threads ?? 1;
  const key = keyOf(space, data, recipe, teacher?.key ?? null, threads);
  o.log(`supernet ${key}: ${recipe.strategy}, ${recipe.epochs} epochs on ${data.train.count} images of ${dataset.name}, ${threads} thread(s); trained here unless cached`);
  const result = await supernetFor(space, data, recipe, {
    dataName: dataset.name,
    split,
    teacher: teacher ? { key: teacher.key, logits: teacher } : null,
    threads,
    resume: true,
    onProgress: o.onProgress ? (p) => o.onProgress!(p.imagesSeen, p.imagesTotal) : undefined,
    onEpoch: (p, of) => o.log(`supernet epoch ${p.epoch}/${of} (${p.phase}): loss ${p.loss.toFixed(4)}, validation largest ${(p.largest * 100).toFixed(2)}%, smallest ${(p.smallest * 100).toFixed(2)}%`),
  });
  if (result.fromCache) o.log(`supernet ${key}: cached`);
  return result.meta.key;
}

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

/**
 * Scores candidates with the run's supernet in `config.workers` threads.
 * Their files are not written as they are scored (see
 * train/supernet-scoring-job.ts); `writeFiles` makes them for the front.
 */
export class SupernetTrainer implements CandidateTrainer {
  readonly #pool: TrainingPool;

  constructor(private readonly o: SupernetTrainerOptions) {
    this.#pool = new TrainingPool({ threads: o.config.workers, workerFile: builtFile(import.meta.url, '../train/supernet-score-worker.js') });
  }

  #task(genome: Genome, files: boolean): SubnetScoringTask {
    const c = this.o.config;
    return {
      job: {
        supernet: this.o.supernet.key,
        space: this.o.space,
        genome,
        // The supernet's own validation split, not the run's: the images it never trained on.
        data: { name: c.data, contentHash: this.o.dataContentHash, validationFraction: this.o.supernet.data.validationFraction, seed: this.o.supernet.data.splitSeed },
        backend: this.o.backend ?? 'auto',
        files,
        ...c.supernetScoring,
      },
      dataSpec: c.data,
    };
  }

  async #run(genome: Genome, files: boolean, signal: AbortSignal): Promise<SubnetScoringResult> {
    // The pool runs whatever its worker file exports; this one scores.
    return (await this.#pool.run(this.#task(genome, files) as unknown as TrainingTask, signal, this.o.config.training.timeLimit)) as unknown as SubnetScoringResult;
  }

  async train(genome: Genome, id: string, signal: AbortSignal): Promise<TrainingOutcome> {
    return keepTrainingResult(this.o.runDir, id, await this.#run(genome, false, signal));
  }

  /** The candidates' files, scored again with them: the same supernet gives the same weights, so the same accuracy the journal holds. */
  async writeFiles(candidates: ReadonlyArray<{ genome: Genome; id: string }>): Promise<void> {
    const signal = new AbortController().signal;
    await Promise.all(candidates.map(async ({ genome, id }) => keepTrainingResult(this.o.runDir, id, await this.#run(genome, true, signal))));
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
