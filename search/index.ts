/**
 * `nas-edge/search`: the search loop over a journal that survives `kill -9`
 * (NSGA-II, aging evolution, random search), its configuration, and the
 * report files (CSVs, SVG plot, summary), and the run directory read back
 * (`readRun`) for the stages after it.
 */
export { runSearch, resumeSearch } from './engine.js';
export type { RunSearchOptions, ResumeSearchOptions, SearchResult } from './engine.js';
export { readRun, readRunConfig, RunDirectoryError, CONFIG_FILE } from './run-directory.js';
export type { Run, FrontMember } from './run-directory.js';
export { runSetting, spaceConfigOf, teacherSpecOf } from './config-helpers.js';
export type { RunSetting } from './config-helpers.js';
export { searchConfigSchema, resolveSearchConfig, SearchConfigError, parseDuration } from './config.js';
export type { SearchConfig, SearchConfigInput } from './config.js';
export { PRESETS, QUICKSTART, OVERNIGHT } from './presets.js';
export { reportFromJournal, refreshReportHtml } from './report.js';
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
