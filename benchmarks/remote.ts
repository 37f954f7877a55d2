/**
 * Client of a bench agent (agent.ts): sends a model, returns the agent's
 * measurement, validated. Network failures and bad answers become `errored`
 * measurements, like any other failure, so a batch goes on.
 */
import { readFileSync } from 'node:fs';
import { measurementSchema } from './schema.js';
import { withRatiosToFirst, type ComparedMeasurement } from './compare.js';
import type { Measurement, MeasureOptions } from './types.js';

/** A bench agent to measure on. */
export interface RemoteTarget {
  /** Agent base URL, e.g. http://device.local:7070 */
  url: string;
  token: string;
}

/** Sends a model to a bench agent and returns its measurement (errors become an `errored` result). */
export async function measureRemote(
  target: RemoteTarget,
  source: string | Uint8Array,
  name: string,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const failed = (message: string): Measurement => ({ state: 'errored', model: name, error: { code: 'E_AGENT', message: `${name}: ${message}` } });
  let body: Uint8Array;
  try {
    body = typeof source === 'string' ? readFileSync(source) : source;
  } catch {
    return { state: 'errored', model: name, error: { code: 'E_BENCH', message: `${name}: file not found` } };
  }
  let response: Response;
  try {
    response = await fetch(new URL('/measure', target.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${target.token}`,
        'content-type': 'application/octet-stream',
        'x-nas-options': JSON.stringify(options),
        'x-nas-model-name': name,
      },
      body: new Blob([new Uint8Array(body)]),
    });
  } catch (error) {
    return failed(`agent ${target.url} unreachable (${(error as Error).message})`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return failed(`agent answered ${response.status} with a body that is not JSON`);
  }
  const parsed = measurementSchema.safeParse(json);
  if (parsed.success) return { ...parsed.data, model: name } as Measurement;
  const message = (json as { error?: unknown }).error;
  return failed(`agent answered ${response.status}: ${typeof message === 'string' ? message : 'unexpected JSON'}`);
}

/**
 * Several models measured on a bench agent, each in its own request, one
 * after another (the agent measures one model per request), with each p50
 * as a ratio to the first model's. Not interleaved like compare.ts: the
 * agent's machine is the user's device, usually quieter than a shared VM.
 */
export async function compareRemote(target: RemoteTarget, models: Array<{ name: string; source: string | Uint8Array }>, options: MeasureOptions = {}): Promise<ComparedMeasurement[]> {
  const rows: Measurement[] = [];
  for (const m of models) rows.push(await measureRemote(target, m.source, m.name, options));
  return withRatiosToFirst(rows);
}
