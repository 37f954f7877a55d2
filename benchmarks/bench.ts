/**
 * `benchmarkModels`: what `nas bench` does, callable from code. Each model is
 * measured locally through the pool or on a remote agent; with `compare`
 * they are interleaved (locally) and given as ratios to the first. A model
 * that fails is an `errored` row; the others still run.
 */
import { basename } from 'node:path';
import { withRatiosToFirst, type ComparedMeasurement } from './compare.js';
import { LatencyPool } from './pool.js';
import { measureRemote, type RemoteTarget } from './remote.js';
import type { Measurement, MeasureOptions } from './types.js';

/** What {@link benchmarkModels} may be told; all optional. */
export interface BenchmarkOptions {
  measure?: MeasureOptions;
  /** Interleave the models (ABAB) and report ratios to the first. @default false */
  compare?: boolean;
  /** Measure on a bench agent instead of this machine. */
  agent?: RemoteTarget;
  /** Per-measurement timeout (ms) of the local pool. */
  timeout?: number;
  /** Called as each model finishes. */
  onResult?: (m: Measurement) => void;
}

/** One model’s result, with its ratio to the first model when compared. */
export type BenchmarkRow = Measurement & { ratioToFirst?: number | null };

/** Short unique labels for files: the base name, or more of the path when two clash. */
export function modelLabels(paths: string[]): string[] {
  const names = paths.map((p) => basename(p));
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? paths[i] : n));
}

/** Measures ONNX files (locally in the worker pool, or on a bench agent), as `nas bench` does. */
export async function benchmarkModels(paths: string[], options: BenchmarkOptions = {}): Promise<BenchmarkRow[]> {
  const labels = modelLabels(paths);
  if (options.agent) {
    const rows: BenchmarkRow[] = [];
    for (const [i, path] of paths.entries()) {
      const m = await measureRemote(options.agent, path, labels[i], options.measure);
      options.onResult?.(m);
      rows.push(m);
    }
    // Remote runs are sequential, so their ratios are indicative only.
    return options.compare ? withRatiosToFirst(rows) : rows;
  }
  const pool = new LatencyPool({ timeout: options.timeout });
  try {
    if (options.compare) {
      const rows: ComparedMeasurement[] = await pool.compare(paths.map((p, i) => ({ name: labels[i], source: p })), options.measure);
      rows.forEach((r) => options.onResult?.(r));
      return rows;
    }
    const rows: BenchmarkRow[] = [];
    for (const [i, path] of paths.entries()) {
      const m = await pool.measure(path, labels[i], options.measure);
      options.onResult?.(m);
      rows.push(m);
    }
    return rows;
  } finally {
    await pool.close();
  }
}
