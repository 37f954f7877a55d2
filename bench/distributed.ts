/**
 * `npm run bench:distributed`: evaluations per hour of candidate training
 * through the local pool (1 and 2 threads) and through the Redis queue with
 * 1 and 2 `nas worker` processes (one candidate each) on this machine, and
 * the queue's overhead per job: the search's wall time for a job minus the
 * worker's processing time of it, jobs sent one at a time.
 *
 * Every setting trains the same seeded genomes after a warm-up candidate per
 * thread or worker (thread start, data load, wasm compile are not counted).
 * Where the time goes: the share of the lanes' time (wall × threads or
 * workers) spent training in the training thread (the rest is per-job work
 * around it — model build, ONNX export and evaluation, the queue — and
 * lanes idle at the end), and for the queue the mean gap between a worker's
 * consecutive jobs (from BullMQ's processedOn / finishedOn).
 * It starts its own redis-server (Debian's) on a free port in a temp dir.
 *
 * usage: node dist/bench/distributed.js [--candidates 8] [--images 1024]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { stringify } from 'csv-stringify/sync';
import seedrandom from 'seedrandom';
import { resolveSearchConfig } from '../search/config.js';
import { trainingJobFor, type TrainingContext } from '../search/evaluators.js';
import { QueueTrainer } from '../search/queue-evaluator.js';
import { jobIdFor } from '../search/queue-protocol.js';
import { newRedisClient } from '../train/queue/redis-connection.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { loadDataset } from '../train/datasets/load.js';
import { packageRoot } from '../locations.js';
import { datasetContentHash } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';

const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const CANDIDATES = flag('--candidates', 8);
const IMAGES = flag('--images', 1024);
const OVERHEAD_JOBS = 4;

const out = join(packageRoot(), 'results', 'bench');
mkdirSync(out, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'bench-distributed-'));
const cli = join(packageRoot(), 'dist', 'cli', 'bin.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', scratch, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('Ready to accept connections') && resolve());
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

function startWorkers(url: string, n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, [cli, 'worker', '--redis', url, '--concurrency', '1'], { stdio: 'ignore' }));
}

const config = resolveSearchConfig({ seed: 1, training: { images: IMAGES, subset: 2000, batchSize: 64 }, teacher: null, workers: 2 });
const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const rng = seedrandom('bench-distributed');
const WARM_UP = 10;
const genomes: Genome[] = Array.from({ length: CANDIDATES + WARM_UP + OVERHEAD_JOBS }, () => space.sample(rng));
const context: TrainingContext = { space, config, teacherKey: null, dataContentHash: datasetContentHash(loadDataset(config.data)) };

/** Runs `items` with `lanes` at once; wall seconds and the training threads' seconds summed. */
async function timed<T>(items: T[], lanes: number, fn: (item: T) => Promise<{ trainSeconds: number }>): Promise<{ seconds: number; trainSeconds: number }> {
  const started = performance.now();
  let next = 0;
  let trainSeconds = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < items.length) {
      // Not `trainSeconds += await …`: that reads trainSeconds before the await and loses the other lanes' sums.
      const { trainSeconds: seconds } = await fn(items[next++]);
      trainSeconds += seconds;
    }
  }));
  return { seconds: (performance.now() - started) / 1000, trainSeconds };
}

/** Mean ms between the end of a worker's job and the start of its next one (jobs of one batch). */
function meanGapMs(jobs: Array<{ worker: string; start: number; end: number }>): number | null {
  const gaps: number[] = [];
  for (const worker of new Set(jobs.map((j) => j.worker))) {
    const own = jobs.filter((j) => j.worker === worker).sort((a, b) => a.start - b.start);
    for (let i = 1; i < own.length; i++) gaps.push(own[i].start - own[i - 1].end);
  }
  return gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : null;
}

