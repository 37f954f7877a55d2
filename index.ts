/**
 * `nas-edge`: the library behind the `nas` command. The main entry points of
 * each stage, by name; everything a stage offers is in its own subpath
 * (`nas-edge/space`, `/train`, `/benchmarks`, `/search`, `/compress`, `/finalize`).
 */
export { MobileNetSpace, loadSpaceConfig, NAMED_SPACES, buildOnnxModel, buildTfjsModel, randomWeights } from './space/index.js';
export type { Genome, SearchSpaceConfig, DataShape, GenomeCost, NetworkPlan } from './space/index.js';
export { loadDataset, prepareData, trainCandidate } from './train/index.js';
export type { Dataset, PreparedData, TrainOptions, TrainingResult } from './train/index.js';
export { measureModel, compareModels, benchmarkModels } from './benchmarks/index.js';
export type { Measurement, MeasureOptions, BenchmarkRow, ComparedMeasurement } from './benchmarks/index.js';
export { runSearch, resolveSearchConfig, searchConfigSchema, SearchConfigError, PRESETS } from './search/index.js';
export type { SearchConfig, SearchConfigInput, RunSearchOptions, SearchResult, CandidateRecord } from './search/index.js';
export { quantizeModel, compressRun } from './compress/index.js';
export type { QuantizeOptions, QuantizationReport, CompressOptions, CompressionRow } from './compress/index.js';
export { userCacheDir, defaultResultsDir, CACHE_DIR_ENV } from './locations.js';
