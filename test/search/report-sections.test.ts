/**
 * The page's figures for people and its reading of finalize's and compress's
 * files (pure): the formatting against hand-computed strings, an older
 * finalized.csv without verdicts, a bad cell named by file, row and column,
 * and the teacher line for each kind of teacher.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { finalSection } from '../../search/report-final.js';
import { bytesText, countText, intervalText, msText, percentText, pointsText, ratioText } from '../../search/report-format.js';
import type { ReportTable } from '../../search/report-table.js';
import { teacherHeadline } from '../../search/report-teacher.js';
import { variantsSection } from '../../search/report-variants.js';

const fixture = (file: string): Extract<ReportTable, { state: 'present' }> => {
  const [columns, ...rows] = parse(readFileSync(join(import.meta.dirname, '../fixtures/finalized-run', file), 'utf8').replace(/FRONT_A/g, 'aaaaaaaaaaaa').replace(/FRONT_B/g, 'bbbbbbbbbbbb')) as string[][];
  return { state: 'present', file, columns, rows };
};

describe('figures for people', () => {
  it('percentages with one decimal, ms to 3 significant figures, KB/MB, ×, signed points, short counts', () => {
    expect(percentText(0.9093)).toBe('90.9%');
    expect(percentText(1)).toBe('100.0%');
    expect(intervalText(0.90351, 0.91477)).toBe('90.4–91.5%');
    expect(msText(0.16723)).toBe('0.167 ms');
    expect(msText(0.1804)).toBe('0.180 ms');
    expect(msText(0.09121)).toBe('0.0912 ms');
    expect(msText(12.345)).toBe('12.3 ms');
    expect(msText(1234.5)).toBe('1,235 ms');
    expect(bytesText(999)).toBe('999 B');
    expect(bytesText(495321)).toBe('495 KB');
    expect(bytesText(86022)).toBe('86.0 KB');
    expect(bytesText(1210448)).toBe('1.21 MB');
    expect(ratioText(0.40012)).toBe('0.40×');
    expect(pointsText(-0.0042)).toBe('−0.4 pt');
    expect(pointsText(0.0149)).toBe('+1.5 pt');
    expect(pointsText(0.0002)).toBe('±0.0 pt');
    expect(countText(980)).toBe('980');
    expect(countText(216140)).toBe('216k');
    expect(countText(2600000)).toBe('2.6M');
  });
});

describe('reading finalized.csv and compression.csv', () => {
  it('the fixture: verdicts by outcome, every model in the chart data, the teacher row apart', () => {
    const final = finalSection(fixture('finalized.csv'));
    if (final.state !== 'ok') throw new Error(final.problem);
    expect(final.verdicts.map((v) => [v.baseline, v.state, v.by])).toEqual([['mobilenetv2-x0.35', 'dominated', 'aaaaaaaaaaaa'], ['plain-cnn', 'dominated', 'bbbbbbbbbbbb'], ['mobilenetv3-small', 'failed', null]]);
    expect(final.models.map((m) => m.id)).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'mobilenetv2-x0.35', 'plain-cnn', 'mobilenetv3-small']);
    expect(final.models.map((m) => m.href)).toEqual(['final/aaaaaaaaaaaa/', 'final/bbbbbbbbbbbb/', 'final/mobilenetv2-x0.35/', 'final/plain-cnn/', 'final/mobilenetv3-small/']);
    expect(final.teacher).toEqual({ accuracy: 0.9312, low: 0.92607, high: 0.936, images: 10000, trainSeconds: 6725 });
  });

  it('a finalized.csv from before verdicts were written: every baseline unjudged, and the page says where the verdicts are', () => {
    const table = fixture('finalized.csv');
    const keep = table.columns.map((_, i) => i).filter((i) => !['dominated_by', 'verdict'].includes(table.columns[i]));
    const old = { ...table, columns: keep.map((i) => table.columns[i]), rows: table.rows.map((r) => keep.map((i) => r[i])) };
    const final = finalSection(old);
    if (final.state !== 'ok') throw new Error(final.problem);
    expect(final.verdicts.map((v) => v.state)).toEqual(['unjudged', 'unjudged', 'unjudged']);
    expect(final.verdicts[0].text).toBe('mobilenetv2-x0.35: this finalized.csv holds no verdict (written before nas finalize recorded them); summary.md states it');
    expect(final.models.every((m) => m.dominatedBy === null)).toBe(true);
  });

  it('a bad cell is named by file, row and column', () => {
    const table = fixture('compression.csv');
    const bad = { ...table, rows: table.rows.map((r, i) => (i === 2 ? r.map((c, j) => (table.columns[j] === 'file_bytes' ? 'lots' : c)) : r)) };
    expect(variantsSection(bad)).toMatchObject({ state: 'problem', problem: 'compression.csv row 3, column file_bytes: expected a number' });
    const final = fixture('finalized.csv');
    const kindless = { ...final, rows: final.rows.map((r, i) => (i === 0 ? r.map((c, j) => (final.columns[j] === 'kind' ? 'mystery' : c)) : r)) };
    expect(finalSection(kindless)).toMatchObject({ state: 'problem' });
    expect((finalSection(kindless) as { problem: string }).problem).toMatch(/^finalized\.csv row 1, column kind: /);
  });

  it('variants: changes against the same model\'s fp32, a kept fp32 said so', () => {
    const variants = variantsSection(fixture('compression.csv'));
    if (variants.state !== 'ok') throw new Error(variants.problem);
    const b = variants.points.filter((p) => p.id === 'bbbbbbbbbbbb');
    expect(b.map((p) => p.variant)).toEqual(['fp32', 'int8', 'pruned', 'pruned+int8']);
    expect(b[1].label).toBe('INT8 (fp32 kept): 1.00× size, ±0.0 pt');
    expect(b[3].sizeRatio).toBeCloseTo(212544 / 1210448, 12);
    expect(b[3].accuracyChange).toBeCloseTo(0.9087 - 0.9161, 12);
  });
});

describe('the teacher line', () => {
  it('an ONNX file, a teacher trained here, none, and one a proxy run never used', () => {
    const onnx = { source: { kind: 'onnx', path: 'teachers/resnet18.onnx' }, accuracy: 0.9412, interval: null, trainSeconds: null, trainedOn: null, used: true } as const;
    expect(teacherHeadline(onnx)).toBe('Teacher: 94.1% test accuracy; ONNX file teachers/resnet18.onnx');
    const trained = { source: { kind: 'trained', architecture: 'widest', epochs: 10, threads: 1 }, accuracy: null, interval: null, trainSeconds: 3600, trainedOn: 'AMD EPYC, 1 thread', used: false } as const;
    expect(teacherHeadline(trained)).toBe('Teacher: test accuracy not recorded (no teacher-cache entry or finalized.csv row for it); trained here: widest, 10 epochs, in 1h00m on AMD EPYC, 1 thread (configured, but this run\'s evaluator used no teacher)');
    expect(teacherHeadline(null)).toBe('Teacher: none (plain training, no distillation)');
  });
});
