/** `nas bench` and `nas bench-agent`: latency of ONNX files, here or on a target device. */
import type { Command } from 'commander';
import { startAgent } from '../benchmarks/agent.js';
import { benchmarkModels } from '../benchmarks/bench.js';
import { DEFAULT_AGENT_MAX_BYTES } from '../benchmarks/constants.js';
import { parseShapes } from '../benchmarks/inputs.js';
import { formatTable, writeBenchReport } from '../benchmarks/report.js';
import type { MeasureOptions } from '../benchmarks/types.js';
import { action, EXIT_CODES, numberFlag, positiveInt, UsageError } from './errors.js';
import { outputOf, outputOptions, type OutputFlags } from './output.js';

interface BenchFlags extends OutputFlags {
  compare?: boolean;
  shape: string[];
  threads?: number;
  interThreads?: number;
  mode?: 'sequential' | 'parallel';
  optLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  iterations?: number;
  time?: number;
  warmup?: number;
  noise?: number;
  repeats?: number;
  timeout?: number;
  out: string;
  agent?: string;
  token?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** A bad --shape is a bad flag value (exit 2), not a benchmark failure. */
function shapesFromFlags(values: string[]): Record<string, number[]> {
  try {
    return parseShapes(values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** MeasureOptions from flags; exported for flag-parsing tests. */
function measureOptionsFromFlags(o: BenchFlags): MeasureOptions {
  if (o.mode && o.mode !== 'sequential' && o.mode !== 'parallel') throw new UsageError(`--mode must be sequential or parallel, got '${o.mode}'`);
  if (o.optLevel && !['disabled', 'basic', 'extended', 'all'].includes(o.optLevel)) {
    throw new UsageError(`--opt-level must be disabled, basic, extended or all, got '${o.optLevel}'`);
  }
  return {
    shapes: shapesFromFlags(o.shape),
    iterations: o.iterations,
    time: o.time,
    warmupTime: o.warmup,
    noiseThreshold: o.noise,
    maxRepeats: o.repeats,
    session: { intraOpThreads: o.threads, interOpThreads: o.interThreads, executionMode: o.mode, graphOptimizationLevel: o.optLevel },
  };
}

/** The agent's token: `--token` wins over NAS_AGENT_TOKEN; neither is a usage error. */
export function agentToken(flag: string | undefined, env: string | undefined): string {
  const token = flag ?? (env === '' ? undefined : env);
  if (token === undefined || token === '') throw new UsageError('bench-agent needs a token: set NAS_AGENT_TOKEN (kept out of ps and shell history) or pass --token');
  return token;
}

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('measure the latency of ONNX models with onnxruntime-node (p50/p90/p99, spread, environment)')
    .argument('<models...>', 'ONNX files')
    .option('--compare', 'interleave the models (ABAB) and report each p50 as a ratio to the first')
    .option('--shape <[name:]dims>', 'input shape for dynamic dimensions, e.g. input:1x3x224x224 (repeatable)', collect, [])
    .option('--threads <n>', 'intra-op threads (default 1)', positiveInt('--threads'))
    .option('--inter-threads <n>', 'inter-op threads (default 1)', positiveInt('--inter-threads'))
    .option('--mode <mode>', 'execution mode: sequential or parallel (default sequential)')
    .option('--opt-level <level>', 'graph optimisation: disabled, basic, extended, all (default all)')
    .option('--iterations <n>', 'at least this many timed runs (default 100)', positiveInt('--iterations'))
    .option('--time <ms>', 'and at least this long (default 1000)', numberFlag('--time', (n) => n > 0, 'a positive number of ms'))
    .option('--warmup <ms>', 'warm-up time (default 200)', numberFlag('--warmup', (n) => n >= 0, 'a number of ms ≥ 0'))
    .option('--noise <cv>', 'robust CV above which a measurement is repeated, then flagged noisy (default 0.05)', numberFlag('--noise', (n) => n > 0, 'a positive number'))
    .option('--repeats <n>', 'repeats of a noisy measurement (default 2)', numberFlag('--repeats', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0'))
    .option('--timeout <ms>', 'fail a measurement that takes longer (default 120000)', positiveInt('--timeout'))
    .option('--out <dir>', 'where bench.csv and bench.json go', 'results/bench')
    .option('--agent <url>', 'measure on a bench agent (nas bench-agent) instead of here')
    .option('--token <token>', 'the agent\'s token (or NAS_AGENT_TOKEN)');
  outputOptions(bench).action(
      action(async (models: string[], o: BenchFlags) => {
        const out = outputOf(o);
        const measure = measureOptionsFromFlags(o);
        const token = o.token ?? process.env.NAS_AGENT_TOKEN;
        if (o.agent && !token) throw new UsageError('--agent needs --token or NAS_AGENT_TOKEN');
        const rows = await benchmarkModels(models, {
          measure,
          compare: o.compare,
          timeout: o.timeout,
          agent: o.agent ? { url: o.agent, token: token! } : undefined,
          onResult: (m) => out.note(`${m.model}: ${m.state}`),
        });
        out.say(formatTable(rows));
        const files = writeBenchReport(rows, o.out);
        const first = rows.find((r) => r.state === 'measured' || r.state === 'noisy');
        if (first && 'environment' in first) {
          const e = first.environment;
          out.say(`\nonnxruntime ${e.onnxruntime}, node ${e.node}, tinybench ${e.tinybench}, ${e.cpuModel} ×${e.cpuCount}, load ${e.loadAverage.toFixed(2)}, ${first.session.intraOpThreads} intra-op thread(s)`);
        }
        out.say(`wrote ${files.csv} and ${files.json}`);
        out.emit({ results: rows, files });
        if (rows.some((r) => r.state === 'errored')) process.exitCode = EXIT_CODES.E_BENCH;
      }),
    );

  program
    .command('bench-agent')
    .description('serve latency measurements over HTTP on the target device')
    .option('--token <token>', 'clients must send this as a bearer token (or set NAS_AGENT_TOKEN, which stays out of ps and shell history; the flag wins)')
    .option('--port <port>', 'port to listen on', numberFlag('--port', (n) => Number.isInteger(n) && n >= 0 && n < 65536, 'a port number'), 7070)
    .option('--host <address>', 'interface to listen on (loopback unless you say otherwise)', '127.0.0.1')
    .option('--max-mb <n>', 'largest model accepted, in MiB', positiveInt('--max-mb'), DEFAULT_AGENT_MAX_BYTES / 2 ** 20)
    .action(
      action(async (o: { token?: string; port: number; host: string; maxMb: number }) => {
        const token = agentToken(o.token, process.env.NAS_AGENT_TOKEN);
        const agent = await startAgent({ port: o.port, host: o.host, token, maxBytes: o.maxMb * 2 ** 20 });
        console.log(`bench agent listening on ${agent.url} (POST /measure, GET /health); Ctrl-C stops it`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        await agent.close();
      }),
    );
}
