/** `nas finalize`: train the front's best and the hand-designed baselines with one recipe, measure, compare. */
import { InvalidArgumentError, type Command } from 'commander';
import { BASELINE_NAMES, type BaselineName } from '../space/baselines.js';
import { checkSelection, finalizeRun, planFinalization } from '../finalize/finalize-run.js';
import { recipeHash } from '../finalize/recipe.js';
import { timePlanLines } from '../finalize/time-budget.js';
import { parseDuration } from '../search/config.js';
import { runSetting } from '../search/config-helpers.js';
import { refreshReportHtml } from '../search/report.js';
import { dominanceLines, writeFinalizeReport } from '../finalize/report.js';
import { wilsonInterval } from '../intervals.js';
import type { FinalizeEvent } from '../finalize/types.js';
import { formatDuration, teacherTrainingNote } from '../train/teacher-progress.js';
import { redisUrlProblem } from '../train/queue/redis-url.js';
import { action, durationFlag, numberFlag, positiveInt, UsageError } from './errors.js';
import { outputOf, outputOptions, type OutputFlags } from './output.js';
import { progressBar } from './progress.js';
import { runWithFrontFiles } from './run-front.js';

interface FinalizeFlags extends OutputFlags {
  init: string;
  fineTuneRate?: number;
  top?: number;
  ids?: string[];
  epochs?: number;
  time?: number;
  baselines: boolean | string;
  resume?: boolean;
  subset?: number;
  workers?: number;
  threads?: number | 'auto';
  latencyTime?: number;
  challengers: boolean;
  dryRun?: boolean;
  redis?: string;
  sharedDir?: string;
  redisRunTtl?: number;
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

function baselineList(value: boolean | string): readonly BaselineName[] | false {
  if (value === false) return false;
  if (value === true) return BASELINE_NAMES;
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(BASELINE_NAMES as readonly string[]).includes(n)) throw new UsageError(`--baselines: '${n}' is not one of ${BASELINE_NAMES.join(', ')}`);
  }
  return names as BaselineName[];
}

/**
 * Progress: a bar with ETA over every model's images on a terminal; one
 * line per epoch per model otherwise (nohup, CI).
 */
function progressPrinter(quiet: boolean): { onEvent: (e: FinalizeEvent) => void; stop: () => void } {
  if (quiet) return { onEvent: () => {}, stop: () => {} };
  const tty = process.stderr.isTTY === true;
  const bar = tty ? progressBar('finalize', { format: '{bar} {percentage}% | {models} | ETA {eta_formatted}' }) : null;
  const seen = new Map<string, { seen: number; total: number }>();
  let pending = 1;
  let finished = 0;
  const line = (text: string) => {
    if (bar) bar.stop();
    console.error(text);
  };
  return {
    onEvent(e) {
      if (e.type === 'plan') pending = Math.max(1, e.pending);
      else if (e.type === 'log') line(e.line);
      else if (e.type === 'teacher') line(`teacher: ${e.description}${e.testAccuracy === null ? '' : `; test accuracy ${pct(e.testAccuracy)}`}`);
      else if (e.type === 'start') line(`${e.name}: ${e.fromEpoch ? `resuming from epoch ${e.fromEpoch}` : 'starting'} (${e.epochs} epochs)`);
      else if (e.type === 'progress' && bar) {
        seen.set(e.id, { seen: e.imagesSeen, total: e.imagesTotal });
        const total = Math.max(...[...seen.values()].map((v) => v.total)) * (e.id === 'teacher' ? 1 : pending);
        const done = [...seen.entries()].filter(([id]) => e.id === 'teacher' || id !== 'teacher').reduce((n, [, v]) => n + v.seen, 0);
        bar.update(done, Math.max(total, done, 1), { models: e.id === 'teacher' ? 'teacher' : `${finished}/${pending} models done` });
      } else if (e.type === 'epoch' && !bar) {
        line(`${e.name}: epoch ${e.epoch}/${e.epochs} loss ${e.loss.toFixed(4)} validation ${pct(e.validationAccuracy)} elapsed ${formatDuration(e.elapsedSeconds)} ETA ${formatDuration(e.etaSeconds)}`);
      } else if (e.type === 'done') {
        finished++;
        const r = e.record;
        line(r.state === 'trained' ? `${r.name}: test accuracy ${pct(r.testAccuracy)} after ${r.epochs} epochs (${formatDuration(r.trainSeconds)})` : `${r.name}: FAILED: ${r.error}`);
      } else if (e.type === 'latency') line(`measuring latency of ${e.models} models, interleaved…`);
    },
    stop: () => bar?.stop(),
  };
}

