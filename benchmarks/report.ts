/** Benchmark rows as a terminal table, CSV (csv-stringify) and JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { BenchmarkRow } from './bench.js';

const ms = (v: number) => v.toFixed(v < 1 ? 4 : 3);

/** One flat record per row: the CSV's columns. */
export function csvRecords(rows: BenchmarkRow[]): Record<string, string | number>[] {
  return rows.map((r): Record<string, string | number> => {
    if (r.state === 'errored') return { model: r.model, state: r.state, error: `${r.error.code}: ${r.error.message}` };
    const s = r.stats;
    return {
      model: r.model,
      state: r.state,
      p50_ms: s.p50, p90_ms: s.p90, p99_ms: s.p99, mean_ms: s.mean, min_ms: s.min, max_ms: s.max, mad_ms: s.mad,
      cv: s.cv, robust_cv: s.robustCv, rme_pct: s.rme, samples: s.samples, attempts: r.attempts,
      ratio_to_first: r.ratioToFirst ?? '',
      session_create_ms: r.startup.sessionCreate, first_inference_ms: r.startup.firstInference, warmup_ms: r.startup.warmup,
      inputs: r.inputs.map((i) => `${i.name}:${i.shape.join('x')}:${i.type}`).join(' '),
      intra_op_threads: r.session.intraOpThreads, inter_op_threads: r.session.interOpThreads,
      execution_mode: r.session.executionMode, graph_optimization: r.session.graphOptimizationLevel, provider: r.session.executionProvider,
      onnxruntime: r.environment.onnxruntime, node: r.environment.node, tinybench: r.environment.tinybench,
      cpu_model: r.environment.cpuModel, cpu_count: r.environment.cpuCount, load_average: r.environment.loadAverage, host: r.environment.host,
      error: '',
    };
  });
}

const COLUMNS = ['model', 'state', 'p50_ms', 'p90_ms', 'p99_ms', 'mean_ms', 'min_ms', 'max_ms', 'mad_ms', 'cv', 'robust_cv', 'rme_pct', 'samples', 'attempts', 'ratio_to_first', 'session_create_ms', 'first_inference_ms', 'warmup_ms', 'inputs', 'intra_op_threads', 'inter_op_threads', 'execution_mode', 'graph_optimization', 'provider', 'onnxruntime', 'node', 'tinybench', 'cpu_model', 'cpu_count', 'load_average', 'host', 'error'];

/** Benchmark rows as CSV, one row per model. */
export function toCsv(rows: BenchmarkRow[]): string {
  return stringify(csvRecords(rows), { header: true, columns: COLUMNS });
}

/** A fixed-width table for the terminal. */
export function formatTable(rows: BenchmarkRow[]): string {
  const header = ['model', 'p50 ms', 'p90 ms', 'p99 ms', 'robust CV', 'samples', 'ratio', 'state'];
  const body = rows.map((r) =>
    r.state === 'errored'
      ? [r.model, '—', '—', '—', '—', '—', '—', `errored: ${r.error.message}`]
      : [r.model, ms(r.stats.p50), ms(r.stats.p90), ms(r.stats.p99), `${(r.stats.robustCv * 100).toFixed(1)}%`, String(r.stats.samples), r.ratioToFirst == null ? '' : `${r.ratioToFirst.toFixed(3)}×`, r.state],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (i === 7 ? 0 : b[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 7 ? c : i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** Writes `<out>/<stem>.csv` and `.json`; returns their paths. */
export function writeBenchReport(rows: BenchmarkRow[], out: string, stem = 'bench'): { csv: string; json: string } {
  mkdirSync(out, { recursive: true });
  const csv = join(out, `${stem}.csv`);
  const json = join(out, `${stem}.json`);
  writeFileSync(csv, toCsv(rows));
  writeFileSync(json, JSON.stringify(rows, null, 2) + '\n');
  return { csv, json };
}
