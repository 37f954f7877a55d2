/**
 * What the reports say of a teacher trained here: its training time and
 * machine beside its accuracy, in finalized.csv and summary.md; nothing of
 * the kind for an ONNX teacher, whose time was not spent here.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { FinalizeResult } from '../../finalize/finalize-run.js';
import { finalRecipe } from '../../finalize/recipe.js';
import { finalizedCsv, summarySection } from '../../finalize/report.js';
import { teacherTrainingNote } from '../../train/teacher-progress.js';
import { trainingMachine } from '../../train/trained-teacher.js';

const result = (teacher: FinalizeResult['teacher']): FinalizeResult => ({ runDir: '/tmp/run', recipe: finalRecipe({ epochs: 2 }), models: [], failed: [], teacher, wallSeconds: 0 });
const trained = { description: 'trained here: widest, genome 0123456789ab, 1000 params, 10 epochs, seed 0', testAccuracy: 0.9312, testCount: 10000, trainSeconds: 6725.04, trainedOn: 'Intel(R) Xeon(R) Processor, 2 threads' };

describe('the teacher in the finalize reports', () => {
  it('a trained teacher: its seconds in finalized.csv, its time and machine in summary.md', () => {
    const [row] = parse(finalizedCsv(result(trained)), { columns: true }) as Array<Record<string, string>>;
    expect(row).toMatchObject({ id: 'teacher', kind: 'teacher', test_accuracy: '0.9312', train_seconds: '6725', test_images: '10000' });
    expect(summarySection(result(trained), [])).toContain('test accuracy 93.12% (trained in 1h52m on Intel(R) Xeon(R) Processor, 2 threads).');
  });

  it('an ONNX teacher: no training time anywhere', () => {
    const onnx = { ...trained, description: 'onnx teacher.onnx', trainSeconds: null, trainedOn: null };
    const [row] = parse(finalizedCsv(result(onnx)), { columns: true }) as Array<Record<string, string>>;
    expect(row.train_seconds).toBe('');
    expect(summarySection(result(onnx), [])).toContain('Teacher: onnx teacher.onnx; test accuracy 93.12%.');
  });

  it('the note and the machine string', () => {
    expect(teacherTrainingNote({ trainSeconds: 245, trainedOn: null })).toBe(' (trained in 4m05s)');
    expect(teacherTrainingNote({ trainSeconds: null, trainedOn: 'x' })).toBe('');
    expect(trainingMachine(1, 'AMD EPYC 7B13')).toBe('AMD EPYC 7B13, 1 thread');
    expect(trainingMachine(2, 'AMD EPYC 7B13')).toBe('AMD EPYC 7B13, 2 threads');
  });
});
