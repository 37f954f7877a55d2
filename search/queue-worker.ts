/**
 * `nas worker`'s engine: watches Redis for the queues of runs in progress
 * and trains their jobs in a pool of threads that runs the same function as
 * the search's local pool (train/training-job.ts). A listed run whose
 * coordinator's alive key has expired (killed, not resumed) is not watched
 * and is unlisted (queue-protocol.ts: liveRuns). Each job is validated
 * before anything is built (a bad payload fails at once, unretried, naming
 * the field); its queue protocol must be this worker's and its data this
 * worker's data (content hash), else the job goes back to the queue
 * untouched (the fault is this worker's, not the candidate's: no attempt is
 * used) and the worker stops, since every later job would be refused too.
 * Teacher logits come from Redis by content hash into the local cache.
 * A SIGKILLed worker's job is handed to another worker by BullMQ's stalled-
 * job check: within lockDuration + stalledInterval (60 s by default).
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BackendName } from '../train/backend.js';
import { DATASET_ALIASES, loadDataset } from '../train/datasets/load.js';
import { DatasetError } from '../train/datasets/errors.js';
import { datasetContentHash, TrainingJobError } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';
import { DEFAULT_MAX_RESULT_BYTES, encodeResult, ensureTeacher, liveRuns, parseQueuedJob, QueueProtocolError, type QueuedResult } from './queue-protocol.js';
import { connectRedis, newRedisClient, redactRedisUrl } from './redis-connection.js';

/** How often the set of runs in progress is read. */
export const DISCOVERY_INTERVAL_MS = 2000;
/** BullMQ's defaults, stated: a killed worker's job is back in the queue within their sum. */
export const DEFAULT_LOCK_DURATION_MS = 30_000;
export const DEFAULT_STALLED_INTERVAL_MS = 30_000;

export interface QueueWorkerOptions {
  redisUrl: string;
  /** Candidates trained at once (threads), per run. @default 1 */
  concurrency?: number;
  /** This machine's copy of the search's data (alias or path). @default the job's data when it is a built-in name */
  dataSpec?: string;
  /** Write candidates' files here instead of sending them through Redis (the search must see the same directory). */
  sharedDir?: string;
  /** `nas --backend`; a job asking for a backend of its own wins. @default 'auto' */
  backend?: BackendName | 'auto';
  /** @default DEFAULT_MAX_RESULT_BYTES */
  maxResultBytes?: number;
  /** How long a job's lock lasts without renewal (a killed worker's job waits this long). @default 30000 */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers. @default 30000 */
  stalledIntervalMs?: number;
  /** Training thread entry (tests). */
  trainWorkerFile?: string;
  onEvent?: (event: QueueWorkerEvent) => void;
}

export type QueueWorkerEvent =
  | { kind: 'ready'; redis: string; data: string | null; contentHash: string | null }
  | { kind: 'watching'; queue: string }
  /** This worker unlisted a run whose coordinator has not refreshed its key within the TTL. */
  | { kind: 'unlisted'; queue: string }
  /** No more jobs are taken from a run that finished or was unlisted (its jobs in progress have finished). */
  | { kind: 'unwatched'; queue: string }
  | { kind: 'started'; queue: string; jobId: string; candidate: string }
  | { kind: 'completed'; queue: string; jobId: string; candidate: string; accuracy: number; seconds: number }
  | { kind: 'failed'; queue: string; jobId: string; error: string }
  | { kind: 'refused'; error: Error };

export class QueueWorker {
  readonly name = `${hostname()}:${process.pid}`;
  /** The BullMQ worker of each watched queue, with its connection (BullMQ does not close connections it was handed). */
  readonly #workers = new Map<string, { worker: Worker; connection: Redis }>();
  /** Queues no longer watched whose jobs in progress are still finishing. */
  readonly #retiring = new Set<Promise<void>>();
  readonly #pool: TrainingPool;
  readonly #hashes = new Map<string, string>();
  readonly #discovery: NodeJS.Timeout;
  #closing: Promise<void> | null = null;
  #refusal: Error | null = null;
  readonly #stopped: Promise<Error | null>;
  #resolveStopped!: (refusal: Error | null) => void;

  private constructor(
    private readonly o: QueueWorkerOptions,
    private readonly client: Redis,
  ) {
    this.#pool = new TrainingPool({ threads: o.concurrency ?? 1, workerFile: o.trainWorkerFile });
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.#discovery = setInterval(() => void this.#discover().catch(() => {}), DISCOVERY_INTERVAL_MS);
  }

  /** Connects (refusing a Redis without AOF and noeviction), hashes this worker's data, and starts watching. */
  static async start(o: QueueWorkerOptions): Promise<QueueWorker> {
    let contentHash: string | null = null;
    // Load the data first: a wrong path fails before anything connects.
    if (o.dataSpec !== undefined) contentHash = datasetContentHash(loadDataset(o.dataSpec));
    const client = await connectRedis(o.redisUrl, '--redis');
    const worker = new QueueWorker(o, client);
    if (o.dataSpec !== undefined && contentHash) worker.#hashes.set(o.dataSpec, contentHash);
    o.onEvent?.({ kind: 'ready', redis: redactRedisUrl(o.redisUrl), data: o.dataSpec ?? null, contentHash });
    await worker.#discover();
    return worker;
  }

