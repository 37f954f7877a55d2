/**
 * `npm run bench:quantize`: what INT8 QDQ buys on this machine as models
 * grow. MobileNetV2 at 224 px (×1.0) and 32 px (×0.35), written by ONNX's
 * Python helper (needs python3-onnx), and two nas-edge candidates, each
 * quantized here (calibration on seeded random inputs: speed and size only,
 * accuracy is measured by `nas compress` on real data), then fp32 and int8
 * measured interleaved, 1 thread.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { stringify } from 'csv-stringify/sync';
import { candidateModels, mobileNetV2Models } from '../benchmarks/benchmark-models.js';
import { compareModels } from '../benchmarks/compare.js';
import { packageRoot } from '../train/paths.js';
import { inputGeometry } from './quantize-file.js';
import { optimisedOpTypes, quantizeModel } from './quantize.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-quantize-'));
const models = [...mobileNetV2Models(dir), ...candidateModels(dir, 2, 'bench-quantize')];

const rows = [];
for (const m of models) {
  console.error(`${m.name}…`);
  const fp32 = readFileSync(m.path);
  const { channels, resolution } = inputGeometry(fp32, m.path);
  const noise = seedrandom(m.name);
  const batches = Array.from({ length: 4 }, () => ({
    data: Float32Array.from({ length: 8 * channels * resolution * resolution }, () => noise() * 2 - 1),
    dims: [8, channels, resolution, resolution],
  }));
  const { bytes } = await quantizeModel(fp32, m.path, batches);
  const int8Path = m.path.replace(/\.onnx$/, '.int8.onnx');
  writeFileSync(int8Path, bytes);
  const ops = await optimisedOpTypes(bytes);
  const [a, b] = await compareModels([{ name: 'fp32', source: m.path }, { name: 'int8', source: int8Path }], { time: 4000, iterations: 100 });
  if (a.state === 'errored' || b.state === 'errored') throw new Error(`${m.name}: ${a.state === 'errored' ? a.error.message : b.state === 'errored' ? b.error.message : ''}`);
  rows.push({
    model: m.name,
    fp32_p50_ms: a.stats.p50,
    int8_p50_ms: b.stats.p50,
    speedup: a.stats.p50 / b.stats.p50,
    size_ratio: bytes.length / fp32.length,
    qlinear_conv: ops.QLinearConv ?? 0,
    float_conv_left: ops.Conv ?? 0,
  });
}
console.log('| model | fp32 p50 ms | int8 p50 ms | int8 speed-up | int8 size / fp32 | QLinearConv | float Conv left |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const f = (v: number) => v.toFixed(v < 1 ? 4 : 3);
  console.log(`| ${r.model} | ${f(r.fp32_p50_ms)} | ${f(r.int8_p50_ms)} | ${r.speedup.toFixed(2)}× | ${(100 * r.size_ratio).toFixed(1)}% | ${r.qlinear_conv} | ${r.float_conv_left} |`);
}
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'quantize.csv'), stringify(rows, { header: true }));
