/**
 * Failures on the queue, on a real redis-server with `nas worker` processes:
 * a candidate whose training fails every attempt (it passes its time limit,
 * a real limit enforced by the worker's training pool) is journaled `failed`
 * with the worker's error — the same journal as the local pool — and the
 * search goes on; a worker with the wrong data gives its job back without
 * using an attempt, so wrong workers cannot fail a candidate.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { ProxyEvaluator } from '../../search/evaluators.js';
import { JOB_ATTEMPTS, queueNameFor } from '../../train/queue/queue-runs.js';
import { newRedisClient } from '../../train/queue/redis-connection.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { journalRecords, runIdOf, startWorker, stopProcess, until, wrongData, type CliProcess } from '../queue-processes.js';
import { startRedis, type RunningRedis } from '../redis-server.js';

const root = mkdtempSync(join(tmpdir(), 'queue-failures-'));
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const proxy = new ProxyEvaluator(space);
const measureLatency = (genome: Parameters<ProxyEvaluator['latency']>[0], id: string) => proxy.latency(genome, id);
const base = { seed: 5, validationFraction: 0.05, training: { images: 64, subset: 200, batchSize: 32 }, teacher: null, workers: 2 };

describe('failures on the queue', { timeout: 300_000 }, () => {
  let redis: RunningRedis;
  const processes: CliProcess[] = [];
  const previousCache = process.env.NAS_CACHE_DIR;

  beforeAll(async () => {
    process.env.NAS_CACHE_DIR = join(root, 'coordinator-cache');
    redis = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(processes.map(stopProcess));
    await redis?.stop();
    if (previousCache === undefined) delete process.env.NAS_CACHE_DIR;
    else process.env.NAS_CACHE_DIR = previousCache;
  }, 60_000);

  it('a candidate that fails all its attempts is journaled failed with the worker\'s error, as the local pool journals it, and the search goes on', async () => {
    // 1 ms: every training passes its time limit, on the worker as in the local pool.
    const config = resolveSearchConfig({ ...base, searcher: { population: 2 }, budget: { generations: 2 }, training: { ...base.training, timeLimit: 0.001 } });
    const local = join(root, 'failing-local');
    await runSearch(config, { runDir: local, measureLatency });
    const worker = startWorker(root, redis.url, ['--concurrency', '2']);
    processes.push(worker);
    const dir = join(root, 'failing-queued');
    const result = await runSearch(config, { runDir: dir, redis: redis.url, measureLatency });

    // Both generations ran, though every candidate of the first failed.
    expect(result.stopReason).toBe('generations');
    expect(result.generations).toBe(2);
    const records = journalRecords(dir);
    expect(records).toHaveLength(4);
    for (const r of records) {
      expect(r).toMatchObject({ state: 'failed', stage: 'training', error: 'training passed its time limit of 0.001 s' });
    }
    // The same journal (ids, generations, errors) as the local pool's, the time stamps aside.
    const comparable = (rs: ReturnType<typeof journalRecords>) => rs.map(({ at: _at, ...r }) => r).sort((a, b) => a.id.localeCompare(b.id));
    expect(comparable(records)).toEqual(comparable(journalRecords(local)));
    expect(readFileSync(join(dir, 'candidates.csv'), 'utf8')).toBe(readFileSync(join(local, 'candidates.csv'), 'utf8'));
    // Each job was tried JOB_ATTEMPTS times by the worker before it was the candidate's failure.
    const runId = runIdOf(dir);
    for (const r of records) {
      const attempts = worker.output().match(new RegExp(`job ${runId}_${r.id}_i64 failed: training passed its time limit`, 'g')) ?? [];
      expect(attempts).toHaveLength(JOB_ATTEMPTS);
    }
  });

  it('a worker with the wrong data gives its job back without using an attempt; a right worker then trains every candidate', async () => {
    for (const p of processes.splice(0)) await stopProcess(p);
    const config = resolveSearchConfig({ ...base, searcher: { population: 2 }, budget: { generations: 1 } });
    const dir = join(root, 'wrong-then-right');
    const search = runSearch(config, { runDir: dir, redis: redis.url, measureLatency });
    await until('config.json', () => {
      try {
        return runIdOf(dir).length > 0;
      } catch {
        return false;
      }
    });
    const connection = newRedisClient(redis.url);
    const queue = new Queue(queueNameFor(runIdOf(dir)), { connection, skipMetasUpdate: true });
    try {
      await until('both jobs queued', async () => (await queue.getJobCounts('waiting')).waiting === 2);
      // More wrong workers than a job has attempts: with failures counted, they would fail the candidate.
      const data = wrongData(root);
      for (let i = 0; i < JOB_ATTEMPTS + 1; i++) {
        const wrong = startWorker(root, redis.url, ['--data', data]);
        expect(await wrong.exited).toBe(3);
        expect(wrong.output()).toMatch(/worker: stopping: .*this worker's data \(content hash [0-9a-f]{16}\) is not the search's data 'fashion-mnist-sample'/);
      }
      const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'failed', 'completed']);
      expect(jobs).toHaveLength(2);
      for (const job of jobs) {
        expect(await job.getState()).toBe('waiting');
        expect(job.attemptsMade).toBe(0);
        expect(job.failedReason ?? '').toBe('');
      }
      // Each refusal took a job and gave it back.
      expect(jobs.reduce((sum, job) => sum + job.attemptsStarted, 0)).toBe(JOB_ATTEMPTS + 1);

      const right = startWorker(root, redis.url);
      processes.push(right);
      const result = await search;
      expect(result.stopReason).toBe('generations');
      expect(journalRecords(dir).map((r) => r.state)).toEqual(['evaluated', 'evaluated']);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