  /** Resolves when the worker has stopped: null after close(), the error after it refused the search's data. */
  stopped(): Promise<Error | null> {
    return this.#stopped;
  }

  async #discover(): Promise<void> {
    if (this.#closing) return;
    const { live: queues, unlisted } = await liveRuns(this.client);
    for (const queue of unlisted) this.o.onEvent?.({ kind: 'unlisted', queue });
    // A run that finished left the set, an abandoned one was unlisted: stop watching its queue.
    for (const [queue, watched] of this.#workers) {
      if (!queues.includes(queue)) {
        this.#workers.delete(queue);
        const retiring = watched.worker
          .close()
          .then(() => this.o.onEvent?.({ kind: 'unwatched', queue }))
          .finally(() => {
            watched.connection.disconnect();
            this.#retiring.delete(retiring);
          });
        this.#retiring.add(retiring);
      }
    }
    for (const queue of queues) {
      if (this.#workers.has(queue) || this.#closing) continue;
      const connection = newRedisClient(this.o.redisUrl);
      const worker = new Worker(queue, (job: Job, token?: string) => this.#process(queue, job, token), {
        connection,
        concurrency: this.o.concurrency ?? 1,
        lockDuration: this.o.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
        stalledInterval: this.o.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
        maxStalledCount: 2,
        name: this.name,
      });
      worker.on('error', () => {});
      // Reported once BullMQ has recorded the result (a worker that lost its lock has not).
      worker.on('completed', (job, result: QueuedResult) => {
        const seconds = job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
        this.o.onEvent?.({ kind: 'completed', queue, jobId: job.id ?? '?', candidate: result.id, accuracy: result.accuracy, seconds });
      });
      worker.on('failed', (job, error) => {
        if (job) this.o.onEvent?.({ kind: 'failed', queue, jobId: job.id ?? '?', error: error.message });
      });
      this.#workers.set(queue, { worker, connection });
      this.o.onEvent?.({ kind: 'watching', queue });
    }
  }

  /** The BullMQ processor: validate, check the data, fetch the teacher, train in the pool, send the result. */
  async #process(queue: string, job: Job, token: string | undefined): Promise<QueuedResult> {
    let queued;
    try {
      queued = parseQueuedJob(job.data, `job ${job.id}`);
    } catch (error) {
      // Another version's job may be a good one: a worker of that version trains it.
      if (error instanceof QueueProtocolError) return this.#refuse(job, token, error);
      // A payload that is not a job never becomes one: no retries.
      if (error instanceof TrainingJobError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const { training } = queued;
    const dataSpec = this.o.dataSpec ?? training.data.name;
    if (this.o.dataSpec === undefined && !(dataSpec in DATASET_ALIASES)) {
      return this.#refuse(job, token, new DatasetError('--data', `the search's data is '${training.data.name}', not a built-in name: start this worker with --data <its copy of that data>`));
    }
    let hash = this.#hashes.get(dataSpec);
    if (!hash) {
      hash = datasetContentHash(loadDataset(dataSpec));
      this.#hashes.set(dataSpec, hash);
    }
    if (hash !== training.data.contentHash) {
      return this.#refuse(
        job,
        token,
        new DatasetError(
          dataSpec,
          `this worker's data (content hash ${hash}) is not the search's data '${training.data.name}' (content hash ${training.data.contentHash}); start the worker with --data <the search's data>`,
        ),
      );
    }
    if (training.teacherKey) await ensureTeacher(this.client, training.teacherKey);
    const backend = training.backend === 'auto' ? (this.o.backend ?? 'auto') : training.backend;
    const candidate = job.id?.split('_')[1] ?? '?';
    this.o.onEvent?.({ kind: 'started', queue, jobId: job.id ?? '?', candidate });
    const result = await this.#pool.run({ job: { ...training, backend }, dataSpec }, new AbortController().signal, queued.timeLimitSeconds);
    return encodeResult(result, { worker: this.name, queueName: queue, sharedDir: this.o.sharedDir, maxBytes: this.o.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES });
  }

  /**
   * Gives the job back to the queue as it was (no attempt used: the fault is
   * this worker's, another worker trains it) and stops taking jobs.
   */
  async #refuse(job: Job, token: string | undefined, error: Error): Promise<never> {
    if (!this.#refusal) {
      this.#refusal = error;
      this.o.onEvent?.({ kind: 'refused', error });
      // Closing at once takes no further job; close() waits for this one to be given back.
      void this.close();
    }
    await job.moveToWait(token);
    // Tells BullMQ the job was moved (not failed): no attempt counted, no retry delay.
    throw new WaitingError();
  }

  /** Stops: jobs in progress finish first (up to BullMQ's close), then the pool and connections close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#discovery);
      await Promise.allSettled([...[...this.#workers.values()].map((w) => w.worker.close()), ...this.#retiring]);
      await this.#pool.close();
      for (const { connection } of this.#workers.values()) connection.disconnect();
      this.client.disconnect();
      this.#resolveStopped(this.#refusal);
    })();
    return this.#closing;
  }
}
