/**
 * `nas compress` and `nas quantize`: from a search's front to deployable
 * files, each variant measured side by side. For every front member: an
 * optional longer distillation on the full training split, then INT8 QDQ
 * quantization calibrated on training images; fp32 and INT8 are compared on
 * test accuracy (onnxruntime over the test split), params, MACs, file size
 * and latency (the harness, models interleaved in one run).
 *
 * Structured pruning (issue 6, part 2) is not built yet.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { compareModels } from '../benchmarks/compare.js';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { describeGenome, planOf, readGenomeFile, saveCandidate, writeFileAtomic } from '../space/candidate-files.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData, type PreparedData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { readCachedTeacher } from '../train/teacher.js';
import { calibrationBatches, onnxAccuracy } from './onnx-eval.js';
import { CompressError, decodeModel } from './onnx-model.js';
import { optimisedOpTypes, quantizeModel, type CalibrationMethod } from './quantize.js';

export interface QuantizeFileOptions {
  data?: string;
  /** Calibration images from the training split. @default 256 */
  calibrationImages?: number;
  method?: CalibrationMethod;
  percentile?: number;
  out?: string;
}

export interface QuantizeFileResult {
  output: string;
  fp32Bytes: number;
  int8Bytes: number;
  qlinearOps: number;
  opTypes: Record<string, number>;
  fp32Accuracy: number;
  int8Accuracy: number;
}

/** The model's input resolution and channels, from its first input's shape. */
export function inputGeometry(bytes: Uint8Array, name: string): { channels: number; resolution: number } {
  const model = decodeModel(bytes, name);
  const dims = model.graph!.input![0].type?.tensorType?.shape?.dim ?? [];
  const value = (i: number) => Number(dims[i]?.dimValue ?? 0);
  if (dims.length !== 4 || !value(1) || !value(2) || value(2) !== value(3)) {
    throw new CompressError(`${name}: expected an NCHW input with fixed square size, got [${dims.map((d) => d.dimValue ?? d.dimParam).join(', ')}]`);
  }
  return { channels: value(1), resolution: value(2) };
}

/** Quantizes one ONNX file with calibration images from `data`, and measures both on its test split. */
export async function quantizeFile(path: string, options: QuantizeFileOptions = {}, data?: PreparedData): Promise<QuantizeFileResult> {
  if (!existsSync(path)) throw new CompressError(`${path}: file not found`);
  const fp32 = readFileSync(path);
  const { channels, resolution } = inputGeometry(fp32, path);
  const prepared = data ?? prepareData(loadDataset(options.data));
  if (prepared.train.channels !== channels) {
    throw new CompressError(`${path}: input has ${channels} channel(s), the data ${prepared.train.channels}`);
  }
  const batches = await calibrationBatches(prepared.train, options.calibrationImages ?? 256, resolution);
  const { bytes } = await quantizeModel(fp32, path, batches, { method: options.method, percentile: options.percentile });
  const output = options.out ?? path.replace(/\.onnx$/, '') + '.int8.onnx';
  writeFileAtomic(output, bytes);
  const opTypes = await optimisedOpTypes(bytes);
  return {
    output,
    fp32Bytes: fp32.length,
    int8Bytes: bytes.length,
    qlinearOps: Object.entries(opTypes).filter(([op]) => op.startsWith('QLinear')).reduce((n, [, c]) => n + c, 0),
    opTypes,
    fp32Accuracy: await onnxAccuracy(fp32, prepared.test, resolution, prepared.numClasses),
    int8Accuracy: await onnxAccuracy(bytes, prepared.test, resolution, prepared.numClasses),
  };
}

export interface CompressOptions {
  /** Final distillation epochs on the full training split; 0 keeps the search's weights. @default 0 */
  epochs?: number;
  calibrationImages?: number;
  method?: CalibrationMethod;
  /** Latency measurement time per model (ms), interleaved. @default 2000 */
  latencyTime?: number;
  onProgress?: (line: string) => void;
}

