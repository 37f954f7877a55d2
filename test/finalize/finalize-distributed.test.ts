/**
 * `nas finalize --redis` on a real redis-server (started here, stopped
 * after) with two `nas worker` processes whose caches start empty (the
 * teacher's logits reach them through Redis): the same finalized.csv
 * (accuracies, epochs) and the same weights as the local pool for the same
 * seeds; and a worker SIGKILLed in the middle of a model loses at most the
 * epoch it was in: the other worker resumes from the last checkpoint it put
 * in Redis and ends with the uninterrupted model's weights, bit for bit.
 * Tiny budgets: a 256-image subset, the best front member and the plain CNN.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { buildOnnxModel } from '../../space/build-onnx.js';
import { planNetwork } from '../../space/plan.js';
import { randomWeights } from '../../space/random-weights.js';
import { newRedisClient } from '../../train/queue/redis-connection.js';
import { RUNS_KEY } from '../../train/queue/queue-runs.js';
import { TEST_SPACE } from '../helpers.js';
import { CLI, startWorker, stopProcess, until, type CliProcess } from '../queue-processes.js';
import { startRedis, type RunningRedis } from '../redis-server.js';

const root = mkdtempSync(join(tmpdir(), 'finalize-distributed-'));
const run = join(root, 'run');
// Three epochs: a worker can be killed after the first with two to go.
const ARGS = ['--subset', '256', '--top', '1', '--baselines', 'plain-cnn', '--epochs', '3', '--workers', '2', '--latency-time', '100'];

/**
 * `nas finalize <copy of the run> …` (or of the copy there, `copy` false), to the end. Not spawnSync: the test's
 * event loop must keep reading the workers' output meanwhile.
 */
async function finalize(name: string, args: string[], copy = true): Promise<{ dir: string; output: string }> {
  const dir = join(root, name);
  if (copy) cpSync(run, dir, { recursive: true });
  const child = spawn(process.execPath, [CLI, 'finalize', dir, ...args], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, output).toBe(0);
  return { dir, output };
}

/** finalized.csv without what depends on the latency measurement or the clock. */
function finalizedRows(dir: string) {
  const rows = parse(readFileSync(join(dir, 'finalized.csv')), { columns: true }) as Array<Record<string, string>>;
  return rows.map(({ latency_p50_ms: _p50, latency_p90_ms: _p90, latency_ratio_to_first: _ratio, train_seconds: _seconds, dominated_by: _by, verdict: _verdict, ...rest }) => rest);
}

const weights = (dir: string, id: string) => readFileSync(join(dir, 'final', id, 'weights.bin'));
const record = (dir: string, id: string) => JSON.parse(readFileSync(join(dir, 'final', id, 'record.json'), 'utf8'));

describe('nas finalize --redis: the URL', () => {
  it('is checked as a search\'s is, its password refused (NAS_REDIS_PASSWORD instead), before anything is read', () => {
    const finalize = (...args: string[]) => spawnSync(process.execPath, [CLI, 'finalize', join(root, 'not-read'), ...args], { encoding: 'utf8', env: process.env });
    const password = finalize('--redis', 'redis://nas:s3cret@127.0.0.1:6379');
    expect(password.status).toBe(2);
    expect(password.stderr).toMatch(/--redis: holds a password: set NAS_REDIS_PASSWORD instead/);
    const notRedis = finalize('--redis', 'http://127.0.0.1');
    expect(notRedis.status).toBe(2);
    expect(notRedis.stderr).toMatch(/--redis: http: is not redis: or rediss:/);
    const sharedDir = finalize('--shared-dir', root);
    expect(sharedDir.status).toBe(2);
    expect(sharedDir.stderr).toMatch(/--shared-dir and --redis-run-ttl: only with --redis/);
  });
});

