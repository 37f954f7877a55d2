/**
 * A latency lookup table, as Once-for-All builds one: every distinct part
 * (stem, block configuration at its input size, head) is measured once, alone,
 * and a network's latency is predicted as the sum of its parts minus the
 * per-call overhead each isolated measurement paid. Predicting costs nothing,
 * so a search can skip measuring candidates that are clearly over budget.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { buildOnnxPart, type NetworkPart } from '../space/build-onnx.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { OnnxGraphBuilder } from '../onnx/graph-builder.js';
import type { ConvSpec, NetworkPlan } from '../space/plan.js';
import { randomWeights } from '../space/random-weights.js';
import type { LatencyPool } from './pool.js';
import type { MeasureOptions } from './types.js';

/** Quick settings for table entries: parts are small and there are many. */
export const TABLE_MEASURE_OPTIONS: MeasureOptions = { iterations: 50, time: 150, warmupTime: 50, warmupIterations: 5, maxRepeats: 1 };

const tableSchema = z.strictObject({
  version: z.literal(1),
  /** p50 (ms) of a trivial model: the fixed cost of one run() call. */
  overheadMs: z.number().nullable(),
  entries: z.record(z.string(), z.number()),
});
export type LatencyTableFile = z.infer<typeof tableSchema>;

const convKey = (c: ConvSpec) => `${c.inChannels}>${c.outChannels}k${c.kernel}s${c.stride}${c.depthwise ? 'dw' : ''}${c.activation ?? ''}@${c.inSize}`;

/** The table key of a part: everything its latency depends on. */
export function partKey(plan: NetworkPlan, part: NetworkPart): string {
  if (part.kind === 'stem') return `stem:${convKey(plan.stem)}`;
  if (part.kind === 'head') return `head:${convKey(plan.head)}:fc${plan.classifier.outFeatures}`;
  const b = part.block;
  const convs = [b.expand, b.depthwise, b.project].filter((c): c is ConvSpec => c !== null).map(convKey).join(',');
  return `block:${convs}${b.squeezeExcite ? `:se${b.squeezeExcite.squeezed}` : ''}${b.residual ? ':res' : ''}`;
}

/** Every part of a plan in order. */
export function planParts(plan: NetworkPlan): NetworkPart[] {
  return [{ kind: 'stem' }, ...plan.blocks.map((block) => ({ kind: 'block' as const, block })), { kind: 'head' }];
}

function overheadModel(): Uint8Array {
  const g = new OnnxGraphBuilder();
  g.fresh('input');
  g.node({ op: 'Relu', inputs: ['input'], outputs: ['out'] });
  return g.toBytes({ graphName: 'overhead', input: { name: 'input', shape: ['batch', 1, 8, 8] }, output: { name: 'out', shape: ['batch', 1, 8, 8] } });
}

/** Predicts a model’s latency as the sum of its parts’ latencies, from a lookup table measured on this machine. */
export class LatencyPredictor {
  readonly table: LatencyTableFile;

  constructor(table?: LatencyTableFile) {
    this.table = table ?? { version: 1, overheadMs: null, entries: {} };
  }

  /** Reads a table file (zod-checked); a missing file gives an empty table. */
  static load(path: string): LatencyPredictor {
    if (!existsSync(path)) return new LatencyPredictor();
    const parsed = tableSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path}: not a latency table (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message})`);
    return new LatencyPredictor(parsed.data);
  }

  save(path: string): void {
    writeFileAtomic(path, JSON.stringify(this.table, null, 1) + '\n');
  }

  /** Parts of `plan` the table has not measured yet. */
  missing(plan: NetworkPlan): Array<{ key: string; part: NetworkPart }> {
    const seen = new Set<string>();
    return planParts(plan)
      .map((part) => ({ key: partKey(plan, part), part }))
      .filter(({ key }) => !(key in this.table.entries) && !seen.has(key) && (seen.add(key), true));
  }

  /** Predicted p50 (ms) of the whole network, or null while parts are unmeasured. */
  predict(plan: NetworkPlan): number | null {
    if (this.table.overheadMs === null) return null;
    let total = 0;
    const parts = planParts(plan);
    for (const part of parts) {
      const v = this.table.entries[partKey(plan, part)];
      if (v === undefined) return null;
      total += v;
    }
    return total - (parts.length - 1) * this.table.overheadMs;
  }

  /** Measures the overhead model and every missing part of `plans`, one at a time through `pool`. */
  async measureMissing(
    plans: NetworkPlan[],
    pool: LatencyPool,
    options: MeasureOptions = TABLE_MEASURE_OPTIONS,
    onProgress?: (done: number, total: number) => void,
  ): Promise<number> {
    if (this.table.overheadMs === null) {
      const m = await pool.measure(overheadModel(), 'overhead', options);
      if (m.state === 'errored') throw new Error(`latency table: ${m.error.message}`);
      this.table.overheadMs = m.stats.p50;
    }
    const todo = new Map<string, { plan: NetworkPlan; part: NetworkPart }>();
    for (const plan of plans) for (const { key, part } of this.missing(plan)) if (!todo.has(key)) todo.set(key, { plan, part });
    let done = 0;
    for (const [key, { plan, part }] of todo) {
      const bytes = buildOnnxPart(plan, part, randomWeights(plan));
      const m = await pool.measure(bytes, key, options);
      if (m.state === 'errored') throw new Error(`latency table entry ${key}: ${m.error.message}`);
      this.table.entries[key] = m.stats.p50;
      onProgress?.(++done, todo.size);
    }
    return todo.size;
  }
}
