/**
 * The coordinator's side of distributed training: `QueueTrainer` trains
 * candidates by adding BullMQ jobs to the run's queue and waiting for the
 * `nas worker`s to finish them. The journal stays the one source of truth:
 * job ids come from (run, candidate, budget), so a resumed coordinator adds
 * the same ids again (a no-op) and collects what finished while it was down.
 * A collected job is removed once the engine has journaled it (at the next
 * train() or close()), so Redis holds only results not yet collected.
 *
 * Liveness: while open, the coordinator refreshes its run's alive key
 * (queue-protocol.ts: refreshRun) every TTL / RUN_REFRESHES_PER_TTL. A
 * coordinator killed and never resumed stops refreshing; once the key has
 * expired, workers stop taking its jobs and unlist the run. A resumed
 * coordinator lists it again and the jobs left are trained.
 */
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Genome } from '../space/types.js';
import { keepTrainingResult, previousRungCheckpoint, trainingJobFor, type TrainingContext } from './evaluators.js';
import {
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_RUN_TTL_SECONDS,
  decodeResult,
  EVENTS_MAX_LEN,
  JOB_ATTEMPTS,
  jobIdFor,
  publishTeacher,
  queuedJobFor,
  queueNameFor,
  refreshRun,
  RUN_REFRESHES_PER_TTL,
  unlistRun,
} from './queue-protocol.js';
import { connectRedis, newRedisClient, redactRedisUrl } from './redis-connection.js';
import type { CandidateTrainer, RungBudget, TrainingOutcome } from './types.js';

/** How often waiting jobs are looked at besides the queue's events (which a Redis restart may drop). */
export const JOB_POLL_MS = 1000;

export interface QueueTrainerOptions extends TrainingContext {
  runDir: string;
  /** The run's id (config.json): names its queue. */
  runId: string;
  redisUrl: string;
  /** The directory workers write candidates' files to (same path on every machine). @default files come back through Redis */
  sharedDir?: string;
  /** @default DEFAULT_MAX_RESULT_BYTES */
  maxResultBytes?: number;
}

interface Waiter {
  jobId: string;
  check: () => void;
}

export class QueueTrainer implements CandidateTrainer {
  readonly queueName: string;
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #waiters = new Set<Waiter>();
  readonly #collected: string[] = [];
  /** The adds so far, chained: jobs enter the queue in the order train() was called (the search's longest-first order). */
  #adding: Promise<unknown> = Promise.resolve();
  readonly #poll: NodeJS.Timeout;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #ttlMs: number;
  /** BullMQ does not close connections it was handed: they are closed here. */
  readonly #clients: Redis[];

