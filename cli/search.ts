/** `nas search` and `nas report`: run (or resume) a search, regenerate its results. */
import type { Command } from 'commander';
import { loadSearchConfig, resolveSearchConfig, SearchConfigError, type SearchConfig } from '../search/config.js';
import { runSearch } from '../search/engine.js';
import { PRESETS } from '../search/presets.js';
import { reportFromJournal } from '../search/report.js';
import { action, positiveInt } from './errors.js';
import { progressBar } from './progress.js';

interface SearchFlags {
  config?: string;
  preset?: string;
  resume?: string;
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
}

/** The config a command line describes: a file or preset, then flags on top. */
export function configFromFlags(o: SearchFlags): SearchConfig {
  const overrides: Record<string, unknown> = {};
  const set = (path: string[], value: unknown) => {
    if (value === undefined) return;
    let target = overrides;
    for (const key of path.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[path[path.length - 1]] = value;
  };
  set(['name'], o.name);
  set(['seed'], o.seed);
  set(['data'], o.data);
  set(['workers'], o.workers);
  set(['evaluator'], o.evaluator);
  set(['constraints', 'maxLatencyMs'], o.maxLatency);
  const merge = (base: Record<string, unknown>) => {
    const out: Record<string, unknown> = { ...base, ...overrides };
    for (const key of ['searcher', 'budget', 'constraints']) out[key] = { ...(base[key] as object), ...(overrides[key] as object) };
    if (o.population !== undefined) (out.searcher as Record<string, unknown>).population = o.population;
    if (o.algorithm !== undefined) (out.searcher as Record<string, unknown>).algorithm = o.algorithm;
    const budgetFlags = { evaluations: o.evaluations, time: o.time, generations: o.generations };
    if (Object.values(budgetFlags).some((v) => v !== undefined)) {
      out.budget = Object.fromEntries(Object.entries(budgetFlags).filter(([, v]) => v !== undefined));
    }
    return out;
  };
  if (o.config) return loadSearchConfig(o.config, merge({}));
  const presetName = o.preset ?? 'quickstart';
  const preset = PRESETS[presetName as keyof typeof PRESETS];
  if (!preset) throw new SearchConfigError(`--preset: '${presetName}' is not one of ${Object.keys(PRESETS).join(', ')}`);
  return resolveSearchConfig(merge(preset as Record<string, unknown>), `preset '${presetName}'`);
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('run an evolutionary multi-objective search (accuracy vs latency); with no options, the quickstart on the bundled sample')
    .option('--config <file>', 'a JSON search config (see README)')
    .option('--preset <name>', 'quickstart (default) or overnight')
    .option('--resume <run dir>', 'continue a killed or stopped run from its journal')
    .option('--name <name>', 'run directory name under results/')
    .option('--seed <n>', 'random seed', positiveInt('--seed'))
    .option('--data <name|path>', 'fashion-mnist-sample, fashion-mnist, an IDX/CIFAR directory or a .npz')
    .option('--evaluations <n>', 'stop after this many trained candidates', positiveInt('--evaluations'))
    .option('--time <duration>', 'stop starting new training after this long, e.g. 8h')
    .option('--generations <n>', 'stop after this many generations', positiveInt('--generations'))
    .option('--population <n>', 'genomes per generation', positiveInt('--population'))
    .option('--algorithm <name>', 'nsga2, aging or random')
    .option('--workers <n>', 'training workers (one candidate each)', positiveInt('--workers'))
    .option('--max-latency <ms>', 'reject candidates slower than this (p50, untrained model)', Number)
    .option('--evaluator <name>', 'real (default) or proxy (analytic stand-ins, for trying the search itself)')
    .action(
      action(async (o: SearchFlags) => {
        const controller = new AbortController();
        let interrupts = 0;
        const onSigint = () => {
          interrupts++;
          if (interrupts > 1) process.exit(130);
          console.error('\nstopping after writing what is done (Ctrl-C again to quit at once)…');
          controller.abort();
        };
        process.on('SIGINT', onSigint);
        const bar = progressBar('search', '{bar} {value}/{total} evals | gen {generation} | front {front} | HV {hv} | ETA {eta_formatted}');
        let total = 0;
        try {
          const config = o.resume ? null : configFromFlags(o);
          const result = await runSearch(config, {
            runDir: o.resume,
            resume: !!o.resume,
            signal: controller.signal,
            log: (line) => console.error(line),
            onGeneration: (e) => {
              total = Math.max(total, e.evaluations + (e.etaSeconds && e.elapsedSeconds ? Math.round((e.etaSeconds / e.elapsedSeconds) * e.evaluations) : 0));
              bar.update(e.evaluations, Math.max(total, e.evaluations, 1), { generation: e.generation, front: e.frontSize, hv: e.hypervolume.toFixed(4) });
            },
          });
          bar.stop();
          console.log(`stopped: ${result.stopReason} after ${result.generations} generation(s), ${result.records.length} candidates`);
          console.log(`Pareto front: ${result.front.length} models, hypervolume ${result.hypervolume.toFixed(5)}`);
          for (const r of result.front) console.log(`  ${r.id}  ${(r.accuracy * 100).toFixed(2)}%  ${r.latency.p50.toFixed(4)} ms  ${r.params} params`);
          console.log(`results: ${result.runDir} (pareto.csv, candidates.csv, pareto.svg, summary.md, front/)`);
          if (result.stopReason === 'interrupted') console.log(`resume with: nas search --resume ${result.runDir}`);
        } finally {
          bar.stop();
          process.off('SIGINT', onSigint);
        }
      }),
    );

  program
    .command('report')
    .description('regenerate a run\'s CSVs, plot, summary and front/ from its journal')
    .argument('<run dir>', 'a results/<run> directory')
    .action(
      action(async (runDir: string) => {
        const { records } = await reportFromJournal(runDir);
        console.log(`${records.length} candidates; wrote candidates.csv, pareto.csv, generations.csv, pareto.svg, summary.md in ${runDir}`);
      }),
    );
}
