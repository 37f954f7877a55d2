import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { trainingJobFor } from '../../search/evaluators.js';
import { packageInfo } from '../../locations.js';
import { decodeResult, encodeResult, jobIdFor, parseQueuedJob, queuedJobFor, sharedCandidateDir } from '../../search/queue-protocol.js';
import { QUEUE_PROTOCOL, QueueProtocolError, queueNameFor } from '../../train/queue/queue-runs.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { TrainingJobError, type TrainingJobResult } from '../../train/training-job.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const genome = space.sample(seedrandom('protocol'));
const id = space.id(genome);
const context = { space, config: resolveSearchConfig({ training: { images: 500 } }), teacherKey: null, dataContentHash: '0123456789abcdef' };
const result: TrainingJobResult = {
  id,
  accuracy: 0.5,
  accuracyImages: 500,
  validationAccuracy: 0.5,
  trainSeconds: 1,
  imagesPerSecond: 100,
  lossCurve: [2, 1],
  backend: 'wasm',
  files: { 'weights.bin': new Uint8Array([1, 2, 3]), 'model.json': Buffer.from('{}'), 'model.onnx': new Uint8Array([4]), 'genome.json': Buffer.from('{"id":1}') },
};
const queueName = queueNameFor('0123456789abcdef');

describe('queue protocol', () => {
  it('job ids come from run, candidate and budget, without the ":" BullMQ forbids', () => {
    const job = trainingJobFor(context, genome, id);
    expect(jobIdFor('0123456789abcdef', id, job)).toBe(`0123456789abcdef_${id}_i500`);
    const epochs = trainingJobFor({ ...context, config: resolveSearchConfig({ training: { epochs: 2 } }) }, genome, id);
    expect(jobIdFor('0123456789abcdef', id, epochs)).toBe(`0123456789abcdef_${id}_e2`);
    expect(() => queueNameFor('../etc')).toThrow(/16 hex digits/);
  });

  it('a payload is validated field by field, the genome against the space', () => {
    const training = trainingJobFor(context, genome, id);
    const job = (fields: object) => ({ ...queuedJobFor(training, 60), ...fields });
    expect(parseQueuedJob(queuedJobFor(training, 60), 'job x').training.genome).toEqual(genome);
    expect(() => parseQueuedJob(job({ run: 'rm -rf' }), 'job x')).toThrow(/job x: run: unknown field/);
    expect(() => parseQueuedJob(job({ training: { ...training, teacherKey: '../../x' } }), 'job x')).toThrow(/teacherKey: expected 20 lowercase hex digits/);
    const badKernel = structuredClone(training);
    badKernel.genome.stages[0].blocks[0].kernel = 4 as 3;
    expect(() => parseQueuedJob(job({ training: badKernel }), 'job x')).toThrow(/genome\.stages\[0\]\.blocks\[0\]\.kernel/);
    expect(() => parseQueuedJob(job({ protocol: 'two' }), 'job x')).toThrow(TrainingJobError);
    expect(() => parseQueuedJob(job({ protocol: 'two' }), 'job x')).toThrow(/job x: protocol: .*expected number/);
  });

  it('a job of another protocol is refused as such, before fields this version does not know can fail it', () => {
    const training = trainingJobFor(context, genome, id);
    const { version } = packageInfo();
    // A newer search's job, with a field this worker's strict schema would call unknown.
    const newer = { ...queuedJobFor(training, 60), protocol: QUEUE_PROTOCOL + 1, nasEdge: '9.0.0', training: { ...training, somethingNew: 1 } };
    expect(() => parseQueuedJob(newer, 'job x')).toThrow(QueueProtocolError);
    expect(() => parseQueuedJob(newer, 'job x')).toThrow(
      `job x was queued by a search speaking queue protocol ${QUEUE_PROTOCOL + 1} (nas-edge 9.0.0); this worker speaks queue protocol ${QUEUE_PROTOCOL} (nas-edge ${version}): run the same nas-edge version on the search and its workers`,
    );
    // Before protocol versions a payload was { training, timeLimitSeconds }: protocol 1.
    const legacy = { training, timeLimitSeconds: 60 };
    expect(() => parseQueuedJob(legacy, 'job y')).toThrow(/job y was queued by a search speaking queue protocol 1 \(a nas-edge before protocol versions\)/);
    expect(queuedJobFor(training, 60)).toMatchObject({ protocol: QUEUE_PROTOCOL, nasEdge: version, timeLimitSeconds: 60 });
  });

  it('results inline within the size limit, else an error pointing at --shared-dir', () => {
    const sent = encodeResult(result, { worker: 'w', queueName, maxBytes: 1000 });
    const back = decodeResult(JSON.parse(JSON.stringify(sent)), { source: 'job', queueName, maxBytes: 1000 });
    expect([...back.files['weights.bin']]).toEqual([1, 2, 3]);
    expect(back.accuracy).toBe(0.5);
    expect(() => encodeResult(result, { worker: 'w', queueName, maxBytes: 8 })).toThrow(/over the 0\.0 MiB a result may carry through Redis; give the workers and the search a shared directory with --shared-dir/);
  });

  it('with --shared-dir the files go to <dir>/<queue>/<id>/ and come back checked by sha256', () => {
    const shared = mkdtempSync(join(tmpdir(), 'shared-'));
    const sent = encodeResult(result, { worker: 'w', queueName, sharedDir: shared, maxBytes: 8 });
    expect(sent.files.kind).toBe('shared');
    const dir = sharedCandidateDir(shared, queueName, id);
    expect(readFileSync(join(dir, 'genome.json'), 'utf8')).toBe('{"id":1}');
    expect(decodeResult(sent, { source: 'job', queueName, sharedDir: shared, maxBytes: 8 }).files['model.onnx']).toEqual(Buffer.from([4]));
    expect(() => decodeResult(sent, { source: 'job', queueName, maxBytes: 8 })).toThrow(/give the search the same directory with --shared-dir/);
    writeFileSync(join(dir, 'weights.bin'), 'tampered');
    expect(() => decodeResult(sent, { source: 'job', queueName, sharedDir: shared, maxBytes: 8 })).toThrow(/weights\.bin does not have the content the worker wrote/);
  });
});
