/**
 * `nas-edge/benchmarks`: latency with onnxruntime-node and tinybench in a
 * worker pool, the noise gate, interleaved (ABAB) comparisons, the remote
 * bench agent, the latency lookup table and the calibrated latency predictor.
 */
export { benchmarkModels, modelLabels } from './bench.js';
export type { BenchmarkOptions, BenchmarkRow } from './bench.js';
export { measureModel, resolveMeasureOptions } from './measure.js';
export { compareModels, DEFAULT_COMPARE_ROUNDS } from './compare.js';
export type { ComparedMeasurement } from './compare.js';
export { LatencyPool } from './pool.js';
export type { LatencyPoolOptions } from './pool.js';
export { startAgent } from './agent.js';
export type { AgentOptions, RunningAgent } from './agent.js';
export { measureRemote } from './remote.js';
export type { RemoteTarget } from './remote.js';
export { LatencyPredictor } from './predictor.js';
export { buildPredictor, ensurePredictor, fitPredictor, localTarget, remoteTarget } from './predictor-build.js';
export type { LatencyTarget, PredictorBuildOptions, EnsuredPredictor, CalibrationRow } from './predictor-build.js';
export { loadPredictor, savePredictor, checkPredictor, predictInterval, predictorFileSchema, PredictorFileError, PREDICTOR_PRECISIONS } from './predictor-file.js';
export type { PredictorFile, PredictorEnvironment, PredictorPrecision, LatencyInterval } from './predictor-file.js';
export { latencyFeatures, LATENCY_FEATURES } from './latency-features.js';
export { latencyStats } from './stats.js';
export { captureEnvironment } from './environment.js';
export { writeBenchReport, formatTable, toCsv } from './report.js';
export { BenchError } from './errors.js';
export type {
  SessionSettings,
  MeasureOptions,
  ResolvedMeasureOptions,
  LatencyStats,
  Environment,
  Measured,
  Noisy,
  Errored,
  Measurement,
} from './types.js';