describe('nas finalize --redis on a real redis-server and two nas worker processes', { timeout: 300_000 }, () => {
  let redis: RunningRedis;
  let workers: CliProcess[] = [];
  /** The local pool's finalization, the reference. */
  let local: string;

  beforeAll(async () => {
    process.env.NAS_CACHE_DIR = join(root, 'coordinator-cache');
    // A fixed ONNX teacher: KD runs on its logits, which the workers must get through Redis.
    const teacherGenome = { resolution: 28, stemWidth: 8, headWidth: 32, stages: [{ width: 8, activation: 'relu6' as const, squeezeExcite: false, blocks: [{ kernel: 3 as const, expand: 1 }] }] };
    const plan = planNetwork(teacherGenome, { stem: 2, stages: [2] }, { numClasses: 10, inputChannels: 1 });
    writeFileSync(join(root, 'teacher.onnx'), buildOnnxModel(plan, randomWeights(plan)));
    await runSearch(
      resolveSearchConfig({ seed: 3, space: TEST_SPACE, searcher: { population: 2 }, budget: { generations: 1 }, training: { images: 128, subset: 300, batchSize: 32 }, teacher: { onnx: join(root, 'teacher.onnx') }, latency: { iterations: 20, time: 50 }, workers: 1 }),
      { runDir: run },
    );
    redis = await startRedis();
    workers = [startWorker(root, redis.url), startWorker(root, redis.url)];
    local = (await finalize('local', ARGS)).dir;
  }, 300_000);

  afterAll(async () => {
    await Promise.all(workers.map(stopProcess));
    await redis?.stop();
  }, 60_000);

  it('gives the same finalized.csv and weights as the local pool, the teacher logits through Redis, and leaves no queue behind', async () => {
    const queued = await finalize('queued', [...ARGS, '--redis', redis.url]);
    expect(queued.output).toMatch(/training through queue nas-final-[0-9a-f]{16} on redis:\/\/127\.0\.0\.1:\d+/);
    const rows = finalizedRows(queued.dir);
    expect(rows.map((r) => r.kind)).toEqual(['front', 'baseline', 'teacher']);
    expect(rows.filter((r) => r.kind !== 'teacher').map((r) => r.epochs)).toEqual(['3', '3']);
    expect(rows).toEqual(finalizedRows(local));
    for (const r of rows.filter((r) => r.kind !== 'teacher')) {
      expect(weights(queued.dir, r.id).equals(weights(local, r.id)), `final/${r.id}/weights.bin`).toBe(true);
      expect(record(queued.dir, r.id).validationCurve).toEqual(record(local, r.id).validationCurve);
      expect(existsSync(join(queued.dir, 'final', r.id, 'model.onnx'))).toBe(true);
      expect(existsSync(join(queued.dir, 'final', r.id, 'checkpoint.bin'))).toBe(false);
    }
    // The workers trained the two models, KD on logits they had to fetch (their caches started empty).
    const output = workers.map((w) => w.output()).join('');
    expect((output.match(/worker: training \S+ \(\S+_[0-9a-f]{12}\)/g) ?? []).length).toBe(2);
    expect(output).toMatch(/epoch 3\/3 checkpointed to Redis/);
    const client = newRedisClient(redis.url);
    expect(await client.smembers(RUNS_KEY)).toEqual([]);
    expect(await client.keys('nas:final-checkpoint:*')).toEqual([]);
    client.disconnect();
  });

  it('a worker SIGKILLed in the middle of a model loses at most the epoch it was in: the other resumes from its last checkpoint; the coordinator killed too, --resume --redis collects the same weights', async () => {
    const dir = join(root, 'killed');
    cpSync(run, dir, { recursive: true });
    const marks = workers.map((w) => w.output().length);
    const since = (i: number) => workers[i].output().slice(marks[i]);
    const coordinator = spawn(process.execPath, [CLI, 'finalize', dir, ...ARGS, '--redis', redis.url], { env: process.env, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => coordinator.once('exit', resolve));

    let victim = -1;
    let jobId = '';
    await until('a worker to checkpoint a first epoch', () => {
      victim = [0, 1].find((i) => /epoch 1\/3 checkpointed to Redis \((\S+)\)/.test(since(i))) ?? -1;
      if (victim >= 0) jobId = /epoch 1\/3 checkpointed to Redis \((\S+)\)/.exec(since(victim))![1];
      return victim >= 0;
    });
    // The worker and the coordinator at once: the other worker goes on while no coordinator waits.
    workers[victim].child.kill('SIGKILL');
    coordinator.kill('SIGKILL');
    await Promise.all([workers[victim].exited, exited]);
    expect(existsSync(join(dir, 'finalized.csv'))).toBe(false);
    const epochsOf = (output: string) => [...output.matchAll(new RegExp(`epoch (\\d)/3 checkpointed to Redis \\(${jobId}\\)`, 'g'))].map((m) => Number(m[1]));
    const checkpointedByVictim = Math.max(...epochsOf(since(victim)));
    const resumedRun = await finalize('killed', [...ARGS, '--resume', '--redis', redis.url], false);

    // The other worker took the job over from the last checkpoint the victim put in Redis.
    const survivor = since(1 - victim);
    const resumed = new RegExp(`: resuming from the checkpoint of epoch (\\d) in Redis \\(${jobId}\\)`).exec(survivor);
    expect(resumed, survivor).not.toBeNull();
    const resumedFrom = Number(resumed![1]);
    // Nothing the victim checkpointed is trained again: at most the epoch it was in is lost.
    expect(resumedFrom).toBeGreaterThanOrEqual(checkpointedByVictim);
    expect(resumedFrom).toBeLessThan(3);
    expect(epochsOf(survivor)).toEqual([3, 2, 1].filter((e) => e > resumedFrom).reverse());
    const id = jobId.split('_')[0];
    expect(resumedRun.output).toMatch(/training through queue nas-final-/);

    // And it ended where the uninterrupted local finalization did.
    expect(finalizedRows(dir)).toEqual(finalizedRows(local));
    expect(record(dir, id).sessions).toBe(2);
    for (const r of finalizedRows(dir).filter((r) => r.kind !== 'teacher')) {
      expect(weights(dir, r.id).equals(weights(local, r.id)), `final/${r.id}/weights.bin`).toBe(true);
      expect(record(dir, r.id).validationCurve).toEqual(record(local, r.id).validationCurve);
    }
    // The victim is replaced, for afterAll to stop.
    workers[victim] = startWorker(root, redis.url);
  });
});
