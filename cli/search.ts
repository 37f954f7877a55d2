/** `nas search` and `nas report`: run (or resume) a search, regenerate its results. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { objectivesOf, readJsonConfig, resolveSearchConfig, SearchConfigError, searchConfigSchema, stoppingRuleProblem, type SearchBudget, type SearchConfig } from '../search/config.js';
import { runSearch } from '../search/engine.js';
import { frontOf, hypervolumeOf } from '../search/objectives.js';
import { PRESETS } from '../search/presets.js';
import { rejectionText, reportFromJournal } from '../search/report.js';
import type { CandidateRecord, EvaluatedRecord } from '../search/types.js';
import { summariseGenome } from '../space/genome.js';
import { LATENCY_PRECISIONS } from '../benchmarks/deployed-latency.js';
import { action, choiceFlag, durationFlag, EXIT_CODES, nonNegativeInt, numberFlag, positiveInt, UsageError } from './errors.js';
import { outputOf, outputOptions, type OutputFlags } from './output.js';
import { formatClock, progressBar, type ProgressBar } from './progress.js';
import { budgetText, searchPlanLines } from './search-plan.js';

export interface SearchFlags extends OutputFlags {
  config?: string;
  preset?: string;
  resume?: string;
  dir?: string;
  name?: string;
  seed?: number;
  data?: string;
  evaluations?: number;
  /** Seconds (the flag takes a duration). */
  time?: number;
  generations?: number;
  population?: number;
  algorithm?: string;
  workers?: number;
  maxLatency?: number;
  precision?: string;
  latencyThreads?: number;
  latencyPredictor?: string;
  latencySource?: string;
  evaluator?: string;
  supernet?: string;
  rankBy?: string;
  bnImages?: number;
  validationImages?: number;
  redis?: string;
  /** Seconds (the flag takes a duration). */
  redisRunTtl?: number;
  sharedDir?: string;
  rungs?: number;
}

/** Deep-merges plain objects; `over` wins. */
function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prior && typeof prior === 'object' && !Array.isArray(prior)
        ? mergeDeep(prior as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/** The config a command line describes: a file or preset, with the flags on top. */
export function configFromFlags(o: SearchFlags): SearchConfig {
  const flags: Record<string, unknown> = {
    name: o.name,
    seed: o.seed,
    data: o.data,
    workers: o.workers,
    // A supernet key alone asks for the supernet evaluator.
    evaluator: o.evaluator ?? (o.supernet !== undefined ? 'supernet' : undefined),
    supernet: o.supernet === 'train' ? { train: {} } : o.supernet,
    rankBy: o.rankBy,
    supernetScoring: o.bnImages === undefined && o.validationImages === undefined ? undefined : { bnImages: o.bnImages, validationImages: o.validationImages },
    redis: o.redis,
    redisRunTtl: o.redisRunTtl,
    searcher: { population: o.population, algorithm: o.algorithm },
    constraints: { maxLatencyMs: o.maxLatency },
    latency: { precision: o.precision, threads: o.latencyThreads, predictor: o.latencyPredictor, source: o.latencySource },
    fidelity: o.rungs === undefined ? undefined : { rungs: o.rungs },
  };
  // A budget on the command line replaces the file's or preset's budget as a whole.
  const budget = budgetFromFlags(o);
  const defined = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, defined(v)]))
      : value;
  const apply = (base: Record<string, unknown>) => {
    const merged = mergeDeep(base, defined(flags) as Record<string, unknown>);
    if (budget) merged.budget = budget;
    return merged;
  };
  if (o.config) {
    const base = readJsonConfig(o.config);
    return withStoppingRule(resolveSearchConfig(apply(base), o.config), o.config);
  }
  const presetName = o.preset ?? 'quickstart';
  const preset = PRESETS[presetName as keyof typeof PRESETS];
  if (!preset) throw new UsageError(`--preset: '${presetName}' is not one of ${Object.keys(PRESETS).join(', ')}`);
  const merged = apply(preset as Record<string, unknown>);
  // A preset's rungs train candidates further; on a supernet search (asked for by flag) there is nothing to train.
  if (merged.evaluator === 'supernet') delete merged.fidelity;
  return withStoppingRule(resolveSearchConfig(merged, `preset '${presetName}'`), `preset '${presetName}'`);
}

/** A search with no stopping rule would run forever: refused, naming where the budget came from. */
function withStoppingRule(config: SearchConfig, source: string): SearchConfig {
  const problem = stoppingRuleProblem(config.budget);
  if (problem) throw new SearchConfigError(`${source}: ${problem}`);
  return config;
}

