/**
 * `nas compress` and `nas quantize`: from a search's front to deployable
 * files, each variant measured side by side. For every front member: an
 * optional longer distillation on the full training split, then INT8 QDQ
 * quantization calibrated on training images; fp32 and INT8 are compared on
 * test accuracy (onnxruntime over the test split), params, MACs, file size
 * and latency (the harness, models interleaved in one run).
 *
 * Pruning: a sensitivity sweep per block (prune it alone at 10–90%, measure
 * validation accuracy without fine-tuning), ratios chosen for a MACs
 * reduction target with the least loss, then distillation fine-tuning.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { compareModels } from '../benchmarks/compare.js';
import { tfjsWeights, type WeightSource, type WeightTensor } from '../space/build-onnx.js';
import { buildTfjsModel, setModelWeights } from '../space/build-tfjs.js';
import { describeGenome, loadCandidateModel, planOf, readGenomeFile, saveCandidate, writeFileAtomic, type GenomeFile } from '../space/candidate-files.js';
import { planNetwork } from '../space/plan.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset } from '../train/datasets/load.js';
import { prepareData, type PreparedData } from '../train/datasets/prepared.js';
import { trainCandidate, type TeacherLogits } from '../train/distill.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { readCachedTeacher } from '../train/teacher.js';
import { calibrationBatches, onnxAccuracy } from './onnx-eval.js';
import { CompressError, decodeModel } from './onnx-model.js';
import { renderCompressionSvg } from './plot.js';
import { chooseRatios, keptByRatio, prunedGenome, prunedWeights, pruneGroups, SWEEP_RATIOS, type Sensitivity } from './prune.js';
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

/** A model's weights read once, served by layer name. */
function snapshotWeights(model: ReturnType<typeof buildTfjsModel>): WeightSource {
  const read = tfjsWeights(model);
  const cache = new Map<string, WeightTensor[]>();
  return (name) => {
    if (!cache.has(name)) cache.set(name, read(name));
    return cache.get(name)!;
  };
}

export interface PruneOptions {
  /** Share of MACs to remove. @default 0.4 */
  targetReduction?: number;
  /** Distillation epochs after pruning. @default 1 */
  fineTuneEpochs?: number;
  /** Validation images for the sensitivity sweep. @default 1000 */
  sensitivityImages?: number;
  onProgress?: (line: string) => void;
}

/** Prunes a trained candidate (see prune.ts) and fine-tunes it with distillation. */
export async function pruneCandidate(
  file: GenomeFile,
  trained: ReturnType<typeof buildTfjsModel>,
  data: PreparedData,
  teacher: TeacherLogits | null,
  options: PruneOptions = {},
): Promise<{ file: GenomeFile; model: ReturnType<typeof buildTfjsModel>; ratios: Map<string, number> }> {
  const plan = planOf(file);
  const shape = { numClasses: file.data.numClasses, inputChannels: file.data.inputChannels };
  const weights = snapshotWeights(trained);
  const val = { ...data.validation, ...subsetSplit(data.validation, options.sensitivityImages ?? 1000) };
  const baseline = evaluateAccuracy(trained, val);
  const sensitivity: Sensitivity = new Map();
  for (const group of pruneGroups(file.genome, file.strides, shape)) {
    const byRatio = new Map<number, number>();
    for (const ratio of SWEEP_RATIOS) {
      const kept = keptByRatio(file.genome, plan, weights, new Map([[group.name, ratio]]));
      let genome;
      try {
        genome = prunedGenome(file.genome, plan, kept, file.strides);
      } catch {
        continue; // this ratio would move a residual add
      }
      const model = buildTfjsModel(planNetwork(genome, file.strides, shape));
      setModelWeights(model, prunedWeights(file.genome, plan, weights, kept));
      byRatio.set(ratio, evaluateAccuracy(model, val));
      model.dispose();
    }
    sensitivity.set(group.name, byRatio);
    options.onProgress?.(`  sensitivity ${group.name}: ${[...byRatio].map(([r, a]) => `${r}:${(a * 100).toFixed(1)}`).join(' ')}`);
  }
  const ratios = chooseRatios(file.genome, file.strides, shape, baseline, sensitivity, options.targetReduction ?? 0.4);
  const kept = keptByRatio(file.genome, plan, weights, ratios);
  const genome = prunedGenome(file.genome, plan, kept, file.strides);
  const model = buildTfjsModel(planNetwork(genome, file.strides, shape));
  setModelWeights(model, prunedWeights(file.genome, plan, weights, kept));
  if ((options.fineTuneEpochs ?? 1) > 0) {
    await trainCandidate(model, data, teacher, { budget: { epochs: options.fineTuneEpochs ?? 1 }, learningRate: 0.01, distillation: { alpha: teacher ? 0.9 : 0 }, seed: 2, evaluateTest: false });
  }
  return { file: describeGenome(genome, file.strides, file.data), model, ratios };
}

