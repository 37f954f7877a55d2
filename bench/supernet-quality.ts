/**
 * bench:supernet --quality RUN: what a supernet search's inherited weights
 * are worth once trained a little. From the search's front, the member a
 * finalization would set against MobileNetV2 ×0.35 (its challenger: the most
 * accurate member no slower than it, the front and the untrained baseline
 * measured in one interleaved run) is fine-tuned from its inherited weights
 * for each of a few epoch counts, and trained from scratch with
 * finalize's recipe, each by `finalizeRun` in its own copy of the run
 * (OUT/quality/<setting>/), so every setting resumes on its own after a
 * kill. The challenger is chosen once and kept (quality-challenger.json);
 * each finished setting is a row of supernet-quality.csv, and a rerun
 * trains only the settings missing there.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { runWithFrontFiles } from '../cli/run-front.js';
import { measureChallengers } from '../finalize/challengers.js';
import { finalizeRun } from '../finalize/finalize-run.js';
import { FINE_TUNE_LEARNING_RATE_SCALE } from '../finalize/recipe.js';
import { runSetting } from '../search/config-helpers.js';
import { baselines } from '../space/baselines.js';
import { ONNX_FILE, planOf, readGenomeFile } from '../space/candidate-files.js';
import { selectBackend } from '../train/backend.js';
import { prepareData } from '../train/datasets/prepared.js';
import { accuracyFromLogits } from '../train/evaluate.js';
import { OnnxSplitRunner } from '../train/onnx-evaluate.js';
import { splitAtResolution } from '../train/supernet-score.js';
import type { TensorSplit } from '../train/types.js';

/** The baseline the issue's quality target is set against. */
export const QUALITY_BASELINE = 'mobilenetv2-x0.35';

export interface QualityOptions {
  /** A finished supernet search's run directory (its front/ holds the subnets with inherited weights). */
  runDir: string;
  /** Epoch counts to fine-tune from the inherited weights, each a full schedule of its own; 0: the inherited weights untrained. */
  fineTuneEpochs: readonly number[];
  /** Epochs of the from-scratch training beside them (0: none). */
  scratchEpochs: number;
  /** The fine-tunings' share of the peak learning rate (finalize's default when absent); a setting at another share is named `inherited-<epochs>-rate<share>`. */
  fineTuneRate?: number;
  out: string;
  cpu: string;
  log: (line: string) => void;
}

/** One finished setting. */
export interface QualityRow {
  setting: string;
  genome_id: string;
  init: 'inherited' | 'scratch';
  epochs: number;
  search_accuracy: number;
  test_accuracy: number;
  validation_accuracy: number;
  train_seconds: number;
  latency_ms: number;
  baseline_latency_ms: number;
  cpu: string;
}

const COLUMNS: ReadonlyArray<keyof QualityRow> = ['setting', 'genome_id', 'init', 'epochs', 'search_accuracy', 'test_accuracy', 'validation_accuracy', 'train_seconds', 'latency_ms', 'baseline_latency_ms', 'cpu'];

interface ChosenChallenger {
  runDir: string;
  id: string;
  searchAccuracy: number;
  latencyMs: number;
  baselineLatencyMs: number;
}

/** The challenger of {@link QUALITY_BASELINE}, measured now or read back from an earlier run of the bench. */
async function challengerOf(runDir: string, out: string, log: QualityOptions['log']): Promise<ChosenChallenger> {
  const file = join(out, 'quality-challenger.json');
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as ChosenChallenger;
    if (kept.runDir !== runDir) throw new Error(`${file}: chosen from ${kept.runDir}, not ${runDir}; use another --out, or delete it`);
    return kept;
  }
  const run = runWithFrontFiles(runDir);
  const { dataset } = runSetting(run.config);
  const shape = { numClasses: dataset.numClasses, inputChannels: dataset.train.channels };
  const measured = await measureChallengers(run, baselines(dataset.train.height, [QUALITY_BASELINE]), shape, { time: 1000, iterations: 50, threads: run.config.latency.threads });
  const pick = measured.challengers[0]?.challenger;
  const baseline = measured.baselines[0];
  if (!pick || !baseline) throw new Error(`${runDir}: no front member is as fast as ${QUALITY_BASELINE} (measured interleaved)`);
  const chosen = { runDir, id: pick.id, searchAccuracy: pick.accuracy, latencyMs: pick.latency, baselineLatencyMs: baseline.latency };
  writeFileSync(file, JSON.stringify(chosen, null, 2) + '\n');
  log(`quality: ${pick.id} (search accuracy ${(pick.accuracy * 100).toFixed(2)}%, p50 ${pick.latency.toFixed(4)} ms) challenges ${QUALITY_BASELINE} (p50 ${baseline.latency.toFixed(4)} ms), measured interleaved`);
  return chosen;
}

function appendRow(csv: string, row: QualityRow): void {
  appendFileSync(csv, COLUMNS.map((c) => (c === 'cpu' ? `"${row.cpu}"` : String(row[c]))).join(',') + '\n');
}

