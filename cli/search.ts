/** `nas search` and `nas report`: run (or resume) a search, regenerate its results. */
import type { Command } from 'commander';
import { readJsonConfig, resolveSearchConfig, SearchConfigError, type SearchConfig } from '../search/config.js';
import { runSearch } from '../search/engine.js';
import { PRESETS } from '../search/presets.js';
import { rejectionText, reportFromJournal } from '../search/report.js';
import type { CandidateRecord } from '../search/types.js';
import { action, EXIT_CODES, numberFlag, positiveInt } from './errors.js';
import { formatClock, progressBar } from './progress.js';

interface SearchFlags {
  config?: string;
  preset?: string;
  resume?: string;
  dir?: string;
  name?: string;
  seed?: number;
  data?: string;
  evaluations?: number;
  time?: string;
  generations?: number;
  population?: number;
  algorithm?: string;
  workers?: number;
  maxLatency?: number;
  evaluator?: string;
  redis?: string;
  redisRunTtl?: string;
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
    evaluator: o.evaluator,
    redis: o.redis,
    redisRunTtl: o.redisRunTtl,
    searcher: { population: o.population, algorithm: o.algorithm },
    constraints: { maxLatencyMs: o.maxLatency },
    fidelity: o.rungs === undefined ? undefined : { rungs: o.rungs },
  };
  const budgetFlags = { evaluations: o.evaluations, time: o.time, generations: o.generations };
  // A budget on the command line replaces the file's or preset's budget as a whole.
  const budget = Object.values(budgetFlags).some((v) => v !== undefined) ? budgetFlags : undefined;
  const defined = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, defined(v)]))
      : value;
  const apply = (base: Record<string, unknown>) => {
    const merged = mergeDeep(base, defined(flags) as Record<string, unknown>);
    if (budget) merged.budget = defined(budget);
    return merged;
  };
  if (o.config) {
    const base = readJsonConfig(o.config);
    return resolveSearchConfig(apply(base), o.config);
  }
  const presetName = o.preset ?? 'quickstart';
  const preset = PRESETS[presetName as keyof typeof PRESETS];
  if (!preset) throw new SearchConfigError(`--preset: '${presetName}' is not one of ${Object.keys(PRESETS).join(', ')}`);
  return resolveSearchConfig(apply(preset as Record<string, unknown>), `preset '${presetName}'`);
}

/** One candidate's outcome in a few words, for log lines. */
export function describeRecord(r: CandidateRecord): string {
  switch (r.state) {
    case 'evaluated':
      return `evaluated${r.rung ? ` at rung ${r.rung} (${r.imagesTrained} images)` : ''}: accuracy ${(r.accuracy * 100).toFixed(2)}%, p50 ${r.latency.p50.toFixed(4)} ms, ${r.params} params`;
    case 'rejected':
      return `rejected: ${rejectionText(r)}`;
    case 'failed':
      return `failed at ${r.stage}: ${r.error.split('\n')[0]}`;
  }
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('run an evolutionary multi-objective search (accuracy vs latency); with no options, the quickstart on the bundled sample')
    .option('--config <file>', 'a JSON search config (see docs/configuration.md)')
    .option('--preset <name>', 'quickstart (default) or overnight')
    .option('--resume <run dir>', 'continue a killed or stopped run from its journal')
    .option('--name <name>', 'run directory name under results/')
    .option('--dir <path>', 'run directory (default results/<name>)')
    .option('--seed <n>', 'random seed', positiveInt('--seed'))
    .option('--data <name|path>', 'fashion-mnist-sample, fashion-mnist, an IDX/CIFAR directory or a .npz')
    .option('--evaluations <n>', 'stop after this many trained candidates', positiveInt('--evaluations'))
    .option('--time <duration>', 'stop starting new training after this long, e.g. 8h')
    .option('--generations <n>', 'stop after this many generations', positiveInt('--generations'))
    .option('--population <n>', 'genomes per generation', positiveInt('--population'))
    .option('--algorithm <name>', 'nsga2, aging or random')
    .option('--workers <n>', 'training workers (one candidate each)', positiveInt('--workers'))
    .option('--max-latency <ms>', 'reject candidates slower than this (p50, untrained model)', numberFlag('--max-latency', (n) => n > 0, 'a positive number of milliseconds'))
    .option('--rungs <n>', 'multi-fidelity: the best third of each rung trains on to 3× the images, up to this many rungs (1: off)', positiveInt('--rungs'))
    .option('--evaluator <name>', 'real (default) or proxy (analytic stand-ins, for trying the search itself)')
    .option('--redis <url>', "train on 'nas worker's through this Redis: redis://[user@]host[:port][/db] or rediss:// (password from NAS_REDIS_PASSWORD)")
    .option('--redis-run-ttl <duration>', "with --redis: how long workers keep training this search's jobs after it was last heard from, e.g. 60s (default)")
    .option('--shared-dir <dir>', 'with --redis: the directory the workers write trained candidates to (their --shared-dir)')
    .action(
      action(async (o: SearchFlags) => {
        const controller = new AbortController();
        let interrupts = 0;
        const onSigint = () => {
          interrupts++;
          if (interrupts > 1) process.exit(EXIT_CODES.E_INTERRUPTED);
          console.error('\nstopping after writing what is done (Ctrl-C again to quit at once)…');
          controller.abort();
        };
        process.on('SIGINT', onSigint);
        const bar = progressBar('search', { format: '{bar} {value}/{total} evals | gen {generation} | front {front} | HV {hv} | ETA {eta_formatted}' });
        // Off a terminal (nohup, CI) the bar is silent: one line per candidate and per generation instead.
        const lines = !process.stderr.isTTY;
        const started = performance.now();
        let eta: number | null = null;
        let seen = 0;
        const stamp = () => `elapsed ${formatClock((performance.now() - started) / 1000)} | ETA ${eta === null ? '?' : formatClock(eta)}`;
        let total = 0;
        try {
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
            log: (line) => bar.log(line),
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
          console.log(`stopped: ${result.stopReason} after ${result.generations} generation(s), ${result.records.length} candidates`);
          console.log(`Pareto front: ${result.front.length} models, hypervolume ${result.hypervolume.toFixed(5)}`);
          for (const r of result.front) console.log(`  ${r.id}  ${(r.accuracy * 100).toFixed(2)}%  ${r.latency.p50.toFixed(4)} ms  ${r.params} params`);
          console.log(`results: ${result.runDir} (report.html, pareto.csv, candidates.csv, pareto.svg, summary.md, front/)`);
          if (result.stopReason === 'interrupted') console.log(`resume with: nas search --resume ${result.runDir}`);
        } finally {
          bar.stop();
          process.off('SIGINT', onSigint);
        }
      }),
    );

  program
    .command('report')
    .description('regenerate a run\'s CSVs, plot, report.html, summary and front/ from its journal')
    .argument('<run dir>', 'a results/<run> directory')
    .action(
      action(async (runDir: string) => {
        const { records } = await reportFromJournal(runDir);
        console.log(`${records.length} candidates; wrote candidates.csv, pareto.csv, generations.csv, pareto.svg, report.html, summary.md in ${runDir}`);
      }),
    );
}