/** The flags a resume does not use (the run's config.json decides), as the user typed them. */
const IGNORED_ON_RESUME: ReadonlyArray<readonly [keyof SearchFlags, string]> = [
  ['config', '--config'], ['preset', '--preset'], ['dir', '--dir'], ['name', '--name'], ['seed', '--seed'], ['data', '--data'],
  ['population', '--population'], ['algorithm', '--algorithm'], ['workers', '--workers'], ['maxLatency', '--max-latency'],
  ['precision', '--precision'], ['latencyThreads', '--latency-threads'],
  ['latencyPredictor', '--latency-predictor'], ['latencySource', '--latency-source'], ['evaluator', '--evaluator'], ['supernet', '--supernet'], ['rankBy', '--rank-by'], ['bnImages', '--bn-images'], ['validationImages', '--validation-images'], ['redisRunTtl', '--redis-run-ttl'], ['rungs', '--rungs'],
];

/** Which of the given flags `--resume` ignores; exported for tests. */
export function ignoredOnResume(o: SearchFlags): string[] {
  return IGNORED_ON_RESUME.filter(([key]) => o[key] !== undefined).map(([, flag]) => flag);
}

/** The budget the flags give (`--evaluations`, `--time`, `--generations`), or undefined when they give none. */
export function budgetFromFlags(o: SearchFlags): SearchBudget | undefined {
  const budget = Object.fromEntries(Object.entries({ evaluations: o.evaluations, time: o.time, generations: o.generations }).filter(([, v]) => v !== undefined));
  return Object.keys(budget).length ? (budget as SearchBudget) : undefined;
}

/** A front member for JSON output. */
function frontJson(r: EvaluatedRecord) {
  return { id: r.id, accuracy: r.accuracy, ...(r.logLikelihood !== undefined ? { logLikelihood: r.logLikelihood } : {}), latencyP50: r.latency.p50, latencyP90: r.latency.p90, latencySource: r.latency.source, latencyPrecision: r.latency.precision ?? 'fp32', ...(r.latency.int8Variant ? { int8Variant: r.latency.int8Variant } : {}), params: r.params, macs: r.macs, generation: r.generation, genome: summariseGenome(r.genome) };
}

/** Files a run's results are in, those that are there. */
const RESULT_FILES = ['report.html', 'pareto.csv', 'candidates.csv', 'generations.csv', 'pareto.svg', 'summary.md', 'front/'];
const resultFiles = (runDir: string) => RESULT_FILES.filter((f) => existsSync(join(runDir, f)));

const silentBar: ProgressBar = { update() {}, log() {}, stop() {} };

/** One candidate's outcome in a few words, for log lines. */
export function describeRecord(r: CandidateRecord): string {
  switch (r.state) {
    case 'evaluated':
      return `evaluated${r.rung ? ` at rung ${r.rung} (${r.imagesTrained} images)` : ''}: accuracy ${(r.accuracy * 100).toFixed(2)}%${r.logLikelihood !== undefined ? ` (log-likelihood ${r.logLikelihood.toFixed(4)})` : ''}, p50 ${r.latency.p50.toFixed(4)} ms${r.latency.precision === 'int8' ? ` (INT8, ${r.latency.int8Variant})` : ''}, ${r.params} params`;
    case 'rejected':
      return `rejected: ${rejectionText(r)}`;
    case 'failed':
      return `failed at ${r.stage}: ${r.error.split('\n')[0]}`;
  }
}

