/**
 * `nas supernet`: lists the cached supernets; `nas supernet train` trains
 * one (or finds it cached) and prints its key, which a search names with
 * `"evaluator": "supernet", "supernet": "<key>"`.
 */
import type { Command } from 'commander';
import { loadSpaceConfig } from '../space/space.js';
import { DEFAULT_SUPERNET_CHOICES, supernetSpace } from '../space/supernet.js';
import type { Activation } from '../space/types.js';
import { selectBackend } from '../train/backend.js';
import { DEFAULT_DATASET, loadDataset } from '../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../train/datasets/prepared.js';
import { listSupernets, supernetCacheDir } from '../train/supernet-cache.js';
import { keyOf, supernetFor } from '../train/supernet-run.js';
import { DEFAULT_SUPERNET_RECIPE, supernetRecipe, type SupernetStrategy } from '../train/supernet-train.js';
import { requireCachedTeacher } from '../train/teacher.js';
import { formatDuration } from '../train/teacher-progress.js';
import { action, numberFlag, positiveInt, UsageError } from './errors.js';
import { progressBar } from './progress.js';

interface SupernetTrainFlags {
  data: string;
  space: string;
  activation: string;
  squeezeExcite: string;
  strategy: string;
  epochs: number;
  batchSize: number;
  lr: number;
  randomSubnets: number;
  teacher?: string;
  alpha: number;
  seed: number;
  resume: boolean;
  fresh: boolean;
  dryRun: boolean;
  subset?: number;
  validationFraction: number;
  splitSeed: number;
  threads: number;
  checkpointMinutes: number;
  kernelTransform: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function registerSupernet(program: Command): void {
  const supernet = program
    .command('supernet')
    .description('weight-sharing supernets: list the cached ones (train one with `nas supernet train`)')
    .action(
      action(async () => {
        const entries = listSupernets();
        if (!entries.length) {
          console.log(`no supernets in ${supernetCacheDir()} (nas supernet train makes one)`);
          return;
        }
        for (const e of entries) {
          if (e.problem) console.log(`${e.key}  damaged: ${e.problem}`);
          else if (!e.meta) {
            const at = e.checkpointStep === undefined ? '' : `, checkpoint at step ${e.checkpointStep}`;
            console.log(`${e.key}  unfinished: ${e.epochsDone} epoch(s) done${at} (nas supernet train … --resume continues it)`);
          }
          else {
            const m = e.meta;
            const last = m.curve.at(-1);
            console.log(
              `${m.key}  ${m.data.name} · ${m.recipe.strategy} · ${m.recipe.epochs} epochs · ${m.params} params · ` +
                `largest ${last ? pct(last.largest) : '?'}, smallest ${last ? pct(last.smallest) : '?'} (validation) · ${formatDuration(m.trainSeconds)} on ${m.trainedOn}`,
            );
          }
        }
      }),
    );
  supernet
    .command('train')
    .description("train the space's supernet so that every subnet works (cached by data, space and recipe); prints its key")
    .option('--data <name|path>', 'fashion-mnist-sample, fashion-mnist, an IDX or CIFAR directory, or a .npz', DEFAULT_DATASET)
    .option('--space <name|file>', 'the search space whose supernet this is', 'small')
    .option('--activation <name>', 'the activation of stages that allow several: relu6 or hswish', DEFAULT_SUPERNET_CHOICES.activation)
    .option('--squeeze-excite <on|off>', 'squeeze-excite in stages that allow both', DEFAULT_SUPERNET_CHOICES.squeezeExcite ? 'on' : 'off')
    .option('--strategy <name>', 'sandwich (BigNAS: largest, smallest and random subnets each step) or progressive (Once-for-All: kernel, then depth, then expand)', DEFAULT_SUPERNET_RECIPE.strategy)
    .option('--epochs <n>', 'passes over the training split', numberFlag('--epochs', (n) => n > 0, 'a positive number'), DEFAULT_SUPERNET_RECIPE.epochs)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), DEFAULT_SUPERNET_RECIPE.batchSize)
    .option('--lr <x>', 'peak SGD learning rate', numberFlag('--lr', (n) => n > 0, 'a positive number'), DEFAULT_SUPERNET_RECIPE.learningRate)
    .option('--random-subnets <n>', 'random subnets per step besides the largest (and the smallest)', numberFlag('--random-subnets', (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0'), DEFAULT_SUPERNET_RECIPE.randomSubnets)
    .option('--kernel-transform', "Once-for-All's kernel transformation matrices: a smaller depthwise kernel is the larger one's centre times a learned matrix (part of the key)", false)
    .option('--teacher <key>', 'distil the largest subnet from this cached teacher (the key `nas teacher` prints)')
    .option('--alpha <x>', 'weight of the teacher in the largest subnet\'s loss', numberFlag('--alpha', (n) => n >= 0 && n <= 1, 'a number in [0, 1]'), DEFAULT_SUPERNET_RECIPE.distillation.alpha)
    .option('--seed <n>', 'seed of the initial weights, batch order and subnet draws', numberFlag('--seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0'), DEFAULT_SUPERNET_RECIPE.seed)
    .option('--validation-fraction <x>', 'share of the training images held out for validation (a search scores its subnets on them)', numberFlag('--validation-fraction', (n) => n > 0 && n < 1, 'a number between 0 and 1'), 0.1)
    .option('--split-seed <n>', 'seed of the validation split', numberFlag('--split-seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0'), 0)
    .option('--subset <n>', 'train on a seeded subset of this many training images (a quick trial)', positiveInt('--subset'))
    .option('--threads <n>', 'data-parallel training threads (more than one is part of the cache key)', positiveInt('--threads'), 1)
    .option('--checkpoint-minutes <x>', 'minutes between checkpoints inside an epoch (an epoch of the full supernet takes over an hour of a core)', numberFlag('--checkpoint-minutes', (n) => n >= 0, 'a number ≥ 0'), 10)
    .option('--resume', 'continue an interrupted training of this supernet', false)
    .option('--fresh', 'discard an interrupted training of this supernet and start over', false)
    .option('--dry-run', 'print the narrowed space, the recipe and the key; train nothing', false)
    .action(
      action(async (o: SupernetTrainFlags) => {
        if (o.activation !== 'relu6' && o.activation !== 'hswish') throw new UsageError(`--activation must be relu6 or hswish, got '${o.activation}'`);
        if (o.squeezeExcite !== 'on' && o.squeezeExcite !== 'off') throw new UsageError(`--squeeze-excite must be on or off, got '${o.squeezeExcite}'`);
        if (o.strategy !== 'sandwich' && o.strategy !== 'progressive') throw new UsageError(`--strategy must be sandwich or progressive, got '${o.strategy}'`);
        if (o.resume && o.fresh) throw new UsageError('give --resume or --fresh, not both');
        const { config, source } = loadSpaceConfig(o.space);
        const space = supernetSpace(config, { activation: o.activation as Activation, squeezeExcite: o.squeezeExcite === 'on' }, source);
        const dataset = loadDataset(o.data);
        const split = { validationFraction: o.validationFraction, seed: o.splitSeed };
        const full = prepareData(dataset, split);
        const data = o.subset ? withTrainingSubset(full, o.subset, 0) : full;
        const teacher = o.teacher ? { key: o.teacher, logits: requireCachedTeacher(o.teacher) } : null;
        const recipe = supernetRecipe(
          { strategy: o.strategy as SupernetStrategy, epochs: o.epochs, batchSize: o.batchSize, learningRate: o.lr, randomSubnets: o.randomSubnets, alpha: o.alpha, seed: o.seed, kernelTransform: o.kernelTransform },
          teacher !== null,
        );
        const key = keyOf(space, data, recipe, teacher?.key ?? null, o.threads);
        for (const n of space.narrowed) console.error(`supernet space: ${n.field} ${JSON.stringify(n.from)} → ${JSON.stringify(n.to)}`);
        console.error(`supernet ${key}: ${dataset.name} (${data.train.count} training images), ${recipe.strategy}, ${recipe.epochs} epochs, teacher ${teacher ? teacher.key : 'none'}`);
        if (o.dryRun) {
          console.log(key);
          return;
        }
        const backend = await selectBackend(program.opts().backend);
        console.error(`backend: ${backend.name} (${backend.reason})`);
        const bar = progressBar('supernet', { lineEvery: 1 });
        const result = await supernetFor(space, data, recipe, {
          dataName: dataset.name,
          split,
          threads: o.threads,
          checkpointMinutes: o.checkpointMinutes,
          teacher,
          resume: o.resume,
          fresh: o.fresh,
          onProgress: (p) => bar.update(p.imagesSeen, p.imagesTotal),
          onEpoch: (p, of) => bar.log(`epoch ${p.epoch}/${of} (${p.phase}): loss ${p.loss.toFixed(4)}, validation largest ${pct(p.largest)}, smallest ${pct(p.smallest)}, ${formatDuration(p.trainSeconds)}`),
        });
        bar.stop();
        const last = result.meta.curve.at(-1);
        console.error(
          `supernet ${result.meta.key}${result.fromCache ? ' (already cached)' : ''}: ${result.meta.params} params, ` +
            `largest ${last ? pct(last.largest) : '?'}, smallest ${last ? pct(last.smallest) : '?'} (validation), ${formatDuration(result.meta.trainSeconds)} on ${result.meta.trainedOn}`,
        );
        console.log(result.meta.key);
      }),
    );
}
