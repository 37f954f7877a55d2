/** `nas teacher`: computes and caches a teacher's logits, and reports its test accuracy. */
import type { Command } from 'commander';
import { loadSpaceConfig, MobileNetSpace } from '../space/space.js';
import { selectBackend } from '../train/backend.js';
import { loadDataset, DEFAULT_DATASET } from '../train/datasets/load.js';
import { prepareData } from '../train/datasets/prepared.js';
import { INPUT_SCALES, type InputScale } from '../train/input-adapter.js';
import { teacherLogits, type TeacherSpec } from '../train/teacher.js';
import { DEFAULT_TEACHER_ARCHITECTURE, DEFAULT_TEACHER_EPOCHS, DEFAULT_TEACHER_THREADS, TEACHER_ARCHITECTURES, type TeacherArchitecture } from '../train/teacher-types.js';
import { trainedTeacherSpec } from '../train/trained-teacher.js';
import { action, positiveInt, UsageError } from './errors.js';
import { formatDuration, teacherEpochLine, validationCurveLine } from '../train/teacher-progress.js';
import { progressBar } from './progress.js';

interface TeacherFlags {
  onnx?: string;
  train?: boolean;
  data: string;
  epochs: number;
  seed: string;
  space: string;
  inputScale: string;
  layout?: string;
  threads?: number;
  arch: string;
}

export function registerTeacher(program: Command): void {
  program
    .command('teacher')
    .description('run a teacher over the training data and cache its logits for distillation')
    .option('--onnx <file>', 'your own ONNX classifier (NCHW or NHWC; resized and channel-adapted as needed)')
    .option('--train', 'train a teacher here (--arch), when you have none')
    .option('--data <name|path>', 'fashion-mnist-sample, fashion-mnist, an IDX or CIFAR directory, or a .npz', DEFAULT_DATASET)
    .option('--epochs <n>', 'epochs for --train', positiveInt('--epochs'), DEFAULT_TEACHER_EPOCHS)
    .option('--seed <n>', 'seed for --train', '0')
    .option('--arch <name>', `architecture for --train: ${TEACHER_ARCHITECTURES.join(', ')} (widest: the space's widest genome)`, DEFAULT_TEACHER_ARCHITECTURE)
    .option('--space <name|file>', 'space whose widest genome --train --arch widest uses', 'small')
    .option('--input-scale <scale>', `what the ONNX teacher expects: ${INPUT_SCALES.join(', ')}`, 'standardised')
    .option('--layout <NCHW|NHWC>', 'override the ONNX input layout detection')
    .option('--threads <n>', `onnxruntime threads for --onnx (default: one per core); for --train, threads training the teacher, data-parallel (default ${DEFAULT_TEACHER_THREADS}; part of the cache key)`, positiveInt('--threads'))
    .action(
      action(async (o: TeacherFlags) => {
        if (!!o.onnx === !!o.train) throw new UsageError('give exactly one of --onnx <file> or --train');
        if (!(INPUT_SCALES as readonly string[]).includes(o.inputScale)) {
          throw new UsageError(`--input-scale must be one of ${INPUT_SCALES.join(', ')}, got '${o.inputScale}'`);
        }
        if (!(TEACHER_ARCHITECTURES as readonly string[]).includes(o.arch)) throw new UsageError(`--arch must be one of ${TEACHER_ARCHITECTURES.join(', ')}, got '${o.arch}'`);
        if (o.layout && o.layout !== 'NCHW' && o.layout !== 'NHWC') throw new UsageError(`--layout must be NCHW or NHWC, got '${o.layout}'`);
        const backend = await selectBackend(program.opts().backend);
        console.error(`backend: ${backend.name} (${backend.reason})`);
        const dataset = loadDataset(o.data);
        const data = prepareData(dataset);
        let spec: TeacherSpec;
        if (o.onnx) {
          spec = { kind: 'onnx', path: o.onnx, inputScale: o.inputScale as InputScale, layout: o.layout as 'NCHW' | 'NHWC' | undefined, threads: o.threads };
        } else {
          const { config, source } = loadSpaceConfig(o.space);
          const space = new MobileNetSpace(config, { numClasses: data.numClasses, inputChannels: data.train.channels }, source);
          spec = trainedTeacherSpec(space, o.epochs, dataset.train.height, Number(o.seed), o.threads ?? DEFAULT_TEACHER_THREADS, o.arch as TeacherArchitecture);
        }
        const bar = progressBar('teacher', { lineEvery: 0.1 });
        const result = await teacherLogits(data, spec, (done, total) => bar.update(done, total), (e) => bar.log(teacherEpochLine(e)));
        bar.stop();
        console.log(`teacher: ${result.description}`);
        console.log(`data: ${dataset.name} (${dataset.train.count} train, ${dataset.test.count} test, fingerprint ${data.fingerprint})`);
        console.log(`test accuracy: ${(result.testAccuracy * 100).toFixed(2)}%`);
        if (result.trainSeconds !== null) console.log(`training time: ${formatDuration(result.trainSeconds)} on ${result.trainedOn ?? 'an unrecorded machine'}`);
        const curve = validationCurveLine(result);
        if (curve) console.log(curve);
        console.log(`logits cache key: ${result.key}${result.fromCache ? ' (already cached)' : ''}`);
      }),
    );
}
