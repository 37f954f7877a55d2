/**
 * Piscina worker entry: plain messages in, plain objects out. Kept tiny;
 * the work is in measure.ts and compare.ts.
 */
import { compareModels, type ComparedMeasurement } from './compare.js';
import { measureModel } from './measure.js';
import type { Measurement, MeasureOptions } from './types.js';

export type WorkerTask =
  | { kind: 'measure'; name: string; source: string | Uint8Array; options: MeasureOptions }
  | { kind: 'compare'; models: Array<{ name: string; source: string | Uint8Array }>; options: MeasureOptions; rounds?: number };

export default async function run(task: WorkerTask): Promise<Measurement | ComparedMeasurement[]> {
  if (task.kind === 'measure') return measureModel(task.source, task.name, task.options);
  return compareModels(task.models, task.options, task.rounds);
}
