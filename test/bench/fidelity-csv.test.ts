import { describe, expect, it } from 'vitest';
import { fidelityRowOf, formatFidelityCsv, parseFidelityCsv, type FidelityCsvRow } from '../../bench/fidelity-csv.js';

const row = (over: Partial<FidelityCsvRow> = {}): FidelityCsvRow => ({
  genome_id: 'dd4fd91afd58',
  latency_order: '0',
  params: '128590',
  macs: '1521472',
  analytic_latency_ms: '0.0814',
  budget_images: '2000',
  subset: '2000',
  kd: 'false',
  validation_accuracy: '0.52933',
  train_seconds: '21.0',
  images_per_second: '95.2',
  data: '427d0e658c79074f',
  seed: '0',
  replicate: '0',
  ranking_images: '',
  ranking_accuracy: '',
  data_order: 'candidate',
  log_likelihood: '',
  ...over,
});
/** A file of an earlier format: the last `columns` columns of every line left out (no field here holds a comma). */
const withoutLastColumns = (text: string, columns: number) =>
  text
    .split('\n')
    .map((line) => (line ? line.split(',').slice(0, -columns).join(',') : line))
    .join('\n');

describe('fidelity CSV', () => {
  it('round-trips rows appended one at a time after the header', () => {
    const a = row();
    const b = row({ genome_id: 'c3d46b765f35', budget_images: '20000', subset: 'full', kd: 'true', validation_accuracy: '0.8411' });
    const text = formatFidelityCsv([]) + formatFidelityCsv([a], false) + formatFidelityCsv([b], false);
    const { rows, dropped } = parseFidelityCsv(text);
    expect(dropped).toBe(0);
    expect(rows).toEqual([a, b]);
    expect(fidelityRowOf(rows[1])).toEqual({ genomeId: 'c3d46b765f35', images: 20000, subset: null, kd: true, validationAccuracy: 0.8411 });
    expect(fidelityRowOf(rows[0]).subset).toBe(2000);
  });

  it('drops a torn last line (a kill mid-append), even one that would parse', () => {
    const whole = formatFidelityCsv([row()]);
    // The data hash cut short: every field present, but the line has no newline.
    const tornLine = formatFidelityCsv([row({ genome_id: 'f0b916abb77b' })], false).slice(0, -5);
    const { rows, dropped } = parseFidelityCsv(whole + tornLine);
    expect(rows.map((r) => r.genome_id)).toEqual(['dd4fd91afd58']);
    expect(dropped).toBe(1);
  });

  it('drops incomplete or malformed rows and keeps the rest', () => {
    const text =
      formatFidelityCsv([row(), row({ genome_id: 'x1', validation_accuracy: 'oops' }), row({ genome_id: 'x2', kd: 'maybe' }), row({ genome_id: 'x3', subset: '' })]) + 'y,1,2\n';
    const { rows, dropped } = parseFidelityCsv(text);
    expect(rows.map((r) => r.genome_id)).toEqual(['dd4fd91afd58']);
    expect(dropped).toBe(4);
  });

  it('a retest keeps its replicate; a file written before retests reads as first trainings', () => {
    const retest = row({ replicate: '1', validation_accuracy: '0.5101' });
    const { rows } = parseFidelityCsv(formatFidelityCsv([row(), retest]));
    expect(rows.map(fidelityRowOf)).toEqual([
      { genomeId: 'dd4fd91afd58', images: 2000, subset: 2000, kd: false, validationAccuracy: 0.52933 },
      { genomeId: 'dd4fd91afd58', images: 2000, subset: 2000, kd: false, replicate: 1, validationAccuracy: 0.5101 },
    ]);
    // The header and rows of the earlier format: no replicate column at all.
    const older = withoutLastColumns(formatFidelityCsv([row()]), 5);
    expect(older.split('\n')[0].endsWith(',seed')).toBe(true);
    const read = parseFidelityCsv(older);
    expect(read.dropped).toBe(0);
    expect(read.rows.map((r) => r.replicate)).toEqual(['0']);
    expect(parseFidelityCsv(formatFidelityCsv([row({ replicate: '-1' }), row({ replicate: 'x' })])).dropped).toBe(2);
  });

  it('a training validated outside its subset keeps both accuracies; a file written before that reads with neither', () => {
    const ranked = row({ ranking_images: '52000', ranking_accuracy: '0.53712' });
    const { rows, dropped } = parseFidelityCsv(formatFidelityCsv([row(), ranked]));
    expect(dropped).toBe(0);
    expect(rows.map(fidelityRowOf)).toEqual([
      { genomeId: 'dd4fd91afd58', images: 2000, subset: 2000, kd: false, validationAccuracy: 0.52933 },
      { genomeId: 'dd4fd91afd58', images: 2000, subset: 2000, kd: false, validationAccuracy: 0.52933, ranking: { images: 52000, accuracy: 0.53712 } },
    ]);
    // The format before these columns: the header and every row end at replicate.
    const older = withoutLastColumns(formatFidelityCsv([row()]), 4);
    expect(older.split('\n')[0].endsWith(',replicate')).toBe(true);
    const read = parseFidelityCsv(older);
    expect(read.dropped).toBe(0);
    expect(read.rows.map(fidelityRowOf)).toEqual([{ genomeId: 'dd4fd91afd58', images: 2000, subset: 2000, kd: false, validationAccuracy: 0.52933 }]);
    // One of the pair without the other, or a count that is not a positive whole number: not a row.
    const bad = [row({ ranking_images: '52000' }), row({ ranking_accuracy: '0.5' }), row({ ranking_images: '0', ranking_accuracy: '0.5' }), row({ ranking_images: '5.5', ranking_accuracy: '0.5' }), row({ ranking_images: '9', ranking_accuracy: 'x' })];
    expect(parseFidelityCsv(formatFidelityCsv(bad)).dropped).toBe(5);
  });

  it('a shared-data-order row says so; a file written before the column reads as each genome its own order', () => {
    const shared = row({ data_order: 'shared' });
    expect(parseFidelityCsv(formatFidelityCsv([row(), shared])).rows.map((r) => r.data_order)).toEqual(['candidate', 'shared']);
    const older = withoutLastColumns(formatFidelityCsv([row()]), 2);
    expect(older.split('\n')[0].endsWith(',ranking_accuracy')).toBe(true);
    const read = parseFidelityCsv(older);
    expect(read.dropped).toBe(0);
    expect(read.rows).toEqual([row()]);
    expect(parseFidelityCsv(formatFidelityCsv([row({ data_order: 'random' })])).dropped).toBe(1);
  });

  it('a row keeps its log-likelihood; a file written before the column reads without one; a positive one is not a row', () => {
    const scored = row({ log_likelihood: '-0.412305' });
    const { rows, dropped } = parseFidelityCsv(formatFidelityCsv([row(), scored]));
    expect(dropped).toBe(0);
    expect(rows.map(fidelityRowOf)).toEqual([
      { genomeId: 'dd4fd91afd58', images: 2000, subset: 2000, kd: false, validationAccuracy: 0.52933 },
      { genomeId: 'dd4fd91afd58', images: 2000, subset: 2000, kd: false, validationAccuracy: 0.52933, logLikelihood: -0.412305 },
    ]);
    const older = withoutLastColumns(formatFidelityCsv([row()]), 1);
    expect(older.split('\n')[0].endsWith(',data_order')).toBe(true);
    expect(parseFidelityCsv(older)).toEqual({ rows: [row()], dropped: 0 });
    expect(parseFidelityCsv(formatFidelityCsv([row({ log_likelihood: '0.1' }), row({ log_likelihood: 'x' })])).dropped).toBe(2);
  });

  it('reads an empty file as no rows', () => {
    expect(parseFidelityCsv('')).toEqual({ rows: [], dropped: 0 });
  });
});
