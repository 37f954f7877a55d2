/**
 * Contracts of the latency harness: session and measurement options, the
 * statistics of one measurement, the environment it ran in, and the result
 * as a union keyed on `state`. Types and docs only.
 */

/** onnxruntime-node session settings; every one is recorded with the result. */
export interface SessionSettings {
  /** Threads inside one operator. @default 1 */
  intraOpThreads: number;
  /** Threads across operators (parallel mode only). @default 1 */
  interOpThreads: number;
  /** @default 'sequential' */
  executionMode: 'sequential' | 'parallel';
  /** @default 'all' */
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** Execution provider by name; onnxruntime-node on Linux ships 'cpu'. @default 'cpu' */
  executionProvider: string;
}

/** How to measure; all fields optional in {@link MeasureOptions}. */
export interface ResolvedMeasureOptions {
  session: SessionSettings;
  /** Input shapes by input name, for dynamic dimensions. Unnamed: batch 1 for a symbolic first dim. */
  shapes: Record<string, number[]>;
  /** Seed of the random input values. */
  seed: number;
  /** Warm-up: at least this many runs and this long (ms). */
  warmupIterations: number;
  warmupTime: number;
  /** Measurement: at least this many runs and this long (ms). */
  iterations: number;
  time: number;
  /** Robust coefficient of variation (see {@link LatencyStats.robustCv}) above which the measurement is repeated. */
  noiseThreshold: number;
  /** How many times a noisy measurement is repeated before it is flagged. */
  maxRepeats: number;
}

/** How to measure; every field optional, defaults in constants.ts. */
export type MeasureOptions = Partial<Omit<ResolvedMeasureOptions, 'session'>> & { session?: Partial<SessionSettings> };

/** Statistics of the retained per-run latencies, in milliseconds. */
export interface LatencyStats {
  samples: number;
  mean: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  /** Median absolute deviation from the median. */
  mad: number;
  /** Standard deviation / mean. A few pre-empted runs inflate it. */
  cv: number;
  /**
   * Robust coefficient of variation, 1.4826·MAD / median: the spread of the
   * typical run, which the noise gate checks.
   */
  robustCv: number;
  /** Relative margin of error at 95% confidence, in percent (as tinybench reports it). */
  rme: number;
}

/** Where a measurement ran; recorded with every result. */
export interface Environment {
  onnxruntime: string;
  node: string;
  tinybench: string;
  cpuModel: string;
  cpuCount: number;
  platform: string;
  /** 1-minute load average when the measurement started. */
  loadAverage: number;
  host: string;
}

/** One-off costs measured before the timed runs, in milliseconds. */
export interface StartupTimes {
  sessionCreate: number;
  firstInference: number;
  warmup: number;
}

interface MeasurementBase {
  /** What was measured: a file path, or a name given by the caller. */
  model: string;
  inputs: Array<{ name: string; shape: number[]; type: string }>;
  session: SessionSettings;
  environment: Environment;
}

/** A measurement whose noise stayed under the gate. */
export interface Measured extends MeasurementBase {
  state: 'measured';
  startup: StartupTimes;
  stats: LatencyStats;
  /** Measurements taken (1 + repeats) before the gate passed. */
  attempts: number;
}

/** A measurement still over the noise gate after every repeat: kept, flagged. */
export interface Noisy extends MeasurementBase {
  state: 'noisy';
  startup: StartupTimes;
  /** The least noisy attempt's statistics. */
  stats: LatencyStats;
  attempts: number;
}

/** A model that could not be measured; the error says why. */
export interface Errored {
  state: 'errored';
  model: string;
  error: { code: string; message: string };
}

/** A measurement’s result, keyed on `state`. */
export type Measurement = Measured | Noisy | Errored;
