/**
 * results/bench/fidelity.csv of `npm run bench:fidelity`: one row per genome
 * × training setting, appended as soon as it is measured, so a killed run
 * keeps what it measured. Reading drops what a kill can leave: a last line
 * without its newline, and rows with a missing or non-numeric field.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { FidelityRow } from './fidelity-summary.js';

/**
 * The CSV's columns, in order: what was trained (genome, cost, setting), what
 * it reached, and the run it belongs to (data content hash, seed, and
 * `data_order`: `candidate` when each genome's batch order follows its own
 * seed, `shared` under --shared-data-order), then `log_likelihood`: the mean
 * log-probability of the true class on the images the search ranks by (the
 * ranking images where there are any, else the validation split), what
 * `"rankBy": "log-likelihood"` would rank the training by.
 */
export const FIDELITY_CSV_COLUMNS = [
  'genome_id',
  'latency_order',
  'params',
  'macs',
  'analytic_latency_ms',
  'budget_images',
  'subset',
  'kd',
  'validation_accuracy',
  'train_seconds',
  'images_per_second',
  'data',
  'seed',
  'replicate',
  'ranking_images',
  'ranking_accuracy',
  'data_order',
  'log_likelihood',
] as const;
/** Columns a row may leave empty: rows written before they existed, and trainings not validated outside their subset. */
const OPTIONAL_COLUMNS = new Set<string>(['ranking_images', 'ranking_accuracy', 'log_likelihood']);
/** One CSV row, every field as text. */
export type FidelityCsvRow = Record<(typeof FIDELITY_CSV_COLUMNS)[number], string>;

const NUMERIC: Array<keyof FidelityCsvRow> = ['latency_order', 'params', 'macs', 'budget_images', 'validation_accuracy', 'train_seconds', 'seed'];

/** The complete rows of a fidelity CSV's text, and how many lines were dropped as torn or incomplete. */
export function parseFidelityCsv(text: string): { rows: FidelityCsvRow[]; dropped: number } {
  // Rows are appended whole with their newline: text after the last newline is a torn write.
  const lastNewline = text.lastIndexOf('\n');
  const whole = text.slice(0, lastNewline + 1);
  const torn = text.length > whole.length ? 1 : 0;
  // A file written before retests has no `replicate` column: its rows are first trainings (0).
  const parsed = (parse(whole, { columns: true, relax_column_count: true, skip_empty_lines: true }) as Array<Partial<FidelityCsvRow>>).map((r) => ({
    ...r,
    replicate: r.replicate ?? '0',
    ranking_images: r.ranking_images ?? '',
    ranking_accuracy: r.ranking_accuracy ?? '',
    // Files written before --shared-data-order: every genome had its own batch order.
    data_order: r.data_order ?? 'candidate',
    // Files written before trainings recorded it.
    log_likelihood: r.log_likelihood ?? '',
  }));
  const rows = parsed.filter(
    (r): r is FidelityCsvRow =>
      FIDELITY_CSV_COLUMNS.every((c) => OPTIONAL_COLUMNS.has(c) || (r[c] !== undefined && r[c] !== '')) &&
      (r.ranking_images === '') === (r.ranking_accuracy === '') &&
      (r.ranking_images === '' || (Number.isInteger(Number(r.ranking_images)) && Number(r.ranking_images) > 0 && Number.isFinite(Number(r.ranking_accuracy)))) &&
      Number.isInteger(Number(r.replicate)) &&
      Number(r.replicate) >= 0 &&
      NUMERIC.every((c) => Number.isFinite(Number(r[c]))) &&
      (r.subset === 'full' || Number.isInteger(Number(r.subset))) &&
      (r.kd === 'true' || r.kd === 'false') &&
      (r.data_order === 'candidate' || r.data_order === 'shared') &&
      (r.log_likelihood === '' || (Number.isFinite(Number(r.log_likelihood)) && Number(r.log_likelihood) <= 0)),
  );
  return { rows, dropped: torn + parsed.length - rows.length };
}

/** The text of a fidelity CSV holding `rows` (header included). */
export function formatFidelityCsv(rows: FidelityCsvRow[], header = true): string {
  return stringify(rows, { header, columns: [...FIDELITY_CSV_COLUMNS] });
}

/** A CSV row as the summary reads it. */
export function fidelityRowOf(r: FidelityCsvRow): FidelityRow {
  const replicate = Number(r.replicate);
  return {
    genomeId: r.genome_id,
    images: Number(r.budget_images),
    subset: r.subset === 'full' ? null : Number(r.subset),
    kd: r.kd === 'true',
    ...(replicate ? { replicate } : {}),
    validationAccuracy: Number(r.validation_accuracy),
    ...(r.ranking_images ? { ranking: { images: Number(r.ranking_images), accuracy: Number(r.ranking_accuracy) } } : {}),
    ...(r.log_likelihood ? { logLikelihood: Number(r.log_likelihood) } : {}),
  };
}
