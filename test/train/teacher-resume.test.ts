import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { writeCheckpoint } from '../../train/checkpoint.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset, type PreparedData } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import { readCachedTeacher, teacherCacheFiles, teacherKey, teacherLogits, type TeacherEpoch, type TeacherSpec } from '../../train/teacher.js';
import { teacherEpochLine, teacherProgressLines, validationCurveLine } from '../../train/teacher-progress.js';

const genome: Genome = { resolution: 28, stemWidth: 8, headWidth: 32, stages: [{ width: 16, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 2 }] }] };
const strides = { stem: 2, stages: [2] };
const spec: TeacherSpec = { kind: 'trained', genome, strides, epochs: 2, seed: 0 };

/**
 * Trains the teacher's network as teacherLogits would and "kills" it after
 * its first epoch, leaving `<base>.ckpt` as trainedTeacher keeps it, then
 * whatever `leave` writes beside it. Resolves to the killed session's seconds.
 */
async function killedAfterFirstEpoch(data: PreparedData, base: string, leave: () => void): Promise<number> {
  mkdirSync(dirname(base), { recursive: true });
  let killedSeconds = Number.NaN;
  const model = buildTfjsModel(planNetwork(genome, strides, { numClasses: 10, inputChannels: 1 }), 0);
  await expect(
    trainCandidate(model, data, null, {
      budget: { epochs: 2 },
      seed: 0,
      distillation: { alpha: 0 },
      onEpoch: (c) => {
        writeCheckpoint(`${base}.ckpt`, c);
        leave();
        killedSeconds = c.trainSeconds;
        throw new Error('killed');
      },
    }),
  ).rejects.toThrow('killed');
  return killedSeconds;
}