function idList(value: string): string[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!/^[0-9a-f]{12}$/.test(id)) throw new InvalidArgumentError(`--ids: '${id}' is not a genome id (12 hex digits, as in pareto.csv).`);
  if (!ids.length) throw new InvalidArgumentError('--ids: expected at least one genome id.');
  return ids;
}

function initFlag(value: string): 'scratch' | 'inherited' {
  if (value !== 'scratch' && value !== 'inherited') throw new UsageError(`--init must be scratch or inherited, got '${value}'`);
  return value;
}

function timeFlag(value: string): number {
  let seconds: number;
  try {
    seconds = parseDuration(value);
  } catch (error) {
    throw new UsageError(`--time: ${(error as Error).message}`);
  }
  if (!(seconds > 0)) throw new UsageError(`--time: expected a positive duration (e.g. 90m, 8h), got '${value}'`);
  return seconds;
}

/** A Redis URL as a search's `redis` takes it: checked, and without a password (it comes from NAS_REDIS_PASSWORD). */
function redisFlag(value: string): string {
  const problem = redisUrlProblem(value);
  if (problem) throw new InvalidArgumentError(`--redis: ${problem}`);
  if (new URL(value).password !== '') throw new InvalidArgumentError('--redis: holds a password: set NAS_REDIS_PASSWORD instead, so it is not seen in the process list');
  return value;
}

function threadsFlag(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : numberFlag('--threads', (n) => Number.isInteger(n) && n > 0, 'a positive integer or auto')(value);
}

