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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { compareModels } from '../benchmarks/compare.js';
import { buildTfjsModel, setModelWeights } from '../space/build-tfjs.js';
import { describeGenome, loadCandidateModel, planOf, readGenomeFile, saveCandidate, writeFileAtomic } from '../space/candidate-files.js';
import { selectBackend } from '../train/backend.js';
import { prepareData } from '../train/datasets/prepared.js';
import { trainCandidate } from '../train/distill.js';
import { onnxEvaluator } from '../train/onnx-evaluate.js';
import { readCachedTeacher } from '../train/teacher.js';
import { CompressError } from '../onnx/model.js';
import { candidateSeed } from '../train/candidate-seed.js';
import { renderCompressionSvg } from './plot.js';
import { pruneCandidate, snapshotWeights } from './prune-candidate.js';
import type { CompressInput, CompressionRow, CompressOptions } from './types.js';
import { accuracyValue, int8Outcome, quantizeFile } from './quantize-file.js';
import { INT8_VARIANTS } from '../benchmarks/int8-variants.js';

/**
 * Runs the compression stage over the front of the run the caller read;
 * writes compression.csv, compression.svg and compressed/. (report.html's
 * compression table is the caller's to refresh: search's refreshReportHtml.)
 */
export async function compressRun(run: CompressInput, options: CompressOptions = {}): Promise<CompressionRow[]> {
  const runDir = run.dir;
  const frontDir = join(runDir, 'front');
  const ordered = run.front.filter((r) => r.frontDir !== null).map((r) => r.id);
  const ids = ordered.slice(0, options.maxModels ?? ordered.length);
  if (!ids.length) throw new CompressError(`${frontDir}: holds no candidate directories; run the search (or nas report) first`);
  const config = run.config;
  await selectBackend();
  // The run's split: a supernet run's front is validated, and pruned members fine-tuned, on images its inherited weights never trained on.
  const data = prepareData(run.dataset, run.split ?? { validationFraction: config.validationFraction, seed: config.seed });
  const teacher = run.teacherKey ? readCachedTeacher(run.teacherKey) : null;
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
      const { batchSize, optimizer, learningRate, temperature, alpha } = config.training;
      await trainCandidate(model, data, teacher, {
        budget: { epochs: options.epochs },
        batchSize,
        optimizer,
        learningRate,
        distillation: { temperature, alpha: teacher ? alpha : 0 },
        seed: candidateSeed(config.seed, id),
        evaluator: onnxEvaluator(planOf(file)),
      });
      await saveCandidate(target, describeGenome(file.genome, file.strides, file.data), model);
      model.dispose();
    } else {
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'model.onnx'), readFileSync(join(source, 'model.onnx')));
      writeFileSync(join(target, 'genome.json'), readFileSync(join(source, 'genome.json')));
    }
    const fp32Path = join(target, 'model.onnx');
    const variants: Array<{ variant: CompressionRow['variant']; path: string; params: number; macs: number; accuracy: number; bytes: number; choice?: string }> = [];
    log(`${id}: quantizing (INT8 variants measured against fp32)`);
    const quantizeOptions = { calibrationImages: options.calibrationImages, method: options.method, maxAccuracyDrop: options.maxAccuracyDrop, latencyTime: options.latencyTime, onProgress: log };
    // A search for INT8 deployment measured this member as one INT8 variant: that is the model kept.
    const member = run.front.find((r) => r.id === id);
    const searchedInt8 = config.latency?.precision === 'int8' && member?.latencyPrecision === 'int8' && member.int8Variant ? member.int8Variant : null;
    const variantSpec = searchedInt8 === null ? undefined : INT8_VARIANTS.filter((v) => v.name === searchedInt8);
    if (variantSpec && !variantSpec.length) throw new CompressError(`${join(frontDir, id)}: the search measured INT8 variant '${searchedInt8}', which this version does not build (${INT8_VARIANTS.map((v) => v.name).join(', ')})`);
    if (searchedInt8) log(`${id}: keeping INT8 variant ${searchedInt8}, the model the search measured (latency.precision int8)`);
    const keep = variantSpec ? { variants: variantSpec, maxLatencyRatio: Infinity } : {};
    const q = await quantizeFile(fp32Path, { ...quantizeOptions, ...keep, out: join(target, 'model.int8.onnx') }, data);
    variants.push({ variant: 'fp32', path: fp32Path, params: file.params, macs: file.macs, accuracy: accuracyValue(q.fp32Accuracy), bytes: q.fp32Bytes });
    variants.push({ variant: 'int8', params: file.params, macs: file.macs, ...int8Outcome(q, fp32Path) });
    if (options.prune !== false) {
      log(`${id}: pruning (sensitivity sweep, then fine-tuning)`);
      const loaded = await loadCandidateModel(options.epochs ? target : source);
      const trained = buildTfjsModel(planOf(file), 1);
      setModelWeights(trained, snapshotWeights(loaded));
      loaded.dispose();
      const { batchSize, optimizer, temperature, alpha } = config.training;
      const pruned = await pruneCandidate(file, trained, data, teacher, { ...options.prune, onProgress: log }, { batchSize, optimizer, temperature, alpha, seed: candidateSeed(config.seed, id) });
      trained.dispose();
      const prunedDir = join(target, 'pruned');
      await saveCandidate(prunedDir, pruned.file, pruned.model);
      pruned.model.dispose();
      log(`${id}: pruned ${file.macs} → ${pruned.file.macs} MACs (${[...pruned.ratios].map(([g, r]) => `${g} ${r}`).join(', ')}); quantizing`);
      const pq = await quantizeFile(join(prunedDir, 'model.onnx'), { ...quantizeOptions, out: join(prunedDir, 'model.int8.onnx') }, data);
      variants.push({ variant: 'pruned', path: join(prunedDir, 'model.onnx'), params: pruned.file.params, macs: pruned.file.macs, accuracy: accuracyValue(pq.fp32Accuracy), bytes: pq.fp32Bytes });
      variants.push({ variant: 'pruned+int8', params: pruned.file.params, macs: pruned.file.macs, ...int8Outcome(pq, join(prunedDir, 'model.onnx')) });
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
        int8_choice: v.choice ?? '',
      });
    });
  }
  writeFileAtomic(join(runDir, 'compression.csv'), stringify(rows, { header: true }));
  writeFileAtomic(join(runDir, 'compression.svg'), await renderCompressionSvg(rows));
  return rows;
}