describe('a trained teacher is checkpointed in the cache and resumes', () => {
  it('killed after epoch 1, it continues from its checkpoint to the same logits as an uninterrupted teacher', async () => {
    await selectBackend('wasm');
    const data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample')), 200, 0);

    process.env.NAS_CACHE_DIR = mkdtempSync(join(tmpdir(), 'teacher-a-'));
    const wholeEpochs: TeacherEpoch[] = [];
    const whole = await teacherLogits(data, spec, undefined, (e) => wholeEpochs.push(e));
    // One validation accuracy per epoch, reported as it is measured and kept with the teacher.
    expect(wholeEpochs.map((e) => [e.epoch, e.epochs])).toEqual([[1, 2], [2, 2]]);
    expect(whole.validationCurve).toEqual(wholeEpochs.map((e) => e.validationAccuracy));
    // Accuracies over the validation split: whole multiples of 1 / its count (200 training images leave batch norm's averages near chance, so no more is asked).
    for (const a of whole.validationCurve!) expect(Math.abs(a * data.validation.count - Math.round(a * data.validation.count))).toBeLessThan(1e-6);

    // The same teacher killed after its first epoch: its checkpoint is where teacherLogits keeps it.
    const cache = mkdtempSync(join(tmpdir(), 'teacher-b-'));
    process.env.NAS_CACHE_DIR = cache;
    const base = join(cache, 'teacher', teacherKey(data, spec));
    const checkpoint = `${base}.ckpt`;
    // The curve file trainedTeacher keeps beside its checkpoint, as it would have written it.
    const killedSeconds = await killedAfterFirstEpoch(data, base, () => writeFileSync(`${base}.curve.json`, JSON.stringify({ validationCurve: [whole.validationCurve![0]] })));
    const seen: number[] = [];
    const resumedEpochs: number[] = [];
    const resumed = await teacherLogits(data, spec, (done) => seen.push(done), (e) => resumedEpochs.push(e.epoch));
    // Only epoch 2 is trained again, and the curve runs on from the killed session's first epoch.
    expect(resumedEpochs).toEqual([2]);
    expect(resumed.validationCurve).toEqual(whole.validationCurve);
    expect(existsSync(`${base}.curve.json`)).toBe(false);
    expect(seen[0]).toBeGreaterThan(200); // the first reported batch is in epoch 2
    expect(existsSync(checkpoint)).toBe(false);
    expect(resumed.testAccuracy).toBe(whole.testAccuracy);
    expect(Buffer.compare(Buffer.from(resumed.logits.buffer), Buffer.from(whole.logits.buffer))).toBe(0);

    // Its training time counts both sessions: the killed one's seconds are in the checkpoint it left.
    expect(whole.trainSeconds).toBeGreaterThan(0);
    expect(resumed.trainSeconds).toBeGreaterThan(killedSeconds);
    expect(resumed.trainedOn).toMatch(/, 1 thread$/);
    // The cache keeps it; an entry written before it was recorded still reads, with no time.
    const key = teacherKey(data, spec);
    expect(readCachedTeacher(key)).toMatchObject({ trainSeconds: resumed.trainSeconds, trainedOn: resumed.trainedOn, validationCurve: whole.validationCurve, fromCache: true });
    const meta = teacherCacheFiles(key).meta;
    const { trainSeconds: _s, trainedOn: _o, validationCurve: _c, ...older } = JSON.parse(readFileSync(meta, 'utf8'));
    writeFileSync(meta, JSON.stringify(older));
    expect(readCachedTeacher(key)).toMatchObject({ trainSeconds: null, trainedOn: null, validationCurve: null, testAccuracy: whole.testAccuracy });
  });

  it('a damaged curve file beside the checkpoint never stops the teacher: it resumes, with no curve to show', async () => {
    await selectBackend('wasm');
    const data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample')), 200, 0);
    const cache = mkdtempSync(join(tmpdir(), 'teacher-c-'));
    process.env.NAS_CACHE_DIR = cache;
    const base = join(cache, 'teacher', teacherKey(data, spec));
    await killedAfterFirstEpoch(data, base, () => writeFileSync(`${base}.curve.json`, '{"validationCurve": [0.5'));
    const resumed = await teacherLogits(data, spec);
    expect(resumed.validationCurve).toBeNull();
    expect(readCachedTeacher(teacherKey(data, spec))?.validationCurve).toBeNull();
    expect(existsSync(`${base}.curve.json`)).toBe(false);
  });

  it('progress lines every tenth, with elapsed time and ETA', () => {
    const lines: string[] = [];
    let t = 0;
    const report = teacherProgressLines(spec, (l) => lines.push(l), () => t);
    for (let done = 25; done <= 400; done += 25) {
      t = done * 10; // 10 ms per image
      report(done, 400);
    }
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('teacher: 10% (epoch 0.3/2, 50/400 images), elapsed 1s, ETA 4s'); // 0.25 epochs and 0.5 s round up
    expect(lines.at(-1)).toBe('teacher: 100% (epoch 2.0/2, 400/400 images), elapsed 4s, ETA 0s');
  });

  it('a resumed teacher reports this session: no line for the tenth it resumed in, the ETA at its own rate', () => {
    const lines: string[] = [];
    let t = 0;
    const report = teacherProgressLines(spec, (l) => lines.push(l), () => t);
    // Resumed at epoch 1 of 2 (200 of 400 images), 20 ms per image now; the first report comes after a batch of 20.
    for (let done = 220; done <= 400; done += 20) {
      t = (done - 200) * 20;
      report(done, 400);
    }
    expect(lines).toHaveLength(5); // 60% … 100%; 50% was the killed session's
    // 0.4 s for the 20 images since the first report: 160 left take 3.2 s (over all 240 images, 0.8 s would have said 0.5 s).
    expect(lines[0]).toBe('teacher: 60% (epoch 1.2/2, 240/400 images), elapsed 1s, ETA 3s');
    expect(lines.at(-1)).toBe('teacher: 100% (epoch 2.0/2, 400/400 images), elapsed 4s, ETA 0s');
  });

  it('an epoch line, and the curve on one line', () => {
    expect(teacherEpochLine({ epoch: 3, epochs: 20, validationAccuracy: 0.89123 })).toBe('teacher: epoch 3/20, validation 89.12%');
    expect(validationCurveLine({ validationCurve: [0.851, 0.8774, 0.92349] })).toBe('validation after each epoch: 85.1 87.7 92.3%');
    expect(validationCurveLine({ validationCurve: null })).toBeNull();
  });
});
