/**
 * Distributed training on a real redis-server (started here, stopped after)
 * with `nas worker` processes: the same journal and pareto.csv as the local
 * pool, a SIGKILLed worker's candidate finished by another, Redis restarted
 * while the coordinator was down, wrong data and bad payloads refused, and
 * the Redis settings and credentials checked. Latency is the analytic proxy's
 * so that runs compare exactly; training is real (tiny budgets).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageInfo } from '../../locations.js';
import { resolveSearchConfig, SearchConfigError } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { ProxyEvaluator } from '../../search/evaluators.js';
import { QUEUE_PROTOCOL, queueNameFor, runAliveKey, RUNS_KEY } from '../../train/queue/queue-runs.js';
import { connectRedis, newRedisClient, QueueError, redisOptionsFromUrl, REDIS_CA_ENV, REDIS_PASSWORD_ENV } from '../../train/queue/redis-connection.js';
import { buildOnnxModel } from '../../space/build-onnx.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { randomWeights } from '../../space/random-weights.js';
import { MobileNetSpace } from '../../space/space.js';
import { TEST_SPACE } from '../helpers.js';
import { runIdOf, startWorker as startQueueWorker, stopProcess, until, wrongData, type CliProcess } from '../queue-processes.js';
import { startRedis, type RunningRedis } from '../redis-server.js';

const root = mkdtempSync(join(tmpdir(), 'distributed-'));
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const proxy = new ProxyEvaluator(space);
const measureLatency = (genome: Parameters<ProxyEvaluator['latency']>[0], id: string) => proxy.latency(genome, id);

// A tiny random ONNX teacher: its logits must reach the workers through Redis (their caches start empty).
const teacherFile = join(root, 'teacher.onnx');
const teacherPlan = space.plan(space.sample(seedrandom('teacher')));
writeFileSync(teacherFile, buildOnnxModel(teacherPlan, randomWeights(teacherPlan, 1)));
const config = resolveSearchConfig({
  seed: 3,
  searcher: { population: 3 },
  budget: { generations: 2 },
  validationFraction: 0.05,
  training: { images: 96, subset: 200, batchSize: 32 },
  teacher: { onnx: teacherFile },
  workers: 2,
});
const startWorker = (url: string, extra: string[] = [], env: Record<string, string> = {}) => startQueueWorker(root, url, extra, env);
const stopWorker = stopProcess;
type WorkerProcess = CliProcess;
const journalIds = (dir: string) => readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id as string).sort();
const journalLines = (dir: string) => (existsSync(join(dir, 'journal.jsonl')) ? readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0);
const pareto = (dir: string) => readFileSync(join(dir, 'pareto.csv'), 'utf8');

describe('distributed training on BullMQ and a real redis-server', { timeout: 400_000 }, () => {
  let redis: RunningRedis;
  let workers: WorkerProcess[] = [];
  const local = join(root, 'local');
  const previousCache = process.env.NAS_CACHE_DIR;

  beforeAll(async () => {
    process.env.NAS_CACHE_DIR = join(root, 'coordinator-cache');
    redis = await startRedis();
    await runSearch(config, { runDir: local, measureLatency });
    workers = [startWorker(redis.url), startWorker(redis.url)];
  }, 400_000);

  afterAll(async () => {
    await Promise.all(workers.map(stopWorker));
    await redis?.stop();
    if (previousCache === undefined) delete process.env.NAS_CACHE_DIR;
    else process.env.NAS_CACHE_DIR = previousCache;
  }, 60_000);

  it('multi-fidelity through the queue: promotions travel with their checkpoint and come back with the same results as locally', async () => {
    // The reduced space: promotions train three times as long, and what is checked does not depend on model size.
    const fidelity = resolveSearchConfig({ ...config, space: TEST_SPACE, teacher: null, fidelity: { rungs: 2, eta: 3 } });
    const here = join(root, 'fidelity-local');
    const there = join(root, 'fidelity-queued');
    await runSearch(fidelity, { runDir: here, measureLatency });
    const queued = await runSearch(fidelity, { runDir: there, redis: redis.url, measureLatency });
    const keys = (dir: string) => readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => { const r = JSON.parse(l); return `${r.id}@${r.rung}:${r.state}:${r.accuracy}`; }).sort();
    expect(queued.lines.filter((r) => r.state === 'evaluated' && r.rung === 1)).toHaveLength(1); // ⌊3/3⌋ promoted
    expect(keys(there)).toEqual(keys(here)); // the same accuracies at every rung: the checkpoint made the trip
    expect(pareto(there)).toBe(pareto(here));
    const rungRows = (dir: string) => readFileSync(join(dir, 'rungs.csv'), 'utf8').trim().split('\n').map((row) => row.split(',').slice(0, -1).join(',')).sort(); // all but train_seconds
    expect(rungRows(there)).toEqual(rungRows(here));
  });

  it('two worker processes give the same journal ids and pareto.csv as the local pool, and the queue is gone after', async () => {
    const dir = join(root, 'queued');
    const result = await runSearch(config, { runDir: dir, redis: redis.url, measureLatency });
    expect(result.records.every((r) => r.state === 'evaluated')).toBe(true);
    expect(journalIds(dir)).toEqual(journalIds(local));
    expect(pareto(dir)).toBe(pareto(local));
    for (const r of result.front) expect(readFileSync(join(dir, 'front', r.id, 'model.onnx')).equals(readFileSync(join(local, 'front', r.id, 'model.onnx')))).toBe(true);
    // Teacher logits came from Redis into each worker's empty cache.
    expect(workers.map((w) => w.output()).join('')).toMatch(/done in/);
    const client = newRedisClient(redis.url);
    expect(await client.smembers(RUNS_KEY)).toEqual([]);
    expect(await client.keys(runAliveKey('*'))).toEqual([]);
    // No job or result is left (a worker may still touch the queue's meta and stalled-check keys until it drops the queue).
    const runId = runIdOf(dir);
    expect((await client.keys(`bull:${queueNameFor(runId)}:*`)).filter((k) => k.includes(`${runId}_`) || /:(wait|active|completed|failed)$/.test(k))).toEqual([]);
    client.disconnect();
  });

  it('coordinator stopped and Redis restarted mid-search: the resumed run collects what finished meanwhile, trains nothing twice', async () => {
    const dir = join(root, 'restarted');
    const stop = new AbortController();
    // The run stays listed (workers go on with its jobs) for its TTL after the coordinator stops: long enough here for a slow machine.
    const first = runSearch({ ...config, redisRunTtl: 600 }, { runDir: dir, redis: redis.url, measureLatency, signal: stop.signal });
    await until('a first journaled candidate', () => journalLines(dir) >= 1);
    stop.abort();
    expect((await first).stopReason).toBe('interrupted');
    const runId = runIdOf(dir);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    // The workers reconnect and finish the jobs left in the queue while no coordinator waits.
    const queue = new Queue(queueNameFor(runId), { connection: newRedisClient(redis.url), skipMetasUpdate: true });
    await until('the queue to drain', async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed');
      return counts.waiting + counts.active + counts.delayed === 0;
    });
    await queue.close();
    const mark = workers.map((w) => w.output().length);
    const doneBeforeResume = workers.flatMap((w) => [...w.output().matchAll(new RegExp(`(\\w+) done in .*\\(${runId}_`, 'g'))].map((m) => m[1]));
    expect(doneBeforeResume.length).toBeGreaterThan(0);
    const resumed = await runSearch(null, { runDir: dir, resume: true, redis: redis.url, measureLatency });
    expect(resumed.stopReason).toBe('generations');
    expect(journalIds(dir)).toEqual(journalIds(local));
    expect(pareto(dir)).toBe(pareto(local));
    const startedAfter = workers.flatMap((w, i) => [...w.output().slice(mark[i]).matchAll(new RegExp(`training (\\w+) \\(${runId}_`, 'g'))].map((m) => m[1]));
    // Collected, not trained again. (A job in progress while Redis was down may have run twice: its 2 s test lock expired.)
    expect(startedAfter.filter((id) => doneBeforeResume.includes(id))).toEqual([]);
    const startedAll = workers.flatMap((w) => [...w.output().matchAll(new RegExp(`training (\\w+) \\(${runId}_`, 'g'))].map((m) => m[1]));
    expect([...new Set(startedAll)].sort()).toEqual(journalIds(dir));
  });

  it('a SIGKILLed worker\'s candidate is finished by the other worker', async () => {
    const dir = join(root, 'killed');
    const [victim, survivor] = workers;
    const before = victim.output().length;
    const search = runSearch(config, { runDir: dir, redis: redis.url, measureLatency });
    let killedId = '';
    await until('the victim to start training', () => {
      const m = /training (\w+) \(/.exec(victim.output().slice(before));
      if (m) killedId = m[1];
      return m !== null;
    });
    victim.child.kill('SIGKILL');
    await victim.exited;
    const result = await search;
    expect(result.records.every((r) => r.state === 'evaluated')).toBe(true);
    expect(journalIds(dir)).toEqual(journalIds(local));
    expect(pareto(dir)).toBe(pareto(local));
    expect(survivor.output()).toContain(`${killedId} done in`);
  });
});

describe('what a worker refuses', { timeout: 300_000 }, () => {
  const training = {
    space: SMALL_IMAGE_SPACE,
    genome: space.sample(seedrandom('job')),
    data: { name: 'fashion-mnist-sample', contentHash: '0123456789abcdef', validationFraction: 0.1, seed: 0 },
    teacherKey: null,
    options: { budget: { images: 32 }, batchSize: 32, optimizer: 'sgd', distillation: { temperature: 4, alpha: 0 }, augment: true, seed: 1 },
    backend: 'auto',
  };
  const payload = (job: unknown) => ({ protocol: QUEUE_PROTOCOL, nasEdge: packageInfo().version, training: job, timeLimitSeconds: 60 });
  /** A run listed and alive (no TTL here), as a coordinator makes it, with its queue. */
  const listedRun = async (url: string, runId: string) => {
    const name = queueNameFor(runId);
    const client = newRedisClient(url);
    await client.set(runAliveKey(name), 'test');
    await client.sadd(RUNS_KEY, name);
    return { client, queue: new Queue(name, { connection: newRedisClient(url) }) };
  };

  it('a job with a bad genome fails at once naming the field; a job for other data goes back to the queue untouched and stops the worker with a clear error', async () => {
    const redis = await startRedis();
    const { client, queue } = await listedRun(redis.url, 'abcdef0123456789');
    const worker = startWorker(redis.url, ['--data', wrongData(root)]);
    try {
      const bad = structuredClone(training);
      (bad.genome.stages[1] as { width: unknown }).width = 'wide';
      const badJob = await queue.add('train', payload(bad), { jobId: 'bad', attempts: 2 });
      await until('the bad job to fail', async () => (await badJob.getState()) === 'failed');
      const failed = (await queue.getJob('bad'))!;
      expect(failed.failedReason).toMatch(/genome\.stages\[1\]\.width: .*expected number/);
      expect(failed.attemptsMade).toBe(1); // not retried
      const outOfSpace = structuredClone(training);
      outOfSpace.genome.stages[1].width = 999;
      const outJob = await queue.add('train', payload(outOfSpace), { jobId: 'out-of-space', attempts: 2 });
      await until('the out-of-space job to fail', async () => (await outJob.getState()) === 'failed');
      expect((await queue.getJob('out-of-space'))!.failedReason).toMatch(/genome\.stages\[1\]\.width: 999 is not one of/);

      // Valid, but for data this worker does not have: the worker stops (exit code 3) and gives the job back unused.
      const job = await queue.add('train', payload(training), { jobId: 'other-data', attempts: 2 });
      expect(await worker.exited).toBe(3);
      expect(worker.output()).toMatch(/this worker's data \(content hash [0-9a-f]{16}\) is not the search's data 'fashion-mnist-sample' \(content hash 0123456789abcdef\); start the worker with --data/);
      const after = (await queue.getJob('other-data'))!;
      expect(await job.getState()).toBe('waiting');
      expect(after.attemptsMade).toBe(0);
      expect(after.failedReason ?? '').toBe('');
      expect(after.attemptsStarted).toBe(1); // it was taken, then given back
    } finally {
      await stopWorker(worker);
      await queue.close();
      client.disconnect();
      await redis.stop();
    }
  });

  it('a job queued by a search of another protocol goes back to the queue untouched and stops the worker, naming both versions', async () => {
    const redis = await startRedis();
    const { client, queue } = await listedRun(redis.url, '0123456789abcdef');
    // A worker that has the job's data: only the protocol is wrong.
    const worker = startWorker(redis.url);
    try {
      // The payload of a search from before protocol versions.
      const job = await queue.add('train', { training, timeLimitSeconds: 60 }, { jobId: 'older-search', attempts: 2 });
      expect(await worker.exited).toBe(12); // E_QUEUE
      expect(worker.output()).toContain(
        `job older-search was queued by a search speaking queue protocol 1 (a nas-edge before protocol versions); this worker speaks queue protocol ${QUEUE_PROTOCOL} (nas-edge ${packageInfo().version}): run the same nas-edge version`,
      );
      const after = (await queue.getJob('older-search'))!;
      expect(await job.getState()).toBe('waiting');
      expect(after.attemptsMade).toBe(0);
      expect(after.failedReason ?? '').toBe('');
    } finally {
      await stopWorker(worker);
      await queue.close();
      client.disconnect();
      await redis.stop();
    }
  });
});

