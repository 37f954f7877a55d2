import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureSchedule, SCHEDULE_COLUMNS, scheduleTable } from '../../bench/schedule-lengths.js';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { readRun } from '../../search/run-directory.js';
import { TEST_SPACE } from '../helpers.js';

let root: string;
let run: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'schedule-'));
  process.env.NAS_CACHE_DIR = join(root, 'cache');
  run = join(root, 'run');
  await runSearch(
    resolveSearchConfig({ seed: 3, space: TEST_SPACE, searcher: { population: 2 }, budget: { generations: 1 }, training: { images: 128, subset: 300, batchSize: 32 }, teacher: null, latency: { iterations: 20, time: 50 }, workers: 1 }),
    { runDir: run },
  );
});

describe('bench:schedule', () => {
  it('trains each model at each length as a schedule of its own, a row each, and a rerun trains nothing', async () => {
    const id = readRun(run).front[0].id;
    const out = join(root, 'out');
    const lines: string[] = [];
    const options = { runDir: run, models: [id, 'plain-cnn'], epochs: [1, 2], workers: 2, subset: 256, out, cpu: 'test CPU', log: (l: string) => lines.push(l) };
    const rows = await measureSchedule(options);
    expect(rows.map((r) => `${r.epochs}|${r.model}|${r.kind}`).sort()).toEqual([`1|${id}|front`, '1|plain-cnn|baseline', `2|${id}|front`, '2|plain-cnn|baseline']);
    for (const r of rows) {
      expect(r.test_accuracy).toBeGreaterThan(0);
      expect(r.test_accuracy).toBeLessThanOrEqual(1);
      // No teacher in the run: finalize's recipe without KD.
      expect(r.kd_alpha).toBe(0);
      expect(r.cpu).toBe('test CPU');
    }
    // Each length is its own recipe (its own warm-up and decay), not a prefix of the longer one.
    const hashOf = (e: number) => rows.find((r) => r.model === id && r.epochs === e)!.recipe_hash;
    expect(hashOf(1)).not.toBe(hashOf(2));
    const plan = JSON.parse(readFileSync(join(out, 'schedule', 'e2', 'final', 'plan.json'), 'utf8'));
    expect(plan.recipe.epochs).toBe(2);
    const csv = readFileSync(join(out, 'schedule.csv'), 'utf8');
    expect(Object.keys(parse(csv, { columns: true })[0])).toEqual([...SCHEDULE_COLUMNS]);
    // A rerun trains nothing: the rows come back from the CSV.
    lines.length = 0;
    expect(await measureSchedule(options)).toEqual(rows);
    expect(readFileSync(join(out, 'schedule.csv'), 'utf8')).toBe(csv);
    expect(lines).toEqual([]);
    // Another model at a length already planned: one error naming the plan, nothing trained or written.
    const refused = (await measureSchedule({ ...options, models: [id, 'plain-cnn', 'mobilenetv2-x0.35'], epochs: [1] }).catch((e: Error) => e)) as Error;
    expect(refused.message.startsWith(`${join(out, 'schedule', 'e1', 'final', 'plan.json')}: plans `)).toBe(true);
    expect(refused.message).toMatch(/, not mobilenetv2-x0\.35; use another --out for another set of models$/);
    expect(readFileSync(join(out, 'schedule.csv'), 'utf8')).toBe(csv);
    const table = scheduleTable(rows, [1, 2, 5], [id, 'plain-cnn']);
    expect(table[0]).toBe('| model | 1 epochs | 2 epochs | 5 epochs |');
    expect(table[2]).toMatch(new RegExp(`^\\| ${id} \\| \\d+\\.\\d\\d% \\| \\d+\\.\\d\\d% \\| — \\|$`));
  });
});
