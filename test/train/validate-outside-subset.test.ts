import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSearchConfig, SearchConfigError } from '../../search/config.js';
import { trainingJobFor } from '../../search/evaluators.js';
import { accuracyImagesLine } from '../../search/report.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { selectBackend } from '../../train/backend.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, trainingImagesOutsideSubset } from '../../train/datasets/prepared.js';
import { accuracyFromLogits } from '../../train/evaluate.js';
import { datasetContentHash, parseTrainingJob, runTrainingJob, TrainingJobError } from '../../train/training-job.js';

// A candidate validated also on training images its subset left out: the
// accuracy that ranks it is read on both sets, and training is untouched.
const dataset = loadDataset('fashion-mnist-sample');
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const genome = { ...space.sample(seedrandom('outside-subset')), resolution: 28 };
const id = space.id(genome);
const jobWith = (training: Record<string, unknown>) =>
  trainingJobFor({ space, config: resolveSearchConfig({ data: 'fashion-mnist-sample', teacher: null, training: { subset: 300, epochs: 1, batchSize: 32, ...training } }), teacherKey: null, dataContentHash: datasetContentHash(dataset) }, genome, id);

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('validating outside the training subset', () => {
  it('reads the accuracy on the validation split and the left-out images together; the training is the same', async () => {
    const plain = await runTrainingJob({ job: jobWith({}), dataSpec: 'fashion-mnist-sample' });
    const wide = await runTrainingJob({ job: jobWith({ validateOutsideSubset: 400 }), dataSpec: 'fashion-mnist-sample' });
    const full = prepareData(dataset);
    const validationImages = full.validation.count;
    expect(plain.accuracyImages).toBe(validationImages);
    expect(plain.accuracy).toBe(plain.validationAccuracy);
    expect(wide.accuracyImages).toBe(validationImages + 400);
    // The same weights: evaluation on more images changes nothing that was trained.
    expect(wide.lossCurve).toEqual(plain.lossCurve);
    expect(Buffer.from(wide.files['model.onnx']).equals(Buffer.from(plain.files['model.onnx']))).toBe(true);
    expect(wide.validationAccuracy).toBe(plain.validationAccuracy);

    // The left-out images, run through the deployed model.onnx by onnxruntime here: the reference.
    const outside = trainingImagesOutsideSubset(full, 300, 0, 400);
    const session = await ort.InferenceSession.create(wide.files['model.onnx']);
    const output = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', outside.images, [outside.count, 1, 28, 28]) });
    const outsideAccuracy = accuracyFromLogits(output[session.outputNames[0]].data as Float32Array, outside.labels, 10);
    const expected = (plain.validationAccuracy * validationImages + outsideAccuracy * 400) / (validationImages + 400);
    expect(wide.accuracy).toBeCloseTo(expected, 12);
    // Not the validation figure under another name: the left-out images moved it.
    expect(outsideAccuracy).not.toBe(plain.validationAccuracy);
  });

  it("summary.md says what the accuracy was read on", () => {
    expect(accuracyImagesLine(resolveSearchConfig({ training: { subset: 8000, validateOutsideSubset: 24000 } }))).toBe(
      '- accuracy: validation, read on the validation split and up to 24000 training images outside the 8000-image training subset',
    );
    expect(accuracyImagesLine(resolveSearchConfig({ training: { subset: 8000 } }))).toBe('- accuracy: validation, read on the validation split');
  });

  it('needs a subset: the config and the job each name the field', () => {
    expect(() => resolveSearchConfig({ training: { epochs: 1, validateOutsideSubset: 1000 } }, 'my.json')).toThrow(SearchConfigError);
    expect(() => resolveSearchConfig({ training: { epochs: 1, validateOutsideSubset: 1000 } }, 'my.json')).toThrow(/^my\.json: training\.validateOutsideSubset: needs training\.subset/);
    expect(() => resolveSearchConfig({ training: { subset: 8000, validateOutsideSubset: 0 } })).toThrow(/training\.validateOutsideSubset: /);
    const job = jobWith({ validateOutsideSubset: 400 });
    const { subset: _subset, ...data } = job.data;
    expect(() => parseTrainingJob({ ...job, data })).toThrow(TrainingJobError);
    expect(() => parseTrainingJob({ ...job, data })).toThrow(/training job: data\.outsideSubset: needs data\.subset/);
  });
});
