import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedDataSeed } from '../../train/candidate-seed.js';
import { resolveSearchConfig, SearchConfigError } from '../../search/config.js';
import { trainingJobFor } from '../../search/evaluators.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { selectBackend } from '../../train/backend.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../../train/datasets/prepared.js';
import { trainingStart } from '../../train/training-loop.js';
import { datasetContentHash, parseTrainingJob, runTrainingJob, TrainingJobError, type TrainingJob } from '../../train/training-job.js';

// training.sharedDataOrder: every candidate trains on one batch order and
// augmentation (common random numbers); only its initial weights follow its
// own seed.
const dataset = loadDataset('fashion-mnist-sample');
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const rng = seedrandom('shared-data-order');
const genomes = [0, 1].map(() => ({ ...space.sample(rng), resolution: 28 }));
const jobFor = (training: Record<string, unknown>, genome = genomes[0]) =>
  trainingJobFor(
    { space, config: resolveSearchConfig({ data: 'fashion-mnist-sample', seed: 3, teacher: null, training: { subset: 300, images: 96, batchSize: 32, ...training } }), teacherKey: null, dataContentHash: datasetContentHash(dataset) },
    genome,
    space.id(genome),
  );
const withOptions = (job: TrainingJob, options: Partial<TrainingJob['options']>): TrainingJob => ({ ...job, options: { ...job.options, ...options } });

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('a shared data order', () => {
  it('the batch order and generator follow dataSeed, which defaults to seed', () => {
    const data = withTrainingSubset(prepareData(dataset), 300, 0);
    const start = (options: { seed: number; dataSeed?: number }) => {
      const s = trainingStart(data, null, { ...options, budget: { epochs: 1 } });
      return { order: Array.from(s.order), next: s.rng() };
    };
    // Two seeds (two candidates' initial weights), one dataSeed: the same batches and augmentation draws.
    expect(start({ seed: 1, dataSeed: 7 })).toEqual(start({ seed: 2, dataSeed: 7 }));
    // Without dataSeed nothing changes: the order is the seed's, as before the option existed.
    expect(start({ seed: 5 })).toEqual(start({ seed: 9, dataSeed: 5 }));
    expect(start({ seed: 1, dataSeed: 7 }).order).not.toEqual(start({ seed: 1 }).order);
  });

  it('a search config gives every candidate one dataSeed and keeps each one its own seed', () => {
    const [a, b] = genomes.map((g) => jobFor({ sharedDataOrder: true }, g));
    expect(a.options.dataSeed).toBe(sharedDataSeed(3));
    expect(b.options.dataSeed).toBe(a.options.dataSeed);
    expect(b.options.seed).not.toBe(a.options.seed);
    // Off (the default): no dataSeed in the job, so each order follows the candidate's seed.
    expect('dataSeed' in jobFor({}).options).toBe(false);
    expect('dataSeed' in jobFor({ sharedDataOrder: false }).options).toBe(false);
    // A retest's shared order is another one, and none is a candidate's seed.
    expect(sharedDataSeed(3, 1)).not.toBe(sharedDataSeed(3));
    expect(sharedDataSeed(3)).not.toBe(a.options.seed);
  });

  it('the job trains on the dataSeed order with the seed initial weights', async () => {
    const base = jobFor({});
    const seed = base.options.seed;
    const run = async (job: TrainingJob) => (await runTrainingJob({ job, dataSpec: 'fashion-mnist-sample' })).lossCurve;
    const own = await run(base);
    // dataSeed equal to seed is the training without it, step for step.
    expect(await run(withOptions(base, { dataSeed: seed }))).toEqual(own);
    const shared = await run(withOptions(base, { dataSeed: 11 }));
    expect(shared).not.toEqual(own);
    // Another seed with the same dataSeed: other initial weights, so another first loss, on the same batches.
    const otherInit = await run(withOptions(base, { seed: (seed + 1) % 2 ** 32, dataSeed: 11 }));
    expect(otherInit[0]).not.toBe(shared[0]);
  });

  it('bad values name the field', () => {
    expect(() => resolveSearchConfig({ training: { sharedDataOrder: 'yes' } }, 'my.json')).toThrow(SearchConfigError);
    expect(() => resolveSearchConfig({ training: { sharedDataOrder: 'yes' } }, 'my.json')).toThrow(/training\.sharedDataOrder/);
    const job = jobFor({});
    expect(() => parseTrainingJob(withOptions(job, { dataSeed: 1.5 }))).toThrow(TrainingJobError);
    expect(() => parseTrainingJob(withOptions(job, { dataSeed: -1 }))).toThrow(/options\.dataSeed/);
  });
});
