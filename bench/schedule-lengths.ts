/**
 * bench:schedule: accuracy against schedule length, to choose finalize's
 * default epochs by measurement. Budgeted training (Li et al., ICLR 2020)
 * finds that a short schedule which decays to zero gets most of a long one's
 * accuracy, and a truncated long schedule does not; so each length here is a
 * complete schedule of its own (finalize's recipe at that many epochs: its
 * warm-up, then cosine decay to zero over that length).
 *
 * Each length is one `finalizeRun` of the chosen models (front members of a
 * search run by id, hand-designed baselines by name) in its own copy of the
 * run (OUT/schedule/e<E>/), so a kill loses at most an epoch of each model
 * training, and `--resume` of the same command continues. Each trained model
 * is a row of schedule.csv as soon as it finishes; a rerun trains only the
 * rows missing there.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { runWithFrontFiles } from '../cli/run-front.js';
import { finalizeRun, readPlan } from '../finalize/finalize-run.js';
import type { FinalRecord } from '../finalize/types.js';
import { runSetting } from '../search/config-helpers.js';
import { BASELINE_NAMES, type BaselineName } from '../space/baselines.js';

export interface ScheduleOptions {
  /** A finished search's run directory: its front members' files and its data, split and teacher. */
  runDir: string;
  /** Front member ids of the run and baseline names (space/baselines.ts), in any order. */
  models: readonly string[];
  /** Schedule lengths, each a complete schedule of its own. */
  epochs: readonly number[];
  /** Models trained at once (finalize's workers). */
  workers: number;
  /** Train on a seeded subset of the training split (a quick trial); absent: all of it. */
  subset?: number;
  out: string;
  cpu: string;
  log: (line: string) => void;
}

/** One trained model at one schedule length. */
export interface ScheduleRow {
  epochs: number;
  model: string;
  kind: 'front' | 'baseline';
  params: number;
  macs: number;
  test_accuracy: number;
  validation_accuracy: number;
  train_seconds: number;
  kd_alpha: number;
  recipe_hash: string;
  cpu: string;
}

export const SCHEDULE_COLUMNS: ReadonlyArray<keyof ScheduleRow> = ['epochs', 'model', 'kind', 'params', 'macs', 'test_accuracy', 'validation_accuracy', 'train_seconds', 'kd_alpha', 'recipe_hash', 'cpu'];

const isBaseline = (name: string): name is BaselineName => (BASELINE_NAMES as readonly string[]).includes(name);

/** Trains every (length, model) not yet in OUT/schedule.csv; returns the rows there for the asked lengths and models. */
export async function measureSchedule(o: ScheduleOptions): Promise<ScheduleRow[]> {
  const csv = join(o.out, 'schedule.csv');
  const done = new Set<string>();
  if (existsSync(csv)) for (const r of parse(readFileSync(csv), { columns: true }) as Array<Record<string, string>>) done.add(`${r.epochs}|${r.model}`);
  else {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(csv, SCHEDULE_COLUMNS.join(',') + '\n');
  }
  const baselines = o.models.filter(isBaseline);
  const ids = o.models.filter((m) => !isBaseline(m));
  for (const epochs of o.epochs) {
    if (o.models.every((m) => done.has(`${epochs}|${m}`))) continue;
    const dir = join(o.out, 'schedule', `e${epochs}`);
    if (!existsSync(dir)) {
      mkdirSync(join(o.out, 'schedule'), { recursive: true });
      // The run without any finalization it holds: this length's final/ is its own.
      cpSync(o.runDir, dir, { recursive: true, filter: (src) => src !== join(o.runDir, 'final') });
    }
    const run = runWithFrontFiles(dir);
    const planFile = join(dir, 'final', 'plan.json');
    const resume = existsSync(planFile);
    if (resume) {
      // A finalization resumes as planned: a model asked for now but not planned then would never train.
      const planned = new Set(readPlan(planFile).models.map((m) => m.id));
      const missing = o.models.filter((m) => !planned.has(m) && !done.has(`${epochs}|${m}`));
      if (missing.length) throw new Error(`${planFile}: plans ${[...planned].join(', ')}, not ${missing.join(', ')}; use another --out for another set of models`);
    }
    o.log(`schedule: ${epochs} epochs of ${o.models.join(', ')}${resume ? ' (resuming)' : ''}`);
    let alpha: number | undefined;
    const keep = (record: FinalRecord) => {
      if (record.state !== 'trained' || done.has(`${epochs}|${record.id}`)) return;
      const row: ScheduleRow = {
        epochs,
        model: record.id,
        kind: record.kind,
        params: record.params,
        macs: record.macs,
        test_accuracy: record.testAccuracy,
        validation_accuracy: record.validationAccuracy,
        train_seconds: Math.round(record.trainSeconds),
        // final/plan.json is written before any model trains.
        kd_alpha: (alpha ??= readPlan(planFile).recipe.distillation.alpha),
        recipe_hash: record.recipeHash,
        cpu: o.cpu,
      };
      appendFileSync(csv, SCHEDULE_COLUMNS.map((c) => (c === 'cpu' ? `"${row.cpu}"` : String(row[c]))).join(',') + '\n');
      done.add(`${epochs}|${record.id}`);
      o.log(`schedule: ${record.id} at ${epochs} epochs: test accuracy ${(record.testAccuracy * 100).toFixed(2)}% in ${row.train_seconds} s`);
    };
    const result = await finalizeRun(
      { ...run, ...runSetting(run.config) },
      {
        ids,
        baselines,
        workers: o.workers,
        // The table is of accuracy: finalize's closing latency measurement is kept short.
        latencyTime: 200,
        latencyIterations: 20,
        ...(o.subset !== undefined ? { subset: o.subset } : {}),
        ...(resume ? { resume: true } : { epochs }),
        // A row the moment a model finishes, not when the slowest of this length does.
        onEvent: (e) => {
          if (e.type === 'epoch') o.log(`  e${epochs} ${e.name} epoch ${e.epoch}/${e.epochs}: validation ${(e.validationAccuracy * 100).toFixed(2)}%`);
          if (e.type === 'done') keep(e.record);
        },
      },
    );
    // Models a resumed finalization found finished raise no event.
    for (const m of result.models) keep(m.record);
    for (const f of result.failed) o.log(`schedule: ${f.id} at ${epochs} epochs failed: ${f.error}`);
  }
  const wanted = new Set(o.epochs.flatMap((e) => o.models.map((m) => `${e}|${m}`)));
  return (parse(readFileSync(csv), { columns: true, cast: true }) as ScheduleRow[]).filter((r) => wanted.has(`${r.epochs}|${r.model}`));
}

/** Test accuracy by model (rows) and schedule length (columns), as a Markdown table. */
export function scheduleTable(rows: readonly ScheduleRow[], epochs: readonly number[], models: readonly string[]): string[] {
  const cell = (m: string, e: number) => {
    const r = rows.find((x) => x.model === m && x.epochs === e);
    return r ? `${(r.test_accuracy * 100).toFixed(2)}%` : '—';
  };
  return [
    `| model | ${epochs.map((e) => `${e} epochs`).join(' | ')} |`,
    `|---|${epochs.map(() => '---:').join('|')}|`,
    ...models.map((m) => `| ${m} | ${epochs.map((e) => cell(m, e)).join(' | ')} |`),
  ];
}