function subsetSplit(split: PreparedData['validation'], n: number) {
  const count = Math.min(n, split.count);
  const size = split.height * split.width * split.channels;
  return { images: split.images.subarray(0, count * size), labels: split.labels.subarray(0, count), count };
}

export interface CompressOptions {
  /** Only the N most accurate front members (pareto.csv order). @default all */
  maxModels?: number;
  /** Pruning settings; `false` skips pruning. */
  prune?: PruneOptions | false;
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
  variant: 'fp32' | 'int8' | 'pruned' | 'pruned+int8';
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
  const present = new Set(readdirSync(frontDir).filter((id) => existsSync(join(frontDir, id, 'genome.json'))));
  // pareto.csv lists the front best accuracy first; its first column is the id.
  const ordered = readFileSync(join(runDir, 'pareto.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',')[0]).filter((id) => present.has(id));
  const ids = ordered.slice(0, options.maxModels ?? ordered.length);
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
    // A model finalized by `nas finalize` (final/<id>/) is the one worth compressing; else the search's weights.
    const finalized = join(runDir, 'final', id);
    const source = existsSync(join(finalized, 'genome.json')) ? finalized : join(frontDir, id);
    if (source === finalized) log(`${id}: starting from the finalized model in final/${id}`);
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
    const variants: Array<{ variant: CompressionRow['variant']; path: string; params: number; macs: number; accuracy: number; bytes: number }> = [];
    log(`${id}: quantizing`);
    const q = await quantizeFile(fp32Path, { calibrationImages: options.calibrationImages, method: options.method, out: join(target, 'model.int8.onnx') }, data);
    variants.push({ variant: 'fp32', path: fp32Path, params: file.params, macs: file.macs, accuracy: q.fp32Accuracy, bytes: q.fp32Bytes });
    variants.push({ variant: 'int8', path: q.output, params: file.params, macs: file.macs, accuracy: q.int8Accuracy, bytes: q.int8Bytes });
    if (options.prune !== false) {
      log(`${id}: pruning (sensitivity sweep, then fine-tuning)`);
      const loaded = await loadCandidateModel(options.epochs ? target : source);
      const trained = buildTfjsModel(planOf(file), 1);
      setModelWeights(trained, snapshotWeights(loaded));
      loaded.dispose();
      const pruned = await pruneCandidate(file, trained, data, teacher, { ...options.prune, onProgress: log });
      trained.dispose();
      const prunedDir = join(target, 'pruned');
      await saveCandidate(prunedDir, pruned.file, pruned.model);
      pruned.model.dispose();
      log(`${id}: pruned ${file.macs} → ${pruned.file.macs} MACs (${[...pruned.ratios].map(([g, r]) => `${g} ${r}`).join(', ')}); quantizing`);
      const pq = await quantizeFile(join(prunedDir, 'model.onnx'), { calibrationImages: options.calibrationImages, method: options.method, out: join(prunedDir, 'model.int8.onnx') }, data);
      variants.push({ variant: 'pruned', path: join(prunedDir, 'model.onnx'), params: pruned.file.params, macs: pruned.file.macs, accuracy: pq.fp32Accuracy, bytes: pq.fp32Bytes });
      variants.push({ variant: 'pruned+int8', path: pq.output, params: pruned.file.params, macs: pruned.file.macs, accuracy: pq.int8Accuracy, bytes: pq.int8Bytes });
    }
    log(`${id}: measuring ${variants.map((v) => v.variant).join(', ')}, interleaved`);
    const latencies = await compareModels(
      variants.map((v) => ({ name: `${id}/${v.variant}`, source: v.path })),
      { time: options.latencyTime ?? 2000, iterations: 200 },
    );
    variants.forEach((v, i) => {
      const m = latencies[i];
      rows.push({
        id,
        variant: v.variant,
        test_accuracy: v.accuracy,
        params: v.params,
        macs: v.macs,
        file_bytes: v.bytes,
        latency_p50_ms: m.state === 'errored' ? '' : m.stats.p50,
        latency_p90_ms: m.state === 'errored' ? '' : m.stats.p90,
        latency_ratio_to_fp32: m.ratioToFirst ?? '',
        file: v.path.slice(runDir.length + 1),
      });
    });
  }
  writeFileAtomic(join(runDir, 'compression.csv'), stringify(rows, { header: true }));
  writeFileAtomic(join(runDir, 'compression.svg'), await renderCompressionSvg(rows));
  return rows;
}
