/**
 * A coordinator's side of a queue, for every kind of job: `JobQueue` adds
 * jobs under ids the caller derives from what they train (adding one again
 * is a no-op, so a resumed coordinator finds its jobs), waits for the
 * `nas worker`s to finish them (events to wake up early, polling besides, a
 * job Redis lost added again), and keeps the queue listed and alive. The
 * stage that owns the jobs (search/queue-evaluator.ts,
 * finalize/final-queue-trainer.ts) builds the payloads and reads the results.
 * A collected job is removed once the caller has kept its result (at the
 * next add or at close()), so Redis holds only results not yet collected.
 *
 * Liveness: while open, the coordinator refreshes its queue's alive key
 * (queue-runs.ts: refreshRun) every TTL / RUN_REFRESHES_PER_TTL. A
 * coordinator killed and never resumed stops refreshing; once the key has
 * expired, workers stop taking its jobs and unlist the queue. A resumed
 * coordinator lists it again and the jobs left are trained.
 */
import { hostname } from 'node:os';
import { Job, Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_RUN_TTL_SECONDS, EVENTS_MAX_LEN, JOB_ATTEMPTS, publishTeacher, refreshRun, RUN_REFRESHES_PER_TTL, unlistRun } from './queue-runs.js';
import { connectRedis, newRedisClient, redactRedisUrl } from './redis-connection.js';

/** How often waiting jobs are looked at besides the queue's events (which a Redis restart may drop). */
export const JOB_POLL_MS = 1000;

export interface JobQueueOptions {
  /** queue-runs.ts: queueNameFor. */
  queueName: string;
  redisUrl: string;
  /** The flag or field the URL came from, for connection errors. @default 'redis' */
  source?: string;
  /** How long the queue stays listed after this coordinator was last heard from. @default DEFAULT_RUN_TTL_SECONDS */
  ttlSeconds?: number;
  /** Teacher logits the jobs distil from, published to Redis for the workers. */
  teacherKey?: string | null;
}

/** A job that is over: its return value, or why it failed all its attempts. */
export type SettledJob = { state: 'completed'; value: unknown } | { state: 'failed'; reason: string };

interface Waiter {
  jobId: string;
  check: () => void;
}

export class JobQueue {
  readonly queueName: string;
  /** The coordinator's own client: liveness, and the keys a stage keeps beside its jobs (checkpoints). */
  readonly client: Redis;
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #waiters = new Set<Waiter>();
  readonly #collected: string[] = [];
  /** The adds so far, chained: jobs enter the queue in the order they were added. */
  #adding: Promise<unknown> = Promise.resolve();
  readonly #poll: NodeJS.Timeout;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #ttlMs: number;
  /** BullMQ does not close connections it was handed: they are closed here. */
  readonly #clients: Redis[];

  private constructor(
    private readonly o: JobQueueOptions,
    client: Redis,
  ) {
    this.client = client;
    this.queueName = o.queueName;
    this.#clients = [newRedisClient(o.redisUrl, o.source), newRedisClient(o.redisUrl, o.source)];
    this.#queue = new Queue(this.queueName, { connection: this.#clients[0], streams: { events: { maxLen: EVENTS_MAX_LEN } } });
    this.#events = new QueueEvents(this.queueName, { connection: this.#clients[1] });
    const wake = ({ jobId }: { jobId: string }) => {
      for (const w of this.#waiters) if (w.jobId === jobId) w.check();
    };
    this.#events.on('completed', wake);
    this.#events.on('failed', wake);
    this.#poll = setInterval(() => this.#waiters.forEach((w) => w.check()), JOB_POLL_MS);
    this.#ttlMs = (o.ttlSeconds ?? DEFAULT_RUN_TTL_SECONDS) * 1000;
    // Redis unreachable for now: the next refresh tries again (workers keep the queue until the key expires).
    this.#heartbeat = setInterval(() => void this.#refresh().catch(() => {}), this.#ttlMs / RUN_REFRESHES_PER_TTL);
  }

  #refresh(): Promise<void> {
    return refreshRun(this.client, this.queueName, this.#ttlMs, `${hostname()}:${process.pid}`);
  }

  /** Connects (refusing a Redis without AOF and noeviction), publishes the teacher logits and lists the queue (alive). */
  static async open(o: JobQueueOptions): Promise<JobQueue> {
    const client = await connectRedis(o.redisUrl, o.source ?? 'redis');
    let queue: JobQueue | null = null;
    try {
      if (o.teacherKey) await publishTeacher(client, o.teacherKey);
      queue = new JobQueue(o, client);
      await queue.#refresh();
      await queue.#events.waitUntilReady();
      return queue;
    } catch (error) {
      if (queue) await queue.close();
      else client.disconnect();
      throw error;
    }
  }

  /** Where this queue is, for the log. */
  describe(): string {
    return `queue ${this.queueName} on ${redactRedisUrl(this.o.redisUrl)}`;
  }

  /**
   * Adds job `jobId` (after the adds before it; a no-op when it is there
   * already) and resolves when it has completed or failed all its attempts.
   */
  async run(name: string, jobId: string, payload: object, signal: AbortSignal, options: JobsOptions = {}): Promise<SettledJob> {
    const add = () =>
      this.#queue.add(name, payload, { jobId, attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false, ...options });
    const added = this.#adding.then(async () => {
      await this.#removeCollected();
      await add();
    });
    this.#adding = added.catch(() => {});
    await added;
    return this.#settled(jobId, signal, add);
  }

  /** The job's result has been kept: it is removed from Redis at the next add or at close(). */
  collected(jobId: string): void {
    this.#collected.push(jobId);
  }

  /** Calls `listener` with what a worker reports of a job in progress (BullMQ job progress); events a Redis restart drops are lost. */
  onProgress(listener: (jobId: string, data: unknown) => void): void {
    this.#events.on('progress', ({ jobId, data }) => listener(jobId, data));
  }

  /** Resolves when the job is completed or has failed all its attempts; re-adds it if Redis lost it. */
  #settled(jobId: string, signal: AbortSignal, add: () => Promise<unknown>): Promise<SettledJob> {
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

  async #look(jobId: string, add: () => Promise<unknown>): Promise<SettledJob | null> {
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
   * Stops waiting. With `finished` (the work ended, not interrupted) the
   * queue is unlisted and emptied; otherwise its jobs stay for a resume.
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
      }
    } finally {
      await Promise.allSettled([this.#events.close(), this.#queue.close()]);
      for (const c of this.#clients) c.disconnect();
      this.client.disconnect();
    }
  }
}