  private constructor(
    private readonly o: QueueTrainerOptions,
    private readonly client: Redis,
  ) {
    this.queueName = queueNameFor(o.runId);
    this.#clients = [newRedisClient(o.redisUrl), newRedisClient(o.redisUrl)];
    this.#queue = new Queue(this.queueName, { connection: this.#clients[0], streams: { events: { maxLen: EVENTS_MAX_LEN } } });
    this.#events = new QueueEvents(this.queueName, { connection: this.#clients[1] });
    const wake = ({ jobId }: { jobId: string }) => {
      for (const w of this.#waiters) if (w.jobId === jobId) w.check();
    };
    this.#events.on('completed', wake);
    this.#events.on('failed', wake);
    this.#poll = setInterval(() => this.#waiters.forEach((w) => w.check()), JOB_POLL_MS);
    this.#ttlMs = (o.config.redisRunTtl ?? DEFAULT_RUN_TTL_SECONDS) * 1000;
    // Redis unreachable for now: the next refresh tries again (workers keep the run until the key expires).
    this.#heartbeat = setInterval(() => void this.#refresh().catch(() => {}), this.#ttlMs / RUN_REFRESHES_PER_TTL);
  }

  #refresh(): Promise<void> {
    return refreshRun(this.client, this.queueName, this.#ttlMs, `${hostname()}:${process.pid}`);
  }

  /** Connects (refusing a Redis without AOF and noeviction), publishes the teacher logits and lists the run (alive). */
  static async open(o: QueueTrainerOptions): Promise<QueueTrainer> {
    const client = await connectRedis(o.redisUrl, 'redis');
    let trainer: QueueTrainer | null = null;
    try {
      if (o.teacherKey) await publishTeacher(client, o.teacherKey);
      trainer = new QueueTrainer(o, client);
      await trainer.#refresh();
      await trainer.#events.waitUntilReady();
      return trainer;
    } catch (error) {
      if (trainer) await trainer.close();
      else client.disconnect();
      throw error;
    }
  }

  /** Where this trainer sends jobs, for the log. */
  describe(): string {
    return `queue ${this.queueName} on ${redactRedisUrl(this.o.redisUrl)}`;
  }

  async train(genome: Genome, id: string, signal: AbortSignal, rung?: RungBudget): Promise<TrainingOutcome> {
    const training = trainingJobFor(this.o, genome, id, rung, previousRungCheckpoint(this.o.runDir, id, rung));
    const jobId = jobIdFor(this.o.runId, id, training);
    const payload = queuedJobFor(training, this.o.config.training.timeLimit);
    const add = () =>
      this.#queue.add('train', payload, { jobId, attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
    const added = this.#adding.then(async () => {
      await this.#removeCollected();
      await add();
    });
    this.#adding = added.catch(() => {});
    await added;
    const job = await this.#settled(jobId, signal, add);
    if (job.state === 'failed') throw new Error(job.reason);
    const result = decodeResult(job.value, {
      source: `job ${jobId}`,
      queueName: this.queueName,
      sharedDir: this.o.sharedDir,
      maxBytes: this.o.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
    });
    const outcome = keepTrainingResult(this.o.runDir, id, result);
    this.#collected.push(jobId);
    return outcome;
  }

  /** Resolves when the job is completed or has failed all its attempts; re-adds it if Redis lost it. */
  #settled(jobId: string, signal: AbortSignal, add: () => Promise<unknown>): Promise<{ state: 'completed'; value: unknown } | { state: 'failed'; reason: string }> {
    return new Promise((resolve, reject) => {
      let busy = false;
      const waiter: Waiter = {
        jobId,
        check: () => {
          if (busy) return;
          busy = true;
          this.#look(jobId, add)
            .then((settled) => {
              if (settled) finish(() => resolve(settled));
            })
            // Redis unreachable for now: the next poll tries again.
            .catch(() => {})
            .finally(() => {
              busy = false;
            });
        },
      };
      const onAbort = () => finish(() => reject(signal.reason ?? new Error('aborted')));
      const finish = (then: () => void) => {
        this.#waiters.delete(waiter);
        signal.removeEventListener('abort', onAbort);
        then();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort);
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  async #look(jobId: string, add: () => Promise<unknown>): Promise<{ state: 'completed'; value: unknown } | { state: 'failed'; reason: string } | null> {
    const state = await this.#queue.getJobState(jobId);
    if (state === 'unknown') {
      await add();
      return null;
    }
    if (state !== 'completed' && state !== 'failed') return null;
    // Read once it is finished (finishing is atomic and final): the result, up to megabytes, crosses the network once.
    const done = await Job.fromId(this.#queue, jobId);
    if (!done) return null;
    return state === 'completed' ? { state, value: done.returnvalue } : { state, reason: done.failedReason || 'the job failed without a reason' };
  }

  async #removeCollected(): Promise<void> {
    for (const jobId of this.#collected.splice(0)) {
      await this.#queue.remove(jobId).catch(() => {});
    }
  }

  /**
   * Stops waiting. With `finished` (the run ended, not interrupted) the
   * run is unlisted, its queue emptied and its `--shared-dir` files removed;
   * otherwise its jobs stay for a resume.
   */
  async close(finished = false): Promise<void> {
    clearInterval(this.#poll);
    // Interrupted: the key is left to expire, so workers finish the jobs queued for up to the TTL, ready for a resume.
    clearInterval(this.#heartbeat);
    try {
      await this.#removeCollected();
      if (finished) {
        await unlistRun(this.client, this.queueName);
        await this.#queue.obliterate({ force: true });
        // Every candidate's files are in the run directory now; the shared copies are not needed.
        if (this.o.sharedDir) rmSync(join(this.o.sharedDir, this.queueName), { recursive: true, force: true });
      }
    } finally {
      await Promise.allSettled([this.#events.close(), this.#queue.close()]);
      for (const c of this.#clients) c.disconnect();
      this.client.disconnect();
    }
  }
}
