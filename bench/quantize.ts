/**
 * `npm run bench:quantize`: what INT8 buys on this machine, per model, after
 * the variant choice `nas quantize` makes. Models: PyTorch-exported
 * MobileNetV2 ×1.0 at 224 px (written at run time by
 * test/fixtures/make-torch-models.py when python3-torch is installed; said
 * so when not), the committed PyTorch fixtures (MobileNetV2 ×0.35 at 32 px,
 * a tiny ResNet), MobileNetV2 written by ONNX's Python helper, and two
 * nas-edge candidates. All weights are random: speed and size only
 * (accuracy is measured by `nas quantize`/`nas compress` on real data).
 * Calibration: the default dataset through the input adapter. Every
 * variant is measured against fp32 in one interleaved run, 1 thread.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { candidateModels, mobileNetV2Models } from './benchmark-models.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import type { InputScale } from '../train/input-adapter.js';
import { packageRoot } from '../locations.js';
import { adaptedBatches, modelInput } from '../compress/calibration-data.js';
import { chooseInt8 } from '../benchmarks/int8-variants.js';
import { optimisedOpTypes } from '../onnx/quantize.js';

const LATENCY_TIME = 3000;
const dir = mkdtempSync(join(tmpdir(), 'bench-quantize-'));
const fixtures = join(packageRoot(), 'test', 'fixtures');

interface QuantizeBenchModel {
  name: string;
  path: string;
  scale: InputScale;
}

/** PyTorch-exported models: MobileNetV2-224 generated now (if torch is here), and the committed fixtures. */
function torchModels(): QuantizeBenchModel[] {
  const models: QuantizeBenchModel[] = [];
  try {
    execFileSync('/usr/bin/python3', [join(fixtures, 'make-torch-models.py'), dir, '--large'], { stdio: 'pipe' });
    models.push({ name: 'MobileNetV2 ×1.0 @224 (PyTorch export)', path: join(dir, 'mobilenet_v2-224.onnx'), scale: 'imagenet' });
  } catch {
    process.stderr.write('skipped MobileNetV2 ×1.0 @224 (PyTorch export): python3-torch/python3-torchvision are not installed\n');
  }
  for (const [file, label] of [['mobilenet_v2-0.35-32-c100-opset13.onnx', 'MobileNetV2 ×0.35 @32 (PyTorch export)'], ['tiny-resnet-28-c10-opset13.onnx', 'tiny ResNet @28 (PyTorch export)']] as const) {
    const path = join(fixtures, 'torch', file);
    if (existsSync(path)) models.push({ name: label, path, scale: 'imagenet' });
  }
  return models;
}

const models: QuantizeBenchModel[] = [
  ...torchModels(),
  ...mobileNetV2Models(dir).map((m) => ({ ...m, scale: 'standardised' as InputScale })),
  ...candidateModels(dir, 2, 'bench-quantize').map((m) => ({ ...m, scale: 'standardised' as InputScale })),
];
const data = prepareData(loadDataset());

const rows = [];
for (const m of models) {
  console.error(`${m.name}…`);
  const fp32 = readFileSync(m.path);
  const input = modelInput(fp32, m.path);
  const batches = await adaptedBatches(data.train, 64, input.plan, data, m.scale);
  const s = await chooseInt8(fp32, m.path, batches, null, { latencyTime: LATENCY_TIME, onProgress: (l) => console.error(`  ${l}`) });
  const all = s.variants.find((v) => v.name === 'all')!;
  const shown = s.chosen ?? all;
  const ops = await optimisedOpTypes(all.bytes);
  const fastest = [...s.variants].filter((v) => v.latencyRatio !== null).sort((a, b) => a.latencyRatio! - b.latencyRatio!)[0];
  rows.push({
    model: m.name,
    fp32_p50_ms: s.fp32.p50,
    all_int8_speedup: all.latencyRatio ? 1 / all.latencyRatio : null,
    fastest_variant: fastest?.name ?? '',
    fastest_speedup: fastest?.latencyRatio ? 1 / fastest.latencyRatio : null,
    chosen: s.choice.state === 'int8' ? s.choice.variant : 'fp32 kept',
    chosen_speedup: s.choice.state === 'int8' ? 1 / s.choice.latencyRatio : 1,
    size_ratio: shown.bytes.length / fp32.length,
    weights_bytes: shown.size.weights,
    scales_zero_points_bytes: shown.size.scalesAndZeroPoints,
    biases_bytes: shown.size.biases,
    float_initializer_bytes: shown.size.floatInitializers,
    graph_bytes: shown.size.graph,
    qlinear_conv: ops.QLinearConv ?? 0,
    float_conv_left: ops.Conv ?? 0,
    variants: s.variants.map((v) => `${v.name}:${v.latencyRatio?.toFixed(3) ?? '—'}`).join(' '),
  });
}
const f = (v: number | null) => (typeof v === 'number' ? v.toFixed(2) : '—');
const kb = (b: number) => (b / 1024).toFixed(0);
/** The x86 features that decide onnxruntime's INT8 kernels (VNNI, AVX-512), from /proc/cpuinfo when there is one. */
function int8Features(): string {
  try {
    const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? []);
    const found = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni'].filter((f) => flags.has(f));
    return found.length ? found.join(', ') : 'none of avx2/avx512/vnni';
  } catch {
    return 'features unknown';
  }
}
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${int8Features()}), ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; 1 thread; ratios from one interleaved run per model, an INT8 choice confirmed by a second run`);
console.log('| model | fp32 p50 ms | all-INT8 speed-up | fastest variant | chosen | chosen speed-up | size / fp32 | weights / scales+zp / biases / float / graph (KB) | QLinearConv (all) | float Conv left (all) |');
console.log('|---|---:|---:|---|---|---:|---:|---|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.model} | ${f(r.fp32_p50_ms)} | ${f(r.all_int8_speedup)}× | ${r.fastest_variant} ${f(r.fastest_speedup)}× | ${r.chosen} | ${f(r.chosen_speedup)}× | ${(100 * r.size_ratio).toFixed(1)}% | ${kb(r.weights_bytes)} / ${kb(r.scales_zero_points_bytes)} / ${kb(r.biases_bytes)} / ${kb(r.float_initializer_bytes)} / ${kb(r.graph_bytes)} | ${r.qlinear_conv} | ${r.float_conv_left} |`,
  );
}
const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'quantize.csv'), stringify(rows, { header: true }));
