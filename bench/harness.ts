/**
 * `npm run bench:harness`: does the harness agree with a bare session.run()
 * loop, and does it repeat itself? For each model, in one run and in the
 * order bare, harness, bare, harness: a bare loop timing each run with
 * performance.now() (main thread, same session settings), then the harness
 * (worker pool, tinybench, noise gate). Reports harness p50 / bare p50 − 1
 * (overhead) and |harness₁ / harness₂ − 1| (repeatability).
 *
 * Models: three candidates this package writes, and MobileNetV2 at 224 px
 * (×1.0) and 32 px (×0.35) written by ONNX's own Python helper when
 * python3-onnx is installed.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { stringify } from 'csv-stringify/sync';
import { packageRoot } from '../locations.js';
import { candidateModels, mobileNetV2Models } from './benchmark-models.js';
import { DEFAULT_SESSION } from '../benchmarks/constants.js';
import { makeFeeds, resolveInputs } from '../benchmarks/inputs.js';
import { sessionOptions } from '../benchmarks/measure.js';
import { LatencyPool } from '../benchmarks/pool.js';
import { latencyStats } from '../benchmarks/stats.js';

const BARE_SECONDS = 2;

async function bareLoopP50(path: string): Promise<number> {
  const session = await ort.InferenceSession.create(path, sessionOptions(DEFAULT_SESSION));
  const feeds = makeFeeds(resolveInputs(session.inputMetadata, {}, path), 0, path);
  const warm = performance.now();
  while (performance.now() - warm < 200) await session.run(feeds);
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < BARE_SECONDS * 1000 || samples.length < 100) {
    const t = performance.now();
    await session.run(feeds);
    samples.push(performance.now() - t);
  }
  await session.release();
  return latencyStats(samples).p50;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-harness-'));
const models = [...candidateModels(dir, 3, 'bench-harness'), ...mobileNetV2Models(dir)];

const pool = new LatencyPool();
const rows = [];
for (const m of models) {
  console.error(`measuring ${m.name}…`);
  const bare: number[] = [];
  const harness: number[] = [];
  for (let round = 0; round < 2; round++) {
    bare.push(await bareLoopP50(m.path));
    const h = await pool.measure(m.path, m.name);
    if (h.state === 'errored') throw new Error(h.error.message);
    harness.push(h.stats.p50);
  }
  const bareP50 = (bare[0] + bare[1]) / 2;
  const harnessP50 = (harness[0] + harness[1]) / 2;
  rows.push({
    model: m.name,
    built_by: m.builtBy,
    bare_p50_ms: bareP50,
    harness_p50_ms: harnessP50,
    overhead_pct: 100 * (harnessP50 / bareP50 - 1),
    harness_repeat_diff_pct: 100 * Math.abs(harness[0] / harness[1] - 1),
    bare_repeat_diff_pct: 100 * Math.abs(bare[0] / bare[1] - 1),
  });
}
await pool.close();

console.log('| model | built by | bare p50 ms | harness p50 ms | overhead | harness repeat Δ | bare repeat Δ |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const f = (v: number) => v.toFixed(v < 1 ? 4 : 3);
  console.log(`| ${r.model} | ${r.built_by} | ${f(r.bare_p50_ms)} | ${f(r.harness_p50_ms)} | ${r.overhead_pct.toFixed(2)}% | ${r.harness_repeat_diff_pct.toFixed(2)}% | ${r.bare_repeat_diff_pct.toFixed(2)}% |`);
}
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'harness.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'harness.json'), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
console.error(`wrote ${join(out, 'harness.csv')} and .json`);
