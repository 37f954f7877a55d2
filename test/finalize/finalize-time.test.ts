/**
 * `nas finalize --time` end to end on the bundled sample, in seconds: the
 * flag's refusals, the plan printed before anything trains (dry run and
 * real run), and a resume that trains each model for the epochs its plan
 * gives it, with each model's epochs and recipe hash in finalized.csv.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelRecipe, type FinalizationPlan } from '../../finalize/finalize-run.js';
import { recipeHash } from '../../finalize/recipe.js';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { TEST_SPACE } from '../helpers.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');
// The best front member and the plain CNN on 64 images: an epoch is one step.
const args = ['--subset', '64', '--top', '1', '--baselines', 'plain-cnn', '--workers', '2', '--latency-time', '100'];
let root: string;
let run: string;

function finalize(dir: string, ...extra: string[]) {
  return spawnSync(process.execPath, [cli, 'finalize', dir, ...args, ...extra], { encoding: 'utf8', env: process.env });
}

type CsvRow = Record<string, string | number>;
const csvRows = (dir: string) => parse(readFileSync(join(dir, 'finalized.csv')), { columns: true, cast: true }) as CsvRow[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'finalize-time-'));
  process.env.NAS_CACHE_DIR = join(root, 'cache');
  run = join(root, 'run');
  await runSearch(
    resolveSearchConfig({ seed: 5, space: TEST_SPACE, searcher: { population: 2 }, budget: { generations: 1 }, training: { images: 128, subset: 300, batchSize: 32 }, latency: { iterations: 20, time: 50 }, workers: 1 }),
    { runDir: run },
  );
}, 120_000);

describe('nas finalize --time', () => {
  it('refuses --epochs beside it, a value that is not a duration, and a budget nothing fits, naming --time', () => {
    const both = finalize(run, '--time', '1h', '--epochs', '3');
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--time and --epochs: --time chooses each model's epochs/);
    const bad = finalize(run, '--time', 'tonight');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--time: 'tonight' is not a duration \(e\.g\. 90s, 30m, 8h\)/);
    // 5 s: less than the latency measurement and report take, refused before measuring anything (the planner's own refusal: time-plan.test.ts).
    const short = finalize(run, '--time', '5s');
    expect(short.status).toBe(13);
    expect(short.stderr).toMatch(/--time 5s: too short; measuring the latency of 2 model\(s\) and writing the report alone take about 30s; give more time/);
    expect(short.stderr).not.toMatch(/measuring the training speed/);
    expect(existsSync(join(run, 'final'))).toBe(false);
  }, 120_000);

  it('prints the plan before training; a resume trains each model for the epochs its plan gives, measuring and planning nothing again', () => {
    const dry = finalize(run, '--time', '2h', '--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/measuring the training speed of 2 model\(s\) on this machine, 2 at a time \(1 thread\(s\) each\)/);
    expect(dry.stderr).toMatch(/^plain-cnn: \d+ training images\/s, \d+ evaluated images\/s$/m);
    expect(dry.stdout).toMatch(/^time budget 2h 00m from \d{4}-\d\d-\d\d \d\d:\d\d UTC: 2 model\(s\) on 2 worker\(s\), expected end \d{4}-\d\d-\d\d \d\d:\d\d UTC/m);
    expect(dry.stdout).toMatch(/^ {2}plain-cnn: 30 epochs, \S+( \S+)? at \d+ images\/s measured \(worker [12], from/m);
    expect(dry.stdout).toMatch(/^every model trains the full 30 epochs$/m);
    expect(dry.stdout).toMatch(/^plain-cnn: baseline \(30 epochs\)$/m);
    expect(existsSync(join(run, 'final'))).toBe(false);

    // The plan a run with --time writes (from the dry run's --json), each model given its own epochs as a shorter budget would:
    // --resume trains exactly those, measuring nothing. (A real 30-epoch run takes a minute here: not in the suite.)
    const json = finalize(run, '--time', '2h', '--dry-run', '--json');
    expect(json.status, json.stderr).toBe(0);
    const plan = (JSON.parse(json.stdout) as { plan: FinalizationPlan }).plan;
    expect(plan.time!.budgetSeconds).toBe(7200);
    expect(plan.time!.measured.map((m) => m.id).sort()).toEqual(plan.models.map((m) => m.id).sort());
    expect(plan.models.map((m) => m.epochs)).toEqual([30, 30]);
    const resumed = join(root, 'resumed');
    cpSync(run, resumed, { recursive: true });
    const own: Record<string, number> = Object.fromEntries(plan.models.map((m) => [m.id, m.kind === 'front' ? 3 : 2]));
    const edited: FinalizationPlan = {
      ...plan,
      models: plan.models.map((m) => ({ ...m, epochs: own[m.id] })),
      time: { ...plan.time!, schedule: plan.time!.schedule.map((s) => ({ ...s, epochs: own[s.id] })) },
    };
    mkdirSync(join(resumed, 'final'));
    writeFileSync(join(resumed, 'final', 'plan.json'), JSON.stringify(edited, null, 2));
    const again = finalize(resumed, '--resume', '--time', '1h');
    expect(again.status).toBe(13);
    expect(again.stderr).toMatch(/plan\.json: --time plans a new finalization; --resume continues this one with the epochs it planned/);
    const resume = finalize(resumed, '--resume');
    expect(resume.status, resume.stderr).toBe(0);
    expect(resume.stderr).not.toMatch(/measuring the training speed/);
    const planAt = resume.stderr.search(/^time budget 2h 00m/m);
    expect(planAt).toBeGreaterThan(-1);
    expect(planAt).toBeLessThan(resume.stderr.search(/: starting \([23] epochs\)/));
    expect(resume.stderr).toMatch(/recipe [0-9a-f]{12}: epochs per model as planned/);
    const rows = csvRows(resumed).filter((r) => r.kind !== 'teacher');
    expect(rows.map((r) => r.id).sort()).toEqual(Object.keys(own).sort());
    for (const r of rows) {
      const m = edited.models.find((x) => x.id === r.id)!;
      expect(r.epochs).toBe(own[m.id]);
      expect(r.recipe_hash).toBe(recipeHash(modelRecipe(edited, m)));
      const record = JSON.parse(readFileSync(join(resumed, 'final', m.id, 'record.json'), 'utf8'));
      expect(record.validationCurve).toHaveLength(own[m.id]);
    }
    expect(new Set(rows.map((r) => r.recipe_hash)).size).toBe(2);
    const summary = readFileSync(join(resumed, 'summary.md'), 'utf8');
    expect(summary).toMatch(/Recipe [0-9a-f]{12}: 2–3 epochs per model on the training split/);
    expect(summary).toMatch(/Fitted to `--time 2h 00m` \(started [^)]+\): trainings planned at /);
  }, 600_000);
});