/** Which worker ran a finished job, and when (BullMQ's processedOn / finishedOn). */
async function finishedJob(url: string, queueName: string, runId: string, g: Genome): Promise<{ worker: string; start: number; end: number }> {
  const connection = newRedisClient(url);
  const queue = new Queue(queueName, { connection, skipMetasUpdate: true });
  try {
    const job = (await Job.fromId(queue, jobIdFor(runId, space.id(g), trainingJobFor(context, g, space.id(g)))))!;
    return { worker: (job.returnvalue as { worker: string }).worker, start: job.processedOn!, end: job.finishedOn! };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

// Longest first, as the search orders a generation's training (fewer lanes idle at the end).
const measured = genomes.slice(0, CANDIDATES).sort((a, b) => space.cost(b).macs - space.cost(a).macs);
const warmUp = genomes.slice(CANDIDATES, CANDIDATES + WARM_UP);
const rows: Array<Record<string, string | number>> = [];
const never = new AbortController().signal;

for (const threads of [1, 2]) {
  const pool = new TrainingPool({ threads });
  const train = (g: Genome) => pool.run({ job: trainingJobFor(context, g, space.id(g)), dataSpec: config.data }, never, 3600);
  await timed(warmUp.slice(0, threads), threads, train);
  const { seconds, trainSeconds } = await timed(measured, threads, train);
  await pool.close();
  rows.push({
    setting: `local pool, ${threads} thread${threads > 1 ? 's' : ''}`,
    candidates: CANDIDATES,
    seconds,
    evaluations_per_hour: (CANDIDATES / seconds) * 3600,
    training_share: trainSeconds / (seconds * threads),
    gap_between_jobs_ms: '',
  });
  console.error(rows.at(-1));
}

const redis = await startRedis();
let overhead: { meanMs: number; meanProcessingMs: number; share: number } | null = null;
try {
  for (const n of [1, 2]) {
    const runId = (n === 1 ? 'a' : 'b').repeat(16);
    const runDir = join(scratch, `queue-${n}`);
    const trainer = await QueueTrainer.open({ ...context, runDir, runId, redisUrl: redis.url });
    const workers = startWorkers(redis.url, n);
    try {
      const train = (g: Genome) => trainer.train(g, space.id(g), never);
      // Warm every worker process (data load, wasm compile): repeat until each has done a job.
      const warmed = new Set<string>();
      for (let round = 0; warmed.size < n && round < 5; round++) {
        const batch = warmUp.slice(round * n, round * n + n);
        await timed(batch, n, train);
        for (const g of batch) warmed.add((await finishedJob(redis.url, trainer.queueName, runId, g)).worker);
      }
      if (warmed.size < n) throw new Error(`only ${warmed.size} of ${n} workers took a warm-up job`);
      const { seconds, trainSeconds } = await timed(measured, CANDIDATES, train);
      // Read before the next train() removes the collected jobs.
      const jobs = await Promise.all(measured.map((g) => finishedJob(redis.url, trainer.queueName, runId, g)));
      const gap = meanGapMs(jobs);
      rows.push({
        setting: `queue, ${n} worker process${n > 1 ? 'es' : ''}`,
        candidates: CANDIDATES,
        seconds,
        evaluations_per_hour: (CANDIDATES / seconds) * 3600,
        training_share: trainSeconds / (seconds * n),
        gap_between_jobs_ms: gap === null ? '' : gap,
      });
      console.error(rows.at(-1));
      if (n === 1) {
        // One job at a time: what the queue adds to each job beyond the worker's processing.
        const extra: number[] = [];
        const processing: number[] = [];
        for (const g of genomes.slice(CANDIDATES + WARM_UP)) {
          const started = performance.now();
          await trainer.train(g, space.id(g), never);
          const wall = performance.now() - started;
          const job = await finishedJob(redis.url, trainer.queueName, runId, g);
          extra.push(wall - (job.end - job.start));
          processing.push(job.end - job.start);
        }
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        overhead = { meanMs: mean(extra), meanProcessingMs: mean(processing), share: mean(extra) / mean(processing) };
        console.error({ overhead });
      }
    } finally {
      workers.forEach((w) => w.kill('SIGTERM'));
      await trainer.close(true);
    }
  }
} finally {
  redis.stop();
}

const local1 = Number(rows[0].evaluations_per_hour);
const queue1 = Number(rows[2].evaluations_per_hour);
for (const r of rows) {
  r.vs_local_1_thread = Number(r.evaluations_per_hour) / local1;
  r.vs_queue_1_worker = Number(r.evaluations_per_hour) / queue1;
}
console.log(`${CANDIDATES} candidates, ${IMAGES} images each (subset 2000 of the bundled sample), after a warm-up candidate per thread/worker`);
console.log('| setting | wall s | evaluations / hour | vs local 1 thread | vs 1 worker | lane time training | gap between a worker\'s jobs |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const gap = r.gap_between_jobs_ms === '' ? '' : `${Number(r.gap_between_jobs_ms).toFixed(0)} ms`;
  console.log(
    `| ${r.setting} | ${Number(r.seconds).toFixed(1)} | ${Number(r.evaluations_per_hour).toFixed(0)} | ${Number(r.vs_local_1_thread).toFixed(2)}× | ${Number(r.vs_queue_1_worker).toFixed(2)}× | ${(Number(r.training_share) * 100).toFixed(1)}% | ${gap} |`,
  );
}
if (overhead) {
  const o = overhead as { meanMs: number; meanProcessingMs: number; share: number };
  console.log(`\nqueue overhead per job (${OVERHEAD_JOBS} jobs one at a time): ${o.meanMs.toFixed(0)} ms over ${o.meanProcessingMs.toFixed(0)} ms of worker processing (${(o.share * 100).toFixed(2)}%)`);
}
writeFileSync(join(out, 'distributed.csv'), stringify(rows, { header: true }));
writeFileSync(join(out, 'distributed.json'), JSON.stringify({ date: new Date().toISOString(), candidates: CANDIDATES, images: IMAGES, rows, overhead }, null, 2));
console.error(`wrote ${join(out, 'distributed.csv')} and distributed.json`);