describe('Redis settings and credentials', () => {
  it('refuses a Redis without AOF or with an evicting policy, saying what to set', async () => {
    const noAof = await startRedis({ args: ['--appendonly', 'no'] });
    await expect(connectRedis(noAof.url)).rejects.toThrow(/AOF persistence is off.*--appendonly yes/);
    await noAof.stop();
    const evicting = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    await expect(connectRedis(evicting.url)).rejects.toThrow(/maxmemory-policy is allkeys-lru.*--maxmemory-policy noeviction/);
    // A search refuses it before training anything.
    await expect(runSearch(config, { runDir: join(root, 'evicting'), redis: evicting.url, measureLatency })).rejects.toThrow(QueueError);
    await evicting.stop();
  });

  it('an ACL user with a password over TLS (rediss://) connects; a wrong password is refused; a config may not hold a password', async () => {
    const dir = mkdtempSync(join(root, 'tls-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const server = await startRedis({ tls: { cert, key, ca: cert }, args: ['--user', 'default', 'off', '--user', 'nas', 'on', '>s3cret@pw', '~*', '&*', '+@all'] });
    const url = `rediss://nas@127.0.0.1:${server.port}`;
    process.env[REDIS_CA_ENV] = cert;
    try {
      process.env[REDIS_PASSWORD_ENV] = 's3cret@pw';
      const client = await connectRedis(url);
      expect(await client.acl('WHOAMI')).toBe('nas');
      client.disconnect();
      // The password may also sit in the URL (percent-encoded), for `nas worker`.
      const inline = await connectRedis(`rediss://nas:s3cret%40pw@127.0.0.1:${server.port}`);
      inline.disconnect();
      process.env[REDIS_PASSWORD_ENV] = 'wrong';
      await expect(connectRedis(url)).rejects.toThrow(/refused the credentials/);
    } finally {
      delete process.env[REDIS_PASSWORD_ENV];
      delete process.env[REDIS_CA_ENV];
      await server.stop();
    }
    expect(redisOptionsFromUrl('rediss://u@h:7000/2')).toMatchObject({ host: 'h', port: 7000, db: 2, username: 'u', tls: { servername: 'h' } });
    expect(() => redisOptionsFromUrl('http://h')).toThrow(/--redis: http: is not redis: or rediss:/);
    expect(() => resolveSearchConfig({ redis: 'redis://u:pw@h' })).toThrow(SearchConfigError);
    expect(() => resolveSearchConfig({ redis: 'redis://u:pw@h' })).toThrow(/redis: holds a password: set NAS_REDIS_PASSWORD/);
  });
});