export function registerFinalize(program: Command): void {
  const finalize = program
    .command('finalize')
    .description('train the front\'s best members and hand-designed baselines with one real recipe; test accuracy, latency in one run, who beats whom')
    .argument('<run dir>', 'a results/<run> directory of a finished search')
    .option('--top <k>', 'the K most accurate front members (default: the best of each third of the latency range, plus the knee)', positiveInt('--top'))
    .option('--ids <ids>', 'these front members (comma-separated genome ids, as in pareto.csv) instead of the default selection, and no challengers', idList)
    .option('--epochs <n>', 'training epochs for every model (default 30)', positiveInt('--epochs'))
    .option('--time <duration>', 'fit the finalization into this time (e.g. 8h, 90m): measure each model\'s speed, then give every model the epochs (5 to 30, a full schedule each) that end in time, dropping the most expensive baselines if even 5 do not; not with --epochs', timeFlag)
    .option('--init <scratch|inherited>', "where front members' weights start: scratch, or the weights in their front/<id>/ files (a supernet search's inherited weights), fine-tuned at a fifth of the learning rate", 'scratch')
    .option('--fine-tune-rate <share>', 'with --init inherited: the share of the peak learning rate front members are fine-tuned at, in (0, 1] (default 0.2)', numberFlag('--fine-tune-rate', (n) => n > 0 && n <= 1, 'a number in (0, 1]'))
    .option('--baselines <names>', `comma-separated subset of ${BASELINE_NAMES.join(', ')}`)
    .option('--no-baselines', 'train no hand-designed baselines')
    .option('--subset <n>', 'train on this many images of the training split (scaled-down runs)', positiveInt('--subset'))
    .option('--workers <n>', 'models trained at once, one per worker (default: the run\'s)', positiveInt('--workers'))
    .option('--threads <n|auto>', 'threads per model, data-parallel; auto: the cores left over when fewer models than cores train at once (default 1; fixed when the finalization starts)', threadsFlag)
    .option('--latency-time <ms>', 'latency measuring time per model, interleaved', positiveInt('--latency-time'), 2000)
    .option('--no-challengers', 'do not add, for each baseline, the most accurate front member no slower than it (measured before training)')
    .option('--resume', 'continue a killed finalization from its checkpoints')
    .option('--redis <url>', "train the models on 'nas worker's through this Redis: redis://[user@]host[:port][/db] or rediss:// (password from NAS_REDIS_PASSWORD)", redisFlag)
    .option('--redis-run-ttl <duration>', "with --redis: how long workers keep training this finalization's models after it was last heard from, e.g. 60s (default)", durationFlag('--redis-run-ttl'))
    .option('--shared-dir <dir>', 'with --redis: the directory the workers write finalized models to (their --shared-dir)')
    .option('--dry-run', 'print what would be trained, and why, without training or writing anything');
  outputOptions(finalize).action(
      action(async (runDir: string, o: FinalizeFlags) => {
        const out = outputOf(o);
        if (o.json && !o.dryRun) throw new UsageError('--json: only with --dry-run (a finalization\'s results are in finalized.csv)');
        const progress = progressPrinter(out.quiet);
        const options = {
          top: o.top,
          ids: o.ids,
          epochs: o.epochs,
          time: o.time,
          init: initFlag(o.init),
          fineTuneRate: o.fineTuneRate,
          baselines: baselineList(o.baselines ?? true),
          challengers: o.challengers,
          subset: o.subset,
          workers: o.workers,
          threads: o.threads,
          resume: o.resume,
          latencyTime: o.latencyTime,
          redis: o.redis,
          sharedDir: o.sharedDir,
          redisRunTtl: o.redisRunTtl,
          onEvent: progress.onEvent,
        };
        if (o.fineTuneRate !== undefined && o.init !== 'inherited') throw new UsageError('--fine-tune-rate: only with --init inherited (a training from scratch runs at the peak learning rate)');
        if (o.time !== undefined && o.epochs !== undefined) throw new UsageError('--time and --epochs: --time chooses each model\'s epochs (up to 30); give one of them');
        if (o.redis === undefined && (o.sharedDir !== undefined || o.redisRunTtl !== undefined)) throw new UsageError('--shared-dir and --redis-run-ttl: only with --redis');
        if (o.dryRun && o.resume) throw new UsageError('--dry-run: plans a new finalization; --resume continues the one in final/plan.json');
        try {
          checkSelection(options);
          // The run read and checked here, with its dataset, space and teacher spec, and handed down: finalize/ reads none of the search's files.
          const run = runWithFrontFiles(runDir);
          const input = { ...run, ...runSetting(run.config) };
          if (o.dryRun) {
            const plan = await planFinalization(input, options, false);
            progress.stop();
            if (plan.time) for (const line of timePlanLines(plan.time)) out.say(line);
            out.say(`recipe ${recipeHash(plan.recipe)}: ${plan.time ? 'epochs per model as above' : `${plan.recipe.epochs} epochs`}${plan.subset ? ` on ${plan.subset} images` : ' on the whole training split'}, KD α ${plan.recipe.distillation.alpha}`);
            for (const m of plan.models) out.say(`${m.kind === 'front' ? `${m.name}: ${(m.selectedAs ?? []).join('; ')}` : `${m.name}: baseline`}${m.epochs === undefined ? '' : ` (${m.epochs} epochs)`}`);
            out.say(`${plan.models.length} models; nothing was trained or written (run without --dry-run to start)`);
            out.emit({ runDir, dryRun: true, recipeHash: recipeHash(plan.recipe), plan });
            return;
          }
          const result = await finalizeRun(input, options);
          progress.stop();
          const dominance = await writeFinalizeReport(result);
          await refreshReportHtml(runDir); // report.html now shows the final models
          console.log('| id | kind | test accuracy (95% interval) | p50 ms | params | MMACs | train |');
          console.log('|---|---|---|---:|---:|---:|---:|');
          for (const m of result.models) {
            const i = wilsonInterval(m.record.testAccuracy, m.record.testCount);
            const p50 = m.latency.state === 'errored' ? '—' : m.latency.stats.p50.toFixed(4);
            console.log(`| ${m.record.kind === 'front' ? m.record.id : m.record.name} | ${m.record.kind} | ${pct(m.record.testAccuracy)} (${pct(i.low)}–${pct(i.high)}) | ${p50} | ${m.record.params} | ${(m.record.macs / 1e6).toFixed(2)} | ${formatDuration(m.record.trainSeconds)} |`);
          }
          if (result.teacher) console.log(`teacher: ${pct(result.teacher.testAccuracy)} test accuracy (${result.teacher.description})${teacherTrainingNote(result.teacher)}`);
          for (const l of dominanceLines(dominance)) console.log(l);
          for (const f of result.failed) console.log(`${f.id}: training failed: ${f.error}`);
          console.log(`wrote ${runDir}/finalized.csv, finalized.svg, summary.md and final/<id>/ (model.onnx, tfjs model, genome.json)`);
        } finally {
          progress.stop();
        }
      }),
    );
}
