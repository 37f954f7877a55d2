/** Defaults of the latency harness, applied once where options are resolved. */
import type { ResolvedMeasureOptions, SessionSettings } from './types.js';

export const DEFAULT_SESSION: SessionSettings = {
  intraOpThreads: 1,
  interOpThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  executionProvider: 'cpu',
};

export const DEFAULT_MEASURE: Omit<ResolvedMeasureOptions, 'session'> = {
  shapes: {},
  seed: 0,
  warmupIterations: 20,
  warmupTime: 200,
  iterations: 100,
  time: 1000,
  /** 5% robust CV: a quiet core stays near 1%; above 5% a neighbour is competing. */
  noiseThreshold: 0.05,
  maxRepeats: 2,
};

/** A hung measurement fails after this long (ms) and the worker is replaced. */
export const DEFAULT_TASK_TIMEOUT = 120_000;
/** Largest model the bench agent accepts. */
export const DEFAULT_AGENT_MAX_BYTES = 64 * 1024 * 1024;
