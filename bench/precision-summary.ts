/**
 * The maths of `npm run bench:precision`, as pure functions: whether a front
 * chosen by fp32 latency is the front of the INT8 models a user deploys.
 * Over genomes measured as fp32 and as INT8 in one interleaved run each:
 * Kendall τ between the two latencies, how often INT8 is slower, which
 * variant wins, and how many members the fp32 front and the INT8 front share
 * when both are read from the same accuracies.
 */
import type { Interval } from '../intervals.js';
import { paretoFront } from '../search/pareto.js';
import { kendallTauB, kendallTauInterval } from './rank-correlation.js';

/** One genome measured at one thread count: fp32 and its fastest INT8 variant, interleaved. */
export interface PrecisionRow {
  space: string;
  threads: number;
  id: string;
  /** The accuracy both fronts are read from (the bench uses the proxy's analytic accuracy). */
  accuracy: number;
  fp32P50: number;
  /** p50 of the fastest INT8 variant in the same run. */
  int8P50: number;
  int8Variant: string;
  /** p50 of the `all` variant (every op quantized), when it was built. */
  allP50: number | null;
}

/** What the bench concludes for one space at one thread count. */
export interface PrecisionSummary {
  space: string;
  threads: number;
  genomes: number;
  tau: number;
  tauInterval: Interval;
  /** Share of genomes whose fastest INT8 variant is slower than fp32 (ratio above 1). */
  int8Slower: number;
  /** Share where compress would keep fp32: no variant at or below 0.97× fp32's time. */
  fp32Kept: number;
  medianRatio: number;
  minRatio: number;
  maxRatio: number;
  /** How often each variant was the fastest. */
  variantWins: Record<string, number>;
  fp32FrontSize: number;
  int8FrontSize: number;
  /** Members the two fronts share, and that as a share of the smaller front. */
  sharedFront: number;
  sharedOfSmaller: number;
  /** Whether the fronts differ by the rule: τ below 0.9 or fewer than half the members shared. */
  frontsDiffer: boolean;
}

/** The ratio at or below which compress counts an INT8 variant as faster (benchmarks/int8-choice.ts). */
const KEEP_RATIO = 0.97;

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Ids on the (max accuracy, min latency) front of `rows` by the given latency. */
export function frontIds(rows: readonly PrecisionRow[], latency: (r: PrecisionRow) => number): string[] {
  return paretoFront(rows.map((r) => [-r.accuracy, latency(r)])).map((i) => rows[i].id);
}

/** Summarises one space at one thread count. */
export function summarisePrecision(rows: readonly PrecisionRow[]): PrecisionSummary {
  if (!rows.length) throw new RangeError('no rows to summarise');
  const { space, threads } = rows[0];
  if (rows.some((r) => r.space !== space || r.threads !== threads)) throw new RangeError('rows of one space and thread count only');
  const ratios = rows.map((r) => r.int8P50 / r.fp32P50);
  const tau = kendallTauB(rows.map((r) => r.fp32P50), rows.map((r) => r.int8P50));
  const variantWins: Record<string, number> = {};
  for (const r of rows) variantWins[r.int8Variant] = (variantWins[r.int8Variant] ?? 0) + 1;
  const fp32Front = frontIds(rows, (r) => r.fp32P50);
  const int8Front = frontIds(rows, (r) => r.int8P50);
  const inInt8 = new Set(int8Front);
  const shared = fp32Front.filter((id) => inInt8.has(id)).length;
  const sharedOfSmaller = shared / Math.max(1, Math.min(fp32Front.length, int8Front.length));
  return {
    space,
    threads,
    genomes: rows.length,
    tau,
    tauInterval: kendallTauInterval(tau, rows.length),
    int8Slower: ratios.filter((q) => q > 1).length / rows.length,
    fp32Kept: ratios.filter((q) => q > KEEP_RATIO).length / rows.length,
    medianRatio: median(ratios),
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    variantWins,
    fp32FrontSize: fp32Front.length,
    int8FrontSize: int8Front.length,
    sharedFront: shared,
    sharedOfSmaller,
    frontsDiffer: tau < 0.9 || sharedOfSmaller < 0.5,
  };
}

/** One genome's INT8 model quantized two ways and measured interleaved: random-pixel calibration against the data's images. */
export interface CalibrationRow {
  space: string;
  id: string;
  variant: string;
  randomP50: number;
  calibratedP50: number;
}

/** Calibrated over random p50: the median, and the widest departure from 1 either way. */
export function calibrationAgreement(rows: readonly CalibrationRow[]): { genomes: number; medianRatio: number; minRatio: number; maxRatio: number } {
  if (!rows.length) throw new RangeError('no rows to summarise');
  const ratios = rows.map((r) => r.calibratedP50 / r.randomP50);
  return { genomes: rows.length, medianRatio: median(ratios), minRatio: Math.min(...ratios), maxRatio: Math.max(...ratios) };
}

/** One pair of searches at one seed: the hypervolume (in accuracy and INT8 latency) of each front, from one interleaved timing. */
export interface SearchPair {
  seed: number;
  fp32Hypervolume: number;
  int8Hypervolume: number;
}

/** What pairs of searches say together: does searching by INT8 latency give the better INT8 front? */
export interface SearchPairsSummary {
  pairs: number;
  /** Pairs whose INT8-searched front has the larger hypervolume. */
  int8Wins: number;
  /** INT8 over fp32 hypervolume, pair by pair in the order given. */
  ratios: number[];
  /** The ratios' geometric mean: a ratio and its inverse cancel. */
  geometricMeanRatio: number;
  /** Sample SD of the log ratios (NaN for one pair). */
  logRatioSd: number;
  /**
   * One-sided sign test: the chance of at least `int8Wins` wins in `pairs`
   * were either search as likely to win each pair. Each pair has its own
   * reference point, so ratios compare within a pair; the sign test uses
   * nothing else.
   */
  signTestP: number;
}

/** See {@link SearchPairsSummary}. */
export function summariseSearchPairs(pairs: readonly SearchPair[]): SearchPairsSummary {
  if (!pairs.length) throw new RangeError('no pairs to summarise');
  const ratios = pairs.map((p) => p.int8Hypervolume / p.fp32Hypervolume);
  const logs = ratios.map(Math.log);
  const logMean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const logRatioSd = logs.length > 1 ? Math.sqrt(logs.reduce((s, x) => s + (x - logMean) ** 2, 0) / (logs.length - 1)) : Number.NaN;
  const n = pairs.length;
  const int8Wins = ratios.filter((r) => r > 1).length;
  let tail = 0;
  for (let k = int8Wins; k <= n; k++) tail += binomial(n, k);
  return { pairs: n, int8Wins, ratios, geometricMeanRatio: Math.exp(logMean), logRatioSd, signTestP: tail / 2 ** n };
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}
