/**
 * Contracts of the finalize stage: which models it trains, what training one
 * yields (a record keyed on `state`), the events it reports and how it
 * fails. Types and docs only.
 */
import type { Baseline } from '../space/baselines.js';
import type { Genome } from '../space/types.js';
import type { TeacherSpec } from '../train/teacher-types.js';
import type { Dataset } from '../train/types.js';
import { CodedError } from '../errors.js';
import type { DataSplit } from '../train/datasets/prepared.js';

/** A member of the search's Pareto front, as finalize needs it. */
export interface FrontMember {
  id: string;
  /** Validation accuracy after the search's training, 0–1. */
  accuracy: number;
  /** What the search ranked it by, higher better: its accuracy, or its log-likelihood in a run ranked by that (rankBy). Members are chosen by it. */
  rankScore: number;
  /** The search's latency p50, ms. */
  latencyP50: number;
  /** Its files under the run directory (`front/<id>`, holding genome.json and model.onnx), or null when it has none. */
  frontDir: string | null;
}

/**
 * What finalize needs of a search run. The caller reads the run and hands it
 * down (\`nas finalize\`: search's \`readRun\` and \`runSetting\`, spread into one
 * object); finalize parses none of the search's files itself.
 */
export interface FinalizeInput {
  /** The run directory: finalize writes final/ there and reads its front members' files. */
  dir: string;
  /** The run configuration's hash: final/plan.json is tied to it. */
  configHash: string;
  /** The run's id (config.json): names its finalize queue with --redis. @default a hash of configHash and the directory */
  runId?: string;
  /** The front, best accuracy first. */
  front: readonly FrontMember[];
  /** The run's teacher-logits key in the cache (null: no teacher). */
  teacherKey: string | null;
  /** How the teacher's logits are computed again when the cache lost them; null without a teacher. */
  teacherSpec: TeacherSpec | null;
  /** The run's dataset, loaded. */
  dataset: Dataset;
  /**
   * The training/validation split the run's candidates were validated on
   * (a supernet run: its supernet's, so that a member fine-tuned from
   * inherited weights is validated on images they never trained on).
   * @default the config's validationFraction and seed
   */
  split?: DataSplit;
  /** What finalize uses of the run's configuration. */
  config: {
    /** The dataset's name or path, for the training workers to load it. */
    data: string;
    validationFraction: number;
    seed: number;
    /** The search's training workers: finalize's default. */
    workers: number;
    training: { alpha: number; temperature: number };
    latency: { threads: number };
  };
}

/**
 * A model to finalize: a front member, or a hand-designed baseline. With
 * `epochs` (a `--time` plan, finalize/time-budget.ts), it trains a complete
 * schedule of that many epochs instead of the recipe's (recipe.ts
 * `recipeWithEpochs`); absent in plans without --time and in older plans.
 */
export type FinalModel = (
  | {
      kind: 'front';
      id: string;
      /** With the recipe's `init: 'inherited'`: the directory whose model.json and weights.bin the training starts from (the run's front/<id>). */
      inheritFrom?: string;
      name: string;
      genome: Genome;
      strides: { stem: number; stages: number[] };
      /** Why it was chosen: `best of a latency third or the knee`, `top K`, `challenger of <baseline>`; absent in plans written before it was recorded. */
      selectedAs?: string[];
    }
  | { kind: 'baseline'; id: string; name: string; baseline: Baseline }
) & { epochs?: number };

/** One model's outcome, as `final/<id>/record.json` holds it. */
export type FinalRecord =
  | {
      state: 'trained';
      id: string;
      kind: FinalModel['kind'];
      name: string;
      /** Top-1 test accuracy of the trained model (tfjs, the whole test split), 0–1. */
      testAccuracy: number;
      testCount: number;
      validationAccuracy: number;
      /** Validation accuracy after each epoch: where the curve flattens. */
      validationCurve: number[];
      params: number;
      macs: number;
      epochs: number;
      trainSeconds: number;
      /** Training sessions: 1, plus one per resume. */
      sessions: number;
      recipeHash: string;
    }
  | { state: 'failed'; id: string; kind: FinalModel['kind']; name: string; error: string };

/** What the stage reports while it runs; the CLI prints it. */
export type FinalizeEvent =
  | { type: 'plan'; models: number; pending: number }
  | { type: 'teacher'; description: string; testAccuracy: number | null }
  | { type: 'start'; id: string; name: string; fromEpoch: number; epochs: number }
  | { type: 'progress'; id: string; imagesSeen: number; imagesTotal: number }
  | { type: 'epoch'; id: string; name: string; epoch: number; epochs: number; loss: number; validationAccuracy: number; elapsedSeconds: number; etaSeconds: number }
  | { type: 'done'; record: FinalRecord }
  | { type: 'latency'; models: number }
  | { type: 'log'; line: string };

/** A finalization that cannot start or continue (no front files, a plan that does not match); exits with code 13 in the CLI. */
export class FinalizeError extends CodedError {
  readonly code = 'E_FINALIZE';
}