export interface CompressionRow {
  id: string;
  variant: 'fp32' | 'int8';
  test_accuracy: number;
  params: number;
  macs: number;
  file_bytes: number;
  latency_p50_ms: number | '';
  latency_p90_ms: number | '';
  latency_ratio_to_fp32: number | '';
  file: string;
}

/** Runs the compression stage over a search run's front; writes compression.csv and compressed/. */
export async function compressRun(runDir: string, options: CompressOptions = {}): Promise<CompressionRow[]> {
  const frontDir = join(runDir, 'front');
  if (!existsSync(frontDir)) throw new CompressError(`${frontDir}: not found; run the search (or nas report) first`);
  const ids = readdirSync(frontDir).filter((id) => existsSync(join(frontDir, id, 'genome.json')));
  if (!ids.length) throw new CompressError(`${frontDir}: holds no candidate directories`);
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).config as { data: string; validationFraction: number; seed: number; training: { temperature: number; alpha: number } };
  const env = JSON.parse(readFileSync(join(runDir, 'environment.json'), 'utf8')) as { sessions: Array<{ teacherLogitsKey: string | null }> };
  await selectBackend();
  const data = prepareData(loadDataset(config.data), { validationFraction: config.validationFraction, seed: config.seed });
  const teacherKey = env.sessions.at(-1)?.teacherLogitsKey ?? null;
  const teacher = teacherKey ? readCachedTeacher(teacherKey) : null;
  const outDir = join(runDir, 'compressed');
  mkdirSync(outDir, { recursive: true });
  const rows: CompressionRow[] = [];
  const log = options.onProgress ?? (() => {});

  for (const id of ids) {
    const source = join(frontDir, id);
    const file = readGenomeFile(source);
    const target = join(outDir, id);
    if (options.epochs) {
      log(`${id}: distilling for ${options.epochs} epoch(s) on ${data.train.count} images${teacher ? '' : ' (no teacher logits cached: plain training)'}`);
      const model = buildTfjsModel(planOf(file), 1);
      await trainCandidate(model, data, teacher, { budget: { epochs: options.epochs }, distillation: { temperature: config.training.temperature, alpha: teacher ? config.training.alpha : 0 }, seed: 1 });
      await saveCandidate(target, describeGenome(file.genome, file.strides, file.data), model);
      model.dispose();
    } else {
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'model.onnx'), readFileSync(join(source, 'model.onnx')));
      writeFileSync(join(target, 'genome.json'), readFileSync(join(source, 'genome.json')));
    }
    const fp32Path = join(target, 'model.onnx');
    log(`${id}: quantizing`);
    const q = await quantizeFile(fp32Path, { calibrationImages: options.calibrationImages, method: options.method, out: join(target, 'model.int8.onnx') }, data);
    log(`${id}: measuring fp32 and int8, interleaved`);
    const [fp32Latency, int8Latency] = await compareModels(
      [{ name: `${id}/fp32`, source: fp32Path }, { name: `${id}/int8`, source: q.output }],
      { time: options.latencyTime ?? 2000, iterations: 200 },
    );
    const lat = (m: typeof fp32Latency) => (m.state === 'errored' ? { p50: '' as const, p90: '' as const } : { p50: m.stats.p50, p90: m.stats.p90 });
    const base = { id, params: file.params, macs: file.macs };
    rows.push({ ...base, variant: 'fp32', test_accuracy: q.fp32Accuracy, file_bytes: q.fp32Bytes, latency_p50_ms: lat(fp32Latency).p50, latency_p90_ms: lat(fp32Latency).p90, latency_ratio_to_fp32: 1, file: `compressed/${id}/model.onnx` });
    rows.push({ ...base, variant: 'int8', test_accuracy: q.int8Accuracy, file_bytes: q.int8Bytes, latency_p50_ms: lat(int8Latency).p50, latency_p90_ms: lat(int8Latency).p90, latency_ratio_to_fp32: int8Latency.ratioToFirst ?? '', file: `compressed/${id}/${basename(q.output)}` });
  }
  writeFileAtomic(join(runDir, 'compression.csv'), stringify(rows, { header: true }));
  return rows;
}
