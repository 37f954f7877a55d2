/** Contracts of the compression stage: its options and the rows it writes. Types and docs only. */
import type { Dataset, OptimizerName } from '../train/types.js';
import type { CalibrationMethod } from '../onnx/quantize.js';
import type { DataSplit } from '../train/datasets/prepared.js';

/**
 * What \`compressRun\` needs of a search run. The caller reads the run and
 * hands it down (\`nas compress\`: search's \`readRun\` with the dataset
 * loaded); compress parses none of the search's files itself.
 */
export interface CompressInput {
  /** The run directory: compress writes compressed/, compression.csv and compression.svg there. */
  dir: string;
  /** The front, best accuracy first: each member's id and its files (`front/<id>`), or null when it has none. */
  front: ReadonlyArray<{ id: string; frontDir: string | null; latencyPrecision?: 'fp32' | 'int8'; int8Variant?: string | null }>;
  /** The run's teacher-logits key in the cache (null: no teacher). */
  teacherKey: string | null;
  /** The run's dataset, loaded. */
  dataset: Dataset;
  /** The training/validation split the run's candidates were validated on (a supernet run: its supernet's). @default the config's validationFraction and seed */
  split?: DataSplit;
  /** What compress uses of the run's configuration: the split, the seed and the distillation settings. */
  config: {
    validationFraction: number;
    seed: number;
    /**
     * What the search measured latency in: under `int8` a member's INT8 model is what
     * the user deploys, so compress keeps the variant the search measured (however fast)
     * instead of choosing again. Absent: fp32.
     */
    latency?: { precision: 'fp32' | 'int8' | 'best' };
    training: { batchSize: number; optimizer: OptimizerName; learningRate?: number; temperature: number; alpha: number };
  };
}

/** How `compressRun` prunes each front member; all optional. */
export interface PruneOptions {
  /** Share of MACs to remove. @default 0.4 */
  targetReduction?: number;
  /** Distillation epochs after pruning. @default 1 */
  fineTuneEpochs?: number;
  /** Validation images for the sensitivity sweep. @default 1000 */
  sensitivityImages?: number;
  onProgress?: (line: string) => void;
}

/** The run's training settings that fine-tuning after pruning reuses. */
export interface FineTuneSettings {
  batchSize?: number;
  optimizer?: OptimizerName;
  /** @default 0.01 (a tenth of a from-scratch rate: the weights are trained already) */
  learningRate?: number;
  temperature?: number;
  /** Weight of the KD term when a teacher is there. @default 0.9 */
  alpha?: number;
  /** @default 0 */
  seed?: number;
}

/** How `compressRun` compresses a run; all optional. */
export interface CompressOptions {
  /** Only the N most accurate front members (pareto.csv order). @default all */
  maxModels?: number;
  /** Pruning settings; `false` skips pruning. */
  prune?: PruneOptions | false;
  /** Final distillation epochs on the full training split; 0 keeps the search's weights. @default 0 */
  epochs?: number;
  calibrationImages?: number;
  method?: CalibrationMethod;
  /** Accuracy an INT8 variant may lose, in points. @default DEFAULT_MAX_ACCURACY_DROP */
  maxAccuracyDrop?: number;
  /** Latency measurement time per model (ms), interleaved. @default 2000 */
  latencyTime?: number;
  onProgress?: (line: string) => void;
}

/** One row of compression.csv: a variant of a front member, measured. */
export interface CompressionRow {
  id: string;
  variant: 'fp32' | 'int8' | 'pruned' | 'pruned+int8';
  test_accuracy: number;
  params: number;
  macs: number;
  file_bytes: number;
  latency_p50_ms: number | '';
  latency_p90_ms: number | '';
  latency_ratio_to_fp32: number | '';
  file: string;
  /** On INT8 rows: `int8:<variant>` chosen by measurement, or `fp32 kept: <reason>`. */
  int8_choice: string;
}
