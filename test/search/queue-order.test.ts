/**
 * Jobs enter a run's queue in the order the search hands them over (longest
 * first), also when the trainer first has finished jobs to clear away — on a
 * real redis-server, with an in-process BullMQ worker that records the order
 * it is given jobs in.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { QueueTrainer } from '../../search/queue-evaluator.js';
import { encodeResult, type QueuedJob } from '../../search/queue-protocol.js';
import { newRedisClient } from '../../train/queue/redis-connection.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { CANDIDATE_FILE_NAMES } from '../../train/training-job.js';
import { startRedis, type RunningRedis } from '../redis-server.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const rng = seedrandom('queue-order');
const genomes = Array.from({ length: 5 }, () => space.sample(rng));

describe('the queue trainer', { timeout: 60_000 }, () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('queues jobs in the order train() is called, after clearing the jobs it collected', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'queue-order-'));
    const config = resolveSearchConfig({ seed: 1, teacher: null, training: { images: 64 } });
    const trainer = await QueueTrainer.open({ space, config, runDir, runId: 'c'.repeat(16), redisUrl: redis.url, teacherKey: null, dataContentHash: 'd'.repeat(64) });
    const given: string[] = [];
    const connection = newRedisClient(redis.url);
    // Stands in for `nas worker`: answers every job at once with placeholder files.
    const worker = new Worker(
      trainer.queueName,
      async (job: Job) => {
        const id = space.id((job.data as QueuedJob).training.genome);
        given.push(id);
        const files = Object.fromEntries(CANDIDATE_FILE_NAMES.map((name) => [name, new TextEncoder().encode(`${name} of ${id}`)]));
        return encodeResult({ id, accuracy: 0.5, accuracyImages: 500, validationAccuracy: 0.5, trainSeconds: 0, imagesPerSecond: 0, lossCurve: [], backend: 'test', files }, { worker: 'test', queueName: trainer.queueName, maxBytes: 2 ** 20 });
      },
      { connection, concurrency: 1, autorun: false },
    );
    const never = new AbortController().signal;
    try {
      void worker.run();
      // One finished job: the next train() call first removes it from Redis.
      await trainer.train(genomes[0], space.id(genomes[0]), never);
      await worker.pause();
      const rest = genomes.slice(1);
      const trained = rest.map((g) => trainer.train(g, space.id(g), never));
      const queue = new Queue(trainer.queueName, { connection, skipMetasUpdate: true });
      await expect.poll(() => queue.getWaitingCount(), { timeout: 10_000 }).toBe(rest.length);
      await queue.close();
      worker.resume();
      await Promise.all(trained);
      expect(given).toEqual(genomes.map((g) => space.id(g)));
    } finally {
      await worker.close();
      connection.disconnect();
      await trainer.close(true);
    }
  });
});
