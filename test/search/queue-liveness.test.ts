/**
 * Abandoned runs, on a real redis-server: a `nas search` process SIGKILLed
 * and not resumed stops refreshing its run's alive key; once it has expired
 * (a 2 s `redisRunTtl` here) the worker stops watching the run and unlists
 * it, and a run listed with no live coordinator is never watched. Resumed,
 * the run is listed again and its jobs are trained, none twice.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash, resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { EVENTS_MAX_LEN, queueNameFor, runAliveKey, RUNS_KEY } from '../../train/queue/queue-runs.js';
import { newRedisClient } from '../../train/queue/redis-connection.js';
import { TEST_SPACE } from '../helpers.js';
import { journalRecords, runIdOf, startCli, startWorker, stopProcess, trainedBy, until, type CliProcess } from '../queue-processes.js';
import { startRedis, type RunningRedis } from '../redis-server.js';

const root = mkdtempSync(join(tmpdir(), 'queue-liveness-'));
const TTL_SECONDS = 2;

describe('a killed search\'s run on the queue', { timeout: 300_000 }, () => {
  let redis: RunningRedis;
  let worker: CliProcess | null = null;
  const previousCache = process.env.NAS_CACHE_DIR;

  beforeAll(async () => {
    process.env.NAS_CACHE_DIR = join(root, 'coordinator-cache');
    redis = await startRedis();
  });

  afterAll(async () => {
    if (worker) await stopProcess(worker);
    await redis?.stop();
    if (previousCache === undefined) delete process.env.NAS_CACHE_DIR;
    else process.env.NAS_CACHE_DIR = previousCache;
  }, 60_000);

  it('is unlisted and not trained once its key has expired; resumed, it is listed again and trained, nothing twice', async () => {
    const configFile = join(root, 'search.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        seed: 11,
        space: TEST_SPACE,
        searcher: { population: 4 },
        budget: { generations: 2 },
        validationFraction: 0.05,
        training: { images: 128, subset: 200, batchSize: 32 },
        teacher: null,
        latency: { iterations: 5, time: 10 },
        redis: redis.url,
        redisRunTtl: TTL_SECONDS,
      }),
    );
    const runDir = join(root, 'run');
    worker = startWorker(root, redis.url);
    const coordinator = startCli(root, ['search', '--config', configFile, '--dir', runDir]);
    await until('config.json', () => {
      try {
        return runIdOf(runDir).length > 0;
      } catch {
        return false;
      }
    });
    const runId = runIdOf(runDir);
    const queueName = queueNameFor(runId);
    const w = worker;
    await until('the worker to start a job of the run', () => trainedBy(w.output(), runId).length > 0);
    coordinator.child.kill('SIGKILL');
    await coordinator.exited;
    const killed = w.output().length;

    // The key expires; the worker (the only one) unlists the run and stops watching it once its job in progress is done.
    await until('the worker to stop watching the run', () => w.output().slice(killed).includes(`stopped watching ${queueName}`));
    expect(w.output().slice(killed)).toContain(`worker: unlisted ${queueName}: its search was not heard from within its TTL`);
    const client = newRedisClient(redis.url);
    const connection = newRedisClient(redis.url);
    const queue = new Queue(queueName, { connection, skipMetasUpdate: true });
    try {
      expect(await client.sismember(RUNS_KEY, queueName)).toBe(0);
      expect(await client.exists(runAliveKey(queueName))).toBe(0);
      // Completed events carry whole results: the coordinator capped the run's event stream.
      expect(await client.hget(`bull:${queueName}:meta`, 'opts.maxLenEvents')).toBe(String(EVENTS_MAX_LEN));
      const left = await queue.getJobCounts('waiting', 'active', 'completed');
      expect(left.active).toBe(0);

      // Listed again with no live coordinator (as a search killed before any worker saw it leaves it): unlisted, never watched.
      const listed = w.output().length;
      await client.sadd(RUNS_KEY, queueName);
      await until('the worker to unlist it again', () => w.output().slice(listed).includes(`unlisted ${queueName}`));
      expect(w.output().slice(listed)).not.toContain(`watching ${queueName}`);
      expect(await client.sismember(RUNS_KEY, queueName)).toBe(0);
      expect(await queue.getJobCounts('waiting', 'active', 'completed')).toEqual(left);
      const trainedBeforeResume = trainedBy(w.output(), runId);

      // Resumed: listed again, watched again, the jobs left trained; what finished while it was down is collected.
      const resumedAt = w.output().length;
      const resumed = await runSearch(null, { runDir, resume: true });
      expect(resumed.stopReason).toBe('generations');
      expect(w.output().slice(resumedAt)).toContain(`watching ${queueName}`);
      const records = journalRecords(runDir);
      expect(records.every((r) => r.state === 'evaluated')).toBe(true);
      const ids = records.map((r) => r.id).sort();
      expect(new Set(ids).size).toBe(ids.length);
      const trained = trainedBy(w.output(), runId);
      expect([...trained].sort()).toEqual(ids);
      expect(trainedBy(w.output().slice(resumedAt), runId).filter((id) => trainedBeforeResume.includes(id))).toEqual([]);
      // Finished: unlisted and its key deleted.
      expect(await client.sismember(RUNS_KEY, queueName)).toBe(0);
      expect(await client.exists(runAliveKey(queueName))).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
      client.disconnect();
    }
  });
});

describe('redisRunTtl', () => {
  it('is a duration over 0 s, named in the error, and not part of the config hash (a run made before it resumes)', () => {
    expect(resolveSearchConfig({ redisRunTtl: '90s' }).redisRunTtl).toBe(90);
    expect(resolveSearchConfig({ redisRunTtl: 2 }).redisRunTtl).toBe(2);
    expect(() => resolveSearchConfig({ redisRunTtl: '0s' })).toThrow(/config: redisRunTtl: expected a duration over 0 s/);
    expect(() => resolveSearchConfig({ redisRunTtl: 'soon' })).toThrow(/config: redisRunTtl: 'soon' is not a duration/);
    expect(configHash(resolveSearchConfig({ seed: 4, redisRunTtl: 30 }))).toBe(configHash(resolveSearchConfig({ seed: 4 })));
  });
});
