/**
 * `nas-edge/search`: the search loop over a journal that survives `kill -9`
 * (NSGA-II, aging evolution, random search), its configuration, and the
 * report files (CSVs, SVG plot, summary).
 */
export { runSearch } from './engine.js';
export type { RunSearchOptions, SearchResult } from './engine.js';
export { searchConfigSchema, resolveSearchConfig, SearchConfigError, parseDuration } from './config.js';
export type { SearchConfig, SearchConfigInput } from './config.js';
export { PRESETS, QUICKSTART, OVERNIGHT } from './presets.js';
export { reportFromJournal } from './report.js';
export { Nsga2 } from './nsga2.js';
export { AgingEvolution } from './aging-evolution.js';
export { RandomSearch } from './random-search.js';
export { dominates, paretoFront, hypervolume } from './pareto.js';
export { JournalError } from './journal.js';
export { decideLatency } from './latency-decision.js';
export type { LatencyDecision, PredictedLatency } from './latency-decision.js';
export type {
  ObjectiveName,
  Constraints,
  LatencyFigures,
  RejectedRecord,
  EvaluatedRecord,
  FailedRecord,
  CandidateRecord,
  Searcher,
  CandidateEvaluator,
  GenerationEvent,
  StopReason,
} from './types.js';
