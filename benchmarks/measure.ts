/**
 * The measurement core: one ONNX model, one onnxruntime-node session,
 * tinybench for the timed runs. Session creation, first inference and warm-up
 * are timed apart from the steady state; a noisy result is repeated and, if
 * still noisy, flagged rather than dropped. Never throws for a bad model: the
 * failure becomes an `errored` measurement so other models still run.
 *
 * Runs on whatever thread calls it; the pool (pool.ts) calls it in a worker,
 * because onnxruntime-node's run() blocks its thread.
 */
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { DEFAULT_MEASURE, DEFAULT_SESSION } from './constants.js';
import { captureEnvironment } from './environment.js';
import { BenchError } from './errors.js';
import { makeFeeds, resolveInputs, type InputSpec } from './inputs.js';
import { latencyStats } from './stats.js';
import type { LatencyStats, Measurement, MeasureOptions, ResolvedMeasureOptions, SessionSettings } from './types.js';

/** Fills defaults and checks ranges; errors name the option. */
export function resolveMeasureOptions(options: MeasureOptions = {}): ResolvedMeasureOptions {
  const resolved: ResolvedMeasureOptions = {
    ...DEFAULT_MEASURE,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    session: { ...DEFAULT_SESSION, ...Object.fromEntries(Object.entries(options.session ?? {}).filter(([, v]) => v !== undefined)) },
  } as ResolvedMeasureOptions;
  const positive: Array<keyof ResolvedMeasureOptions> = ['iterations', 'time', 'noiseThreshold'];
  for (const key of positive) {
    if (!((resolved[key] as number) > 0)) throw new RangeError(`${key} must be > 0, got ${String(resolved[key])}`);
  }
  for (const key of ['warmupIterations', 'warmupTime', 'maxRepeats'] as const) {
    if (!(resolved[key] >= 0)) throw new RangeError(`${key} must be ≥ 0, got ${resolved[key]}`);
  }
  if (!(resolved.session.intraOpThreads >= 1 && resolved.session.interOpThreads >= 1)) {
    throw new RangeError('intraOpThreads and interOpThreads must be ≥ 1');
  }
  return resolved;
}

/** onnxruntime-node session options for our settings. */
export function sessionOptions(s: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: s.intraOpThreads,
    interOpNumThreads: s.interOpThreads,
    executionMode: s.executionMode,
    graphOptimizationLevel: s.graphOptimizationLevel,
    executionProviders: [s.executionProvider],
    // Errors only: ORT's warnings about its own graph rewrites are noise here.
    logSeverityLevel: 3,
  };
}

/** A loaded model ready to time: its session, feeds and one-off costs. */
export interface PreparedModel {
  name: string;
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
  inputs: InputSpec[];
  sessionCreate: number;
  firstInference: number;
}

/** Creates the session and inputs, and times creation and the first run. */
export async function prepareModel(model: string | Uint8Array, name: string, o: ResolvedMeasureOptions): Promise<PreparedModel> {
  if (typeof model === 'string' && !existsSync(model)) throw new BenchError(`${name}: file not found`);
  const t0 = performance.now();
  let session: ort.InferenceSession;
  try {
    // Two calls because create() is overloaded on path and bytes.
    session = typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions(o.session))
      : await ort.InferenceSession.create(model, sessionOptions(o.session));
  } catch (error) {
    const first = (error as Error).message.split('\n')[0];
    throw new BenchError(`${name}: cannot be loaded by onnxruntime (${first})`);
  }
  const sessionCreate = performance.now() - t0;
  const inputs = resolveInputs(session.inputMetadata, o.shapes, name);
  const feeds = makeFeeds(inputs, o.seed, name);
  const t1 = performance.now();
  try {
    await session.run(feeds);
  } catch (error) {
    await session.release();
    throw new BenchError(`${name}: inference failed (${(error as Error).message.split('\n')[0]})`);
  }
  return { name, session, feeds, inputs, sessionCreate, firstInference: performance.now() - t1 };
}

/** Runs until both `iterations` and `time` (ms) are reached; returns the elapsed ms. */
export async function warmUp(m: PreparedModel, iterations: number, time: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < iterations || performance.now() - t0 < time; i++) await m.session.run(m.feeds);
  return performance.now() - t0;
}

/** One tinybench run of `m`, returning the retained per-run latencies (ms). */
export async function timedSamples(m: PreparedModel, iterations: number, time: number): Promise<number[]> {
  // subtractTimerOverhead: each sample otherwise carries one timer call (~1 µs),
  // 1–2% of a 70 µs model; the bare loop it is compared with pays it too, but once.
  const bench = new Bench({ iterations, time, warmup: false, retainSamples: true, throws: true, subtractTimerOverhead: true });
  bench.add(m.name, async () => {
    await m.session.run(m.feeds);
  });
  await bench.run();
  const result = bench.tasks[0].result;
  // The one place tinybench's TaskResult is converted.
  if (result.state !== 'completed' || !result.latency.samples) {
    throw new BenchError(`${m.name}: timing did not complete (${result.state})`);
  }
  return Array.from(result.latency.samples);
}

/** Measures one model; see the file comment. */
export async function measureModel(model: string | Uint8Array, name: string, options: MeasureOptions = {}): Promise<Measurement> {
  let prepared: PreparedModel | null = null;
  try {
    const o = resolveMeasureOptions(options);
    const environment = captureEnvironment();
    prepared = await prepareModel(model, name, o);
    const warmup = await warmUp(prepared, o.warmupIterations, o.warmupTime);
    let best: LatencyStats | null = null;
    let attempts = 0;
    while (attempts <= o.maxRepeats) {
      attempts++;
      const stats = latencyStats(await timedSamples(prepared, o.iterations, o.time));
      if (!best || stats.robustCv < best.robustCv) best = stats;
      if (best.robustCv <= o.noiseThreshold) break;
    }
    return {
      state: best!.robustCv <= o.noiseThreshold ? 'measured' : 'noisy',
      model: name,
      inputs: prepared.inputs,
      session: o.session,
      environment,
      startup: { sessionCreate: prepared.sessionCreate, firstInference: prepared.firstInference, warmup },
      stats: best!,
      attempts,
    };
  } catch (error) {
    return { state: 'errored', model: name, error: errorInfo(error) };
  } finally {
    await prepared?.session.release();
  }
}

/** A plain, serialisable form of an error. */
export function errorInfo(error: unknown): { code: string; message: string } {
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : error instanceof RangeError ? 'E_OPTIONS' : 'E_UNKNOWN',
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
}
