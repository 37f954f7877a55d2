/**
 * Interleaved measurement of several models (A B C A B C …) in one session
 * each, so drift in the machine's load hits every model alike; each model's
 * p50 is then given as a ratio to the first model's, the figure a user can
 * trust on a shared, noisy machine.
 */
import { captureEnvironment } from './environment.js';
import { errorInfo, prepareModel, resolveMeasureOptions, timedSamples, warmUp, type PreparedModel } from './measure.js';
import { latencyStats } from './stats.js';
import type { Measurement, MeasureOptions } from './types.js';

/** A compared measurement: the usual result plus its p50 over the reference's. */
export type ComparedMeasurement = Measurement & { ratioToFirst: number | null };

/** Default number of ABAB rounds. */
export const DEFAULT_COMPARE_ROUNDS = 10;

/** Measures models interleaved (ABAB) in this process and gives each p50 as a ratio to the first model’s. */
export async function compareModels(
  models: Array<{ name: string; source: string | Uint8Array }>,
  options: MeasureOptions = {},
  rounds = DEFAULT_COMPARE_ROUNDS,
): Promise<ComparedMeasurement[]> {
  const o = resolveMeasureOptions(options);
  const environment = captureEnvironment();
  const prepared: Array<PreparedModel | Measurement> = [];
  for (const m of models) {
    try {
      prepared.push(await prepareModel(m.source, m.name, o));
    } catch (error) {
      prepared.push({ state: 'errored', model: m.name, error: errorInfo(error) });
    }
  }
  const isPrepared = (p: PreparedModel | Measurement): p is PreparedModel => 'session' in p;
  const live = prepared.filter(isPrepared);
  const warmups = new Map<PreparedModel, number>();
  for (const m of live) warmups.set(m, await warmUp(m, o.warmupIterations, o.warmupTime));
  const samples = new Map<PreparedModel, number[]>(live.map((m) => [m, []]));
  const perRound = { iterations: Math.max(1, Math.ceil(o.iterations / rounds)), time: o.time / rounds };
  for (let r = 0; r < rounds; r++) {
    for (const m of live) samples.get(m)!.push(...(await timedSamples(m, perRound.iterations, perRound.time)));
  }
  const results: Measurement[] = prepared.map((p) => {
    if (!isPrepared(p)) return p;
    const stats = latencyStats(samples.get(p)!);
    return {
      state: stats.robustCv <= o.noiseThreshold ? 'measured' : 'noisy',
      model: p.name,
      inputs: p.inputs,
      session: o.session,
      environment,
      startup: { sessionCreate: p.sessionCreate, firstInference: p.firstInference, warmup: warmups.get(p)! },
      stats,
      attempts: 1,
    };
  });
  for (const m of live) await m.session.release();
  return withRatiosToFirst(results);
}

/** Each row's p50 over the first measured row's p50 (null for errored rows). */
export function withRatiosToFirst(rows: Measurement[]): ComparedMeasurement[] {
  const p50 = (r: Measurement) => (r.state === 'errored' ? null : r.stats.p50);
  const reference = rows.map(p50).find((v) => v !== null) ?? null;
  return rows.map((r) => {
    const own = p50(r);
    return { ...r, ratioToFirst: own === null || reference === null ? null : own / reference };
  });
}
