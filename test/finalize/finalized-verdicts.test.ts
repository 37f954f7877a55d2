/**
 * finalized.csv carries each baseline's verdict, the very sentence `nas
 * finalize` prints and summary.md lists, and the front model that dominates
 * it: report.html shows these rather than judging again.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { ComparedMeasurement } from '../../benchmarks/compare.js';
import type { FinalizedModel, FinalizeResult } from '../../finalize/finalize-run.js';
import { finalRecipe } from '../../finalize/recipe.js';
import { dominanceLines, dominanceOf, finalizedCsv, FINALIZED_COLUMNS, summarySection } from '../../finalize/report.js';

const model = (kind: 'front' | 'baseline', id: string, accuracy: number, p50: number | null): FinalizedModel => ({
  record: { state: 'trained', id, kind, name: kind === 'front' ? `front ${id}` : id, testAccuracy: accuracy, testCount: 10000, validationAccuracy: accuracy, validationCurve: [accuracy], params: 1000, macs: 100000, epochs: 30, trainSeconds: 60, sessions: 1, recipeHash: 'r' },
  latency: (p50 === null ? { state: 'errored', error: 'crashed', ratioToFirst: null } : { state: 'measured', stats: { p50, p90: p50 * 1.1 }, ratioToFirst: 1 }) as unknown as ComparedMeasurement,
  files: `final/${id}`,
  selectedAs: kind === 'front' ? ['top 2'] : [],
});

const result: FinalizeResult = {
  runDir: '/tmp/run',
  recipe: finalRecipe({ epochs: 30 }),
  models: [
    model('front', 'aaaaaaaaaaaa', 0.9093, 0.16723),
    model('front', 'bbbbbbbbbbbb', 0.9161, 0.2876),
    model('baseline', 'mobilenetv2-x0.35', 0.9053, 0.205),
    model('baseline', 'mobilenetv3-small', 0.923, 0.251),
    model('baseline', 'plain-cnn', 0.9, null),
  ],
  failed: [],
  teacher: null,
  wallSeconds: 0,
};

describe('verdicts in finalized.csv', () => {
  it('each judged baseline row holds the printed sentence and its dominator; front rows and an unmeasured baseline hold none', () => {
    const rows = parse(finalizedCsv(result), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0])).toEqual([...FINALIZED_COLUMNS]);
    const printed = dominanceLines(dominanceOf(result));
    expect(printed).toHaveLength(2); // the baseline without a latency is not judged
    expect(rows.map((r) => r.verdict)).toEqual(['', '', printed[0], printed[1], '']);
    expect(rows.map((r) => r.dominated_by)).toEqual(['', '', 'aaaaaaaaaaaa', '', '']);
    expect(printed[0]).toBe('mobilenetv2-x0.35 (90.53%, 0.2050 ms) is dominated by aaaaaaaaaaaa (90.93%, 0.1672 ms: +0.40 points at 0.82× the latency)');
    expect(printed[1]).toMatch(/^SEARCH FAILED against mobilenetv3-small \(92\.30%, 0\.2510 ms\): in the band latency ≤ 0\.2510 ms/);
    // summary.md lists the same sentences.
    const summary = summarySection(result, dominanceOf(result));
    for (const line of printed) expect(summary).toContain(`- ${line}`);
  });
});
