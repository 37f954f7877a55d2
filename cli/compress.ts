/** `nas quantize` and `nas compress`. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_LATENCY_RATIO } from '../benchmarks/int8-choice.js';
import { toFloat16Model } from '../onnx/fp16.js';
import { CompressError } from '../onnx/model.js';
import { compressRun } from '../compress/compress-run.js';
import { DEFAULT_MAX_ACCURACY_DROP } from '../benchmarks/int8-choice.js';
import { DEFAULT_CALIBRATION_IMAGES, quantizeFile } from '../compress/quantize-file.js';
import { INPUT_SCALES, type InputScale } from '../train/input-adapter.js';
import { quantizeOutput, quantizeOutputLine } from './quantize-output.js';
import { quantizeReport } from './quantize-report.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { selectBackend } from '../train/backend.js';
import { DEFAULT_DATASET, loadDataset } from '../train/datasets/load.js';
import { refreshReportHtml } from '../search/report.js';
import { action, numberFlag, positiveInt, UsageError } from './errors.js';
import { outputOf, outputOptions, type OutputFlags } from './output.js';
import { runWithFrontFiles } from './run-front.js';

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

interface QuantizeFlags extends OutputFlags {
  maxLatencyRatio: number;
  data: string;
  calibration: number;
  calibrationData?: string;
  inputScale: string;
  layout?: string;
  method: string;
  percentile: number;
  maxAccuracyDrop: number;
  measure: boolean;
  out?: string;
}

export function registerCompress(program: Command): void {
  const quantize = program
    .command('quantize')
    .description('INT8 static quantization (QDQ) of an ONNX model: builds variants, measures them against fp32 here and keeps the fastest that holds accuracy (or fp32)')
    .argument('<model.onnx>', 'a float32 model with an image input (NCHW or NHWC), from nas-edge or any exporter')
    .option('--data <name|path>', 'data for calibration and the test-accuracy check', DEFAULT_DATASET)
    .option('--calibration <n>', 'calibration images', positiveInt('--calibration'), DEFAULT_CALIBRATION_IMAGES)
    .option('--calibration-data <path>', 'calibrate on a directory of PNG/JPEG images, or a .npy/.npz tensor in the model\'s input layout')
    .option('--input-scale <scale>', `how the model expects pixels: ${INPUT_SCALES.join(', ')}`, 'standardised')
    .option('--layout <layout>', 'NCHW or NHWC, when the input shape does not tell')
    .option('--method <method>', 'minmax or percentile', 'minmax')
    .option('--percentile <p>', 'for --method percentile', numberFlag('--percentile', (n) => n > 50 && n <= 100, 'in (50, 100]'), 99.99)
    .option('--max-accuracy-drop <points>', 'accuracy an INT8 variant may lose, in points', numberFlag('--max-accuracy-drop', (n) => n >= 0, '≥ 0'), DEFAULT_MAX_ACCURACY_DROP)
    .option('--max-latency-ratio <r>', "an INT8 variant counts as faster only at most this share of fp32's time", numberFlag('--max-latency-ratio', (n) => n > 0, 'a positive number'), DEFAULT_MAX_LATENCY_RATIO)
    .option('--no-measure', 'quantize everything without measuring speed (no variant choice)')
    .option('--out <file>', 'output file: the INT8 model chosen, or a copy of the fp32 model when INT8 lost (default <model>.int8.onnx, INT8 only)');
  outputOptions(quantize).action(
      action(async (model: string, o: QuantizeFlags) => {
        const out = outputOf(o);
        if (o.method !== 'minmax' && o.method !== 'percentile') throw new UsageError(`--method must be minmax or percentile, got '${o.method}'`);
        if (!(INPUT_SCALES as readonly string[]).includes(o.inputScale)) throw new UsageError(`--input-scale must be one of ${INPUT_SCALES.join(', ')}, got '${o.inputScale}'`);
        if (o.layout !== undefined && o.layout !== 'NCHW' && o.layout !== 'NHWC') throw new UsageError(`--layout must be NCHW or NHWC, got '${o.layout}'`);
        const r = await quantizeFile(model, {
          data: o.data,
          calibrationImages: o.calibration,
          calibrationData: o.calibrationData,
          inputScale: o.inputScale as InputScale,
          layout: o.layout,
          method: o.method,
          percentile: o.percentile,
          maxAccuracyDrop: o.maxAccuracyDrop,
          maxLatencyRatio: o.maxLatencyRatio,
          measure: o.measure,
          out: o.out,
          onProgress: out.note,
        });
        const written = quantizeOutput(r.choice, r.output, o.out);
        if (written.state === 'fp32-copy') writeFileAtomic(written.path, readFileSync(model));
        const line = quantizeOutputLine(written);
        for (const l of quantizeReport(r, line)) out.say(l);
        // Under --json the document says it; stderr says it too, since a kept fp32 is what a script trips on.
        if (out.json) out.note(line);
        out.emit({
          model,
          output: written.state === 'none' ? null : written.path,
          outputModel: written.state === 'int8' ? 'int8' : written.state === 'fp32-copy' ? 'fp32' : null,
          choice: r.choice,
          input: r.input,
          fp32Bytes: r.fp32Bytes,
          int8Bytes: r.int8Bytes,
          shownVariant: r.shownVariant,
          variants: r.variants.map((v) => ({ name: v.name, latencyRatio: v.latencyRatio, p50: v.p50, accuracy: v.accuracy, fileBytes: v.fileBytes })),
          fp32Accuracy: r.fp32Accuracy,
          int8Accuracy: r.int8Accuracy,
          qlinearOps: r.qlinearOps,
          opTypes: r.opTypes,
          floatNodes: r.floatNodes,
        });
      }),
    );

  program
    .command('fp16')
    .description('float16 copy of an ONNX model for GPU execution providers (float32 input and output kept)')
    .argument('<model.onnx>', 'a float32 model')
    .option('--out <file>', 'output file (default <model>.fp16.onnx)')
    .action(
      action((model: string, o: { out?: string }) => {
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(model);
        } catch {
          throw new CompressError(`${model}: file not found`);
        }
        const out = o.out ?? model.replace(/\.onnx$/, '') + '.fp16.onnx';
        const half = toFloat16Model(bytes, model);
        writeFileAtomic(out, half);
        console.log(`wrote ${out}: ${bytes.length} → ${half.length} bytes`);
      }),
    );

  program
    .command('compress')
    .description('quantize (and optionally re-distil) every front member of a search run; writes compression.csv')
    .argument('<run dir>', 'a results/<run> directory with front/')
    .option('--epochs <n>', 'final distillation epochs on the full training split (0 keeps the search weights)', numberFlag('--epochs', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0'), 0)
    .option('--calibration <n>', 'calibration images', positiveInt('--calibration'), 256)
    .option('--method <method>', 'minmax or percentile', 'minmax')
    .option('--prune-target <share>', 'share of MACs pruning removes', numberFlag('--prune-target', (n) => n > 0 && n < 1, 'in (0, 1)'), 0.4)
    .option('--fine-tune-epochs <n>', 'distillation epochs after pruning', numberFlag('--fine-tune-epochs', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0'), 1)
    .option('--no-prune', 'quantize only')
    .option('--max-models <n>', 'only the N most accurate front members', positiveInt('--max-models'))
    .option('--max-accuracy-drop <points>', 'accuracy an INT8 variant may lose, in points', numberFlag('--max-accuracy-drop', (n) => n >= 0, '≥ 0'), DEFAULT_MAX_ACCURACY_DROP)
    .action(
      action(async (runDir: string, o: { epochs: number; calibration: number; method: string; pruneTarget: number; fineTuneEpochs: number; prune: boolean; maxModels?: number; maxAccuracyDrop: number }) => {
        if (o.method !== 'minmax' && o.method !== 'percentile') throw new UsageError(`--method must be minmax or percentile, got '${o.method}'`);
        // The run read and checked here (a front without files refused) and handed down: compress/ reads none of the search's files.
        const run = runWithFrontFiles(runDir);
        await selectBackend(program.opts().backend);
        const rows = await compressRun({ ...run, dataset: loadDataset(run.config.data) }, {
          epochs: o.epochs,
          maxModels: o.maxModels,
          calibrationImages: o.calibration,
          method: o.method,
          maxAccuracyDrop: o.maxAccuracyDrop,
          prune: o.prune ? { targetReduction: o.pruneTarget, fineTuneEpochs: o.fineTuneEpochs } : false,
          onProgress: (l) => console.error(l),
        });
        await refreshReportHtml(runDir); // report.html now shows the compression table
        console.log('| id | variant | test acc | size | p50 ms | ratio | INT8 choice |');
        console.log('|---|---|---:|---:|---:|---:|---|');
        for (const r of rows) console.log(`| ${r.id} | ${r.variant} | ${pct(r.test_accuracy)} | ${r.file_bytes} | ${r.latency_p50_ms === '' ? '—' : r.latency_p50_ms.toFixed(4)} | ${r.latency_ratio_to_fp32 === '' ? '—' : r.latency_ratio_to_fp32.toFixed(3)} | ${r.int8_choice} |`);
        console.log(`wrote ${runDir}/compression.csv, compression.svg and compressed/`);
      }),
    );
}