export function registerSearch(program: Command): void {
  const search = program
    .command('search')
    .description('run an evolutionary multi-objective search (accuracy vs latency); with no options, the quickstart on the bundled sample')
    .option('--config <file>', 'a JSON search config (see docs/configuration.md)')
    .option('--preset <name>', 'quickstart (default) or overnight', choiceFlag('--preset', Object.keys(PRESETS)))
    .option('--resume <run dir>', 'continue a killed or stopped run from its journal; with --generations, --evaluations or --time, under that new budget')
    .option('--name <name>', 'run directory name under results/')
    .option('--dir <path>', 'run directory (default results/<name>)')
    .option('--seed <n>', 'random seed (default 0)', nonNegativeInt('--seed'))
    .option('--data <name|path>', 'fashion-mnist-sample, fashion-mnist, an IDX/CIFAR directory or a .npz')
    .option('--evaluations <n>', 'stop after this many trained candidates', positiveInt('--evaluations'))
    .option('--time <duration>', 'stop starting new training after this long, e.g. 8h', durationFlag('--time'))
    .option('--generations <n>', 'stop after this many generations', positiveInt('--generations'))
    .option('--population <n>', 'genomes per generation', positiveInt('--population'))
    .option('--algorithm <name>', 'nsga2, aging or random', choiceFlag('--algorithm', ['nsga2', 'aging', 'random']))
    .option('--workers <n>', 'training workers (one candidate each)', positiveInt('--workers'))
    .option('--max-latency <ms>', 'reject candidates slower than this (p50, untrained model)', numberFlag('--max-latency', (n) => n > 0, 'a positive number of milliseconds'))
    .option('--precision <p>', "the precision latency is measured in: fp32 (default), int8 (the INT8 model compress would ship) or best (whichever of the two compress would ship)", choiceFlag('--precision', LATENCY_PRECISIONS))
    .option('--latency-threads <n>', "the deployment's intra-op threads; candidates are measured with this many (default 1)", positiveInt('--latency-threads'))
    .option('--latency-predictor <file>', "a predictor file from 'nas predictor build' for this target: candidates its interval decides against --max-latency are not measured")
    .option('--latency-source <s>', 'measured (default) or predicted: every latency is --latency-predictor\'s p50, nothing measured', choiceFlag('--latency-source', ['measured', 'predicted']))
    .option('--rungs <n>', 'multi-fidelity: the best third of each rung trains on to 3× the images, up to this many rungs (1: off)', positiveInt('--rungs'))
    .option('--supernet <key|train>', "score candidates with this trained supernet's inherited weights ('nas supernet' lists the keys), or `train`: the space's supernet at the default recipe, trained first unless cached; implies --evaluator supernet")
    .option('--rank-by <score>', "what ranks candidates: accuracy, or log-likelihood (a new supernet search's default, the less noisy score; not with the proxy evaluator)", choiceFlag('--rank-by', searchConfigSchema.shape.rankBy.unwrap().options))
    .option('--bn-images <n>', 'supernet evaluator: training images each subnet\'s batch-norm statistics come from (default 512)', positiveInt('--bn-images'))
    .option('--validation-images <n>', "supernet evaluator: score each subnet on the validation split's first n images (default: all of them)", positiveInt('--validation-images'))
    .option('--evaluator <name>', 'real (default), supernet (inherited weights, with --supernet) or proxy (analytic stand-ins, for trying the search itself)', choiceFlag('--evaluator', searchConfigSchema.shape.evaluator.unwrap().options))
    .option('--redis <url>', "train on 'nas worker's through this Redis: redis://[user@]host[:port][/db] or rediss:// (password from NAS_REDIS_PASSWORD)")
    .option('--redis-run-ttl <duration>', "with --redis: how long workers keep training this search's jobs after it was last heard from, e.g. 60s (default)", durationFlag('--redis-run-ttl'))
    .option('--shared-dir <dir>', 'with --redis: the directory the workers write trained candidates to (their --shared-dir)');
  outputOptions(search).action(
    action(async (o: SearchFlags) => {
      const out = outputOf(o);
      const controller = new AbortController();
      let signals = 0;
      // SIGTERM (systemd, docker stop) is handled as Ctrl-C: what is done is written, and the run can be resumed.
      const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
        signals++;
        if (signals > 1) process.exit(signal === 'SIGTERM' ? EXIT_CODES.E_TERMINATED : EXIT_CODES.E_INTERRUPTED);
        console.error(`\n${signal}: stopping after writing what is done (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again to quit at once)…`);
        controller.abort();
      };
      const onSigint = () => onSignal('SIGINT');
      const onSigterm = () => onSignal('SIGTERM');
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigterm);
      // Off a terminal (nohup, CI) the bar is silent: one line per candidate and per generation instead.
      const lines = !process.stderr.isTTY && !out.quiet;
      const bar = out.quiet ? silentBar : progressBar('search', { format: '{bar} {value}/{total} evals | gen {generation} | front {front} | HV {hv} | ETA {eta_formatted}' });
      // On a terminal, the teacher's own bar from its first batch (it may train for an hour or two before the first candidate).
      // The teacher's and a search-trained supernet's bars, one at a time, each shown until its stage ends.
      let stageBar: ProgressBar | null = null;
      const finished = new Set<string>();
      const stageProgress = (label: string) =>
        process.stderr.isTTY && !out.quiet
          ? (done: number, totalImages: number) => {
              if (finished.has(label)) return;
              stageBar ??= progressBar(label, { format: '{bar} {percentage}% | {value}/{total} images | ETA {eta_formatted}' });
              stageBar.update(done, totalImages);
              if (done >= totalImages) {
                stageBar.stop();
                stageBar = null;
                finished.add(label);
              }
            }
          : undefined;
      const started = performance.now();
      let eta: number | null = null;
      let seen = 0;
      const stamp = () => `elapsed ${formatClock((performance.now() - started) / 1000)} | ETA ${eta === null ? '?' : formatClock(eta)}`;
      let total = 0;
      let runBudget: SearchBudget | null = null;
      try {
        const ignored = o.resume ? ignoredOnResume(o) : [];
        if (ignored.length) console.error(`--resume continues ${o.resume} as its config.json says: ignoring ${ignored.join(', ')} (a resume takes only --generations, --evaluations, --time, --redis and --shared-dir)`);
        const config = o.resume ? null : configFromFlags(o);
        const result = await runSearch(config, {
          runDir: o.resume ?? o.dir,
          resume: !!o.resume,
          // A preset's default name (e.g. quickstart) may be run again: number the next run.
          uniqueRunDir: !o.resume && !o.dir && !o.name && !o.config,
          signal: controller.signal,
          backend: program.opts().backend,
          // On resume the saved config's Redis is used unless another is given.
          redis: o.resume ? o.redis : undefined,
          sharedDir: o.sharedDir,
          budget: o.resume ? budgetFromFlags(o) : undefined,
          onStart: (e) => {
            runBudget = e.budget;
            for (const line of searchPlanLines(e.config, e.runDir, e.budget, e.resumed)) out.note(line);
          },
          onTeacherProgress: stageProgress('teacher'),
          onSupernetProgress: stageProgress('supernet'),
          log: (line) => (out.quiet ? undefined : (stageBar ?? bar).log(line)),
          onCandidate: (r) => {
            seen++;
            if (lines) console.error(`candidate ${seen} gen ${r.generation} ${r.id} ${describeRecord(r)} | ${stamp()}`);
          },
          onGeneration: (e) => {
            eta = e.etaSeconds;
            if (lines) {
              console.error(`generation ${e.generation} done: ${e.evaluations} trained of ${e.candidates} candidates, front ${e.frontSize}, HV ${e.hypervolume.toFixed(4)}${e.rungCounts ? `, per rung ${e.rungCounts.join('/')}` : ''} | ${stamp()}`);
              return;
            }
            total = Math.max(total, e.evaluations + (e.etaSeconds && e.elapsedSeconds ? Math.round((e.etaSeconds / e.elapsedSeconds) * e.evaluations) : 0));
            bar.update(e.evaluations, Math.max(total, e.evaluations, 1), { generation: e.generation, front: e.frontSize, hv: e.hypervolume.toFixed(4) });
          },
        });
        bar.stop();
        const files = resultFiles(result.runDir);
        const resume = result.stopReason === 'interrupted' ? `nas search --resume ${result.runDir}` : null;
        out.say(`stopped: ${result.stopReason} after ${result.generations} generation(s), ${result.records.length} candidates`);
        out.say(`Pareto front${result.config.rankBy === 'log-likelihood' ? ' of log-likelihood and latency' : ''}: ${result.front.length} models, hypervolume ${result.hypervolume.toFixed(5)}${result.config.rankBy === 'log-likelihood' ? ' (in accuracy)' : ''}`);
        for (const r of result.front) out.say(`  ${r.id}  ${(r.accuracy * 100).toFixed(2)}%${result.config.rankBy === 'log-likelihood' ? `  log-likelihood ${r.logLikelihood?.toFixed(4)}` : ''}  ${r.latency.p50.toFixed(4)} ms${r.latency.source === 'formula' ? ' (formula)' : ''}  ${r.params} params`);
        out.say(`results: ${result.runDir} (${files.join(', ')})${files.includes('front/') ? '' : '; no model files (front/ not written)'}`);
        if (resume) out.say(`resume with: ${resume}`);
        if (resume && out.json) console.error(`resume with: ${resume}`);
        out.emit({
          runDir: result.runDir,
          stopReason: result.stopReason,
          generations: result.generations,
          candidates: result.records.length,
          evaluated: result.records.filter((r) => r.state === 'evaluated').length,
          imagesTrained: result.imagesTrained,
          hypervolume: result.hypervolume,
          budget: budgetText(runBudget ?? result.config.budget),
          front: result.front.map(frontJson),
          files,
          resume,
        });
      } finally {
        bar.stop();
        (stageBar as ProgressBar | null)?.stop();
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
      }
    }),
  );

  const report = program
    .command('report')
    .description('regenerate a run\'s CSVs, plot, report.html, summary and front/ from its journal')
    .argument('<run dir>', 'a results/<run> directory');
  outputOptions(report).action(
    action(async (runDir: string, o: OutputFlags) => {
      const out = outputOf(o);
      const { records, config } = await reportFromJournal(runDir);
      const front = frontOf(records, objectivesOf(config));
      const files = resultFiles(runDir);
      out.say(`${records.length} candidates; wrote ${files.join(', ')} in ${runDir}`);
      out.emit({ runDir, candidates: records.length, evaluated: records.filter((r) => r.state === 'evaluated').length, hypervolume: hypervolumeOf(records, config), front: front.map(frontJson), files });
    }),
  );
}