/**
 * Fine-tuning for 0 epochs: the challenger's front/<id>/model.onnx as the
 * search left it (inherited weights, BN statistics recomputed), on the run's
 * validation split and on the test split.
 */
async function untrainedRow(runDir: string, chosen: ChosenChallenger, cpu: string): Promise<QualityRow> {
  const run = runWithFrontFiles(runDir);
  const { dataset } = runSetting(run.config);
  const data = prepareData(dataset, run.split);
  // Resizing to the genome's resolution runs on tfjs.
  await selectBackend();
  const dir = join(runDir, 'front', chosen.id);
  const file = readGenomeFile(dir);
  const runner = await OnnxSplitRunner.fromBytes(planOf(file), new Uint8Array(readFileSync(join(dir, ONNX_FILE))));
  const accuracy = async (split: TensorSplit) => {
    const images = splitAtResolution(split, file.genome.resolution);
    return accuracyFromLogits(await runner.logits(images), images.labels, data.numClasses);
  };
  try {
    const [validation, test] = [await accuracy(data.validation), await accuracy(data.test)];
    return { setting: 'inherited-0', genome_id: chosen.id, init: 'inherited', epochs: 0, search_accuracy: chosen.searchAccuracy, test_accuracy: test, validation_accuracy: validation, train_seconds: 0, latency_ms: chosen.latencyMs, baseline_latency_ms: chosen.baselineLatencyMs, cpu };
  } finally {
    await runner.release();
  }
}

/** Trains every setting not yet in OUT/supernet-quality.csv (0 epochs of fine-tuning: the inherited weights as they are); returns all rows there. */
export async function measureQuality(o: QualityOptions): Promise<QualityRow[]> {
  const csv = join(o.out, 'supernet-quality.csv');
  const done = new Set<string>();
  if (existsSync(csv)) for (const r of parse(readFileSync(csv), { columns: true }) as Array<Record<string, string>>) done.add(r.setting);
  else writeFileSync(csv, COLUMNS.join(',') + '\n');
  const chosen = await challengerOf(o.runDir, o.out, o.log);
  const rate = o.fineTuneRate !== undefined && o.fineTuneRate !== FINE_TUNE_LEARNING_RATE_SCALE ? o.fineTuneRate : undefined;
  const settings = [
    ...o.fineTuneEpochs.map((epochs) => ({ init: 'inherited' as const, epochs, setting: `inherited-${epochs}${rate !== undefined && epochs > 0 ? `-rate${rate}` : ''}` })),
    ...(o.scratchEpochs > 0 ? [{ init: 'scratch' as const, epochs: o.scratchEpochs, setting: `scratch-${o.scratchEpochs}` }] : []),
  ];
  for (const s of settings) {
    const { setting } = s;
    if (done.has(setting)) continue;
    if (s.init === 'inherited' && s.epochs === 0) {
      appendRow(csv, await untrainedRow(o.runDir, chosen, o.cpu));
      continue;
    }
    const dir = join(o.out, 'quality', setting);
    if (!existsSync(dir)) {
      mkdirSync(join(o.out, 'quality'), { recursive: true });
      // The run without any finalization it holds: this setting's final/ is its own.
      cpSync(o.runDir, dir, { recursive: true, filter: (src) => src !== join(o.runDir, 'final') });
    }
    const run = runWithFrontFiles(dir);
    const resume = existsSync(join(dir, 'final', 'plan.json'));
    o.log(`quality: ${setting} of ${chosen.id}${resume ? ' (resuming)' : ''}`);
    const result = await finalizeRun(
      { ...run, ...runSetting(run.config) },
      { ids: [chosen.id], baselines: false, init: s.init, ...(s.init === 'inherited' && rate !== undefined ? { fineTuneRate: rate } : {}), workers: 1, ...(resume ? { resume: true } : { epochs: s.epochs }), onEvent: (e) => (e.type === 'epoch' ? o.log(`  ${setting} epoch ${e.epoch}/${e.epochs}: validation ${(e.validationAccuracy * 100).toFixed(2)}%`) : undefined) },
    );
    const model = result.models.find((m) => m.record.id === chosen.id);
    if (!model) throw new Error(`${dir}: ${setting} did not train ${chosen.id}: ${result.failed.map((f) => f.error).join('; ')}`);
    const row: QualityRow = {
      setting,
      genome_id: chosen.id,
      init: s.init,
      epochs: model.record.epochs,
      search_accuracy: chosen.searchAccuracy,
      test_accuracy: model.record.testAccuracy,
      validation_accuracy: model.record.validationAccuracy,
      train_seconds: Math.round(model.record.trainSeconds),
      latency_ms: chosen.latencyMs,
      baseline_latency_ms: chosen.baselineLatencyMs,
      cpu: o.cpu,
    };
    appendRow(csv, row);
    o.log(`quality: ${setting}: test accuracy ${(row.test_accuracy * 100).toFixed(2)}% in ${row.train_seconds} s`);
  }
  return (parse(readFileSync(csv), { columns: true, cast: true }) as QualityRow[]).filter((r) => settings.some((s) => s.setting === r.setting));
}
