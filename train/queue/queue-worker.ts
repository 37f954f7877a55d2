/**
 * `nas worker`'s engine, for every kind of job: watches Redis for the queues
 * in progress (a search's, a finalization's) and hands each job to the
 * handler of its kind (the BullMQ job name: `train` for a search's
 * candidate, `finalize` for a finalized model). The handlers live with the
 * stage that queues the jobs (search/queue-job-handler.ts,
 * finalize/final-job-handler.ts) and `cli/worker.ts` passes them in, so this
 * layer knows neither stage.
 *
 * A listed queue whose coordinator's alive key has expired (killed, not
 * resumed) is not watched and is unlisted (queue-runs.ts: liveRuns). Every
 * job's queue protocol is checked before its handler sees it, and its data
 * must be this worker's data (content hash): else the job goes back to the
 * queue untouched (the fault is this worker's, not the job's: no attempt is
 * used) and the worker stops, since every later job would be refused too. A
 * payload that is not a job (TrainingJobError) fails at once, unretried.
 * A SIGKILLed worker's job is handed to another worker by BullMQ's stalled-
 * job check: within lockDuration + stalledInterval (60 s by default).
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { FifoSlots } from '../../fifo-slots.js';
import type { BackendName } from '../backend.js';
import { DATASET_ALIASES, loadDataset } from '../datasets/load.js';
import { DatasetError } from '../datasets/errors.js';
import { datasetContentHash, TrainingJobError } from '../training-job.js';
import { checkQueueProtocol, DEFAULT_MAX_RESULT_BYTES, liveRuns, QueueProtocolError } from './queue-runs.js';
import { connectRedis, newRedisClient, redactRedisUrl } from './redis-connection.js';

/** How often the set of queues in progress is read. */
export const DISCOVERY_INTERVAL_MS = 2000;
/** BullMQ's defaults, stated: a killed worker's job is back in the queue within their sum. */
export const DEFAULT_LOCK_DURATION_MS = 30_000;
export const DEFAULT_STALLED_INTERVAL_MS = 30_000;

/** What a handler gets to process one job. */
export interface QueueJobContext {
  queue: string;
  job: Job;
  /** The worker's Redis client: teacher logits, checkpoints. */
  client: Redis;
  /** This worker's name (host:pid), recorded in results. */
  worker: string;
  /** `nas --backend` of this worker; a job asking for a backend of its own wins. */
  backend: BackendName | 'auto';
  sharedDir?: string;
  maxResultBytes: number;
  /**
   * This machine's copy of the coordinator's data (its name and content
   * hash, from the job): `--data`, or the name when it is built in. When it
   * is not the same data the job goes back to the queue and the worker stops.
   */
  dataSpecFor(data: { name: string; contentHash: string }): Promise<string>;
  /** Reports the job started (after its checks, right before it trains): `training <subject> (<job id>)`. */
  started(): void;
  /** A line for the worker's log. */
  note(line: string): void;
}

/** How one kind of job is trained; its stage implements it, `cli/worker.ts` registers it by job name. */
export interface QueueJobHandler {
  /** Who queues this kind of job, for messages: `search`, `finalization`. */
  readonly coordinator: string;
  /** What a job is about, for the log (a candidate id, a model's name). */
  subject(job: Job): string;
  /**
   * Validates the payload (a TrainingJobError, naming the field, when it is
   * not a job), trains, and returns the result BullMQ stores.
   */
  process(context: QueueJobContext): Promise<unknown>;
  /** The log's figures of a returned result. */
  summary(result: unknown): { subject: string; accuracy: number };
  /** Frees what the handler holds (its training threads). */
  close(): Promise<void>;
}

export interface QueueWorkerOptions {
  redisUrl: string;
  /** The handler of each job name. */
  handlers: Readonly<Record<string, QueueJobHandler>>;
  /** Jobs trained at once, of every queue and kind together (each handler's threads). @default 1 */
  concurrency?: number;
  /** This machine's copy of the coordinator's data (alias or path). @default the job's data when it is a built-in name */
  dataSpec?: string;
  /** Write models' files here instead of sending them through Redis (the coordinator must see the same directory). */
  sharedDir?: string;
  /** `nas --backend`; a job asking for a backend of its own wins. @default 'auto' */
  backend?: BackendName | 'auto';
  /** @default DEFAULT_MAX_RESULT_BYTES */
  maxResultBytes?: number;
  /** How long a job's lock lasts without renewal (a killed worker's job waits this long). @default 30000 */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers. @default 30000 */
  stalledIntervalMs?: number;
  onEvent?: (event: QueueWorkerEvent) => void;
}

export type QueueWorkerEvent =
  | { kind: 'ready'; redis: string; data: string | null; contentHash: string | null }
  | { kind: 'watching'; queue: string }
  /** This worker unlisted a queue whose coordinator has not refreshed its key within the TTL. */
  | { kind: 'unlisted'; queue: string }
  /** No more jobs are taken from a queue that finished or was unlisted (its jobs in progress have finished). */
  | { kind: 'unwatched'; queue: string }
  | { kind: 'started'; queue: string; jobId: string; subject: string }
  /** A handler's line about a job in progress (an epoch checkpointed, a resume). */
  | { kind: 'note'; queue: string; jobId: string; line: string }
  | { kind: 'completed'; queue: string; jobId: string; subject: string; accuracy: number; seconds: number }
  | { kind: 'failed'; queue: string; jobId: string; error: string }
  | { kind: 'refused'; error: Error };

export class QueueWorker {
  readonly name = `${hostname()}:${process.pid}`;
  /** The BullMQ worker of each watched queue, with its connection (BullMQ does not close connections it was handed). */
  readonly #workers = new Map<string, { worker: Worker; connection: Redis }>();
  /** Queues no longer watched whose jobs in progress are still finishing. */
  readonly #retiring = new Set<Promise<void>>();
  readonly #hashes = new Map<string, string>();
  /** `concurrency` jobs at once across queues and kinds: a search's and a finalization's together do not overload the machine. */
  readonly #slots: FifoSlots;
  readonly #discovery: NodeJS.Timeout;
  #closing: Promise<void> | null = null;
  #refusal: Error | null = null;
  readonly #stopped: Promise<Error | null>;
  #resolveStopped!: (refusal: Error | null) => void;

  private constructor(
    private readonly o: QueueWorkerOptions,
    private readonly client: Redis,
  ) {
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.#slots = new FifoSlots(o.concurrency ?? 1);
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

  /** Resolves when the worker has stopped: null after close(), the error after it refused a coordinator's data or protocol. */
  stopped(): Promise<Error | null> {
    return this.#stopped;
  }

  async #discover(): Promise<void> {
    if (this.#closing) return;
    const { live: queues, unlisted } = await liveRuns(this.client);
    for (const queue of unlisted) this.o.onEvent?.({ kind: 'unlisted', queue });
    // A queue whose work finished left the set, an abandoned one was unlisted: stop watching it.
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
      worker.on('completed', (job, result: unknown) => {
        const handler = this.o.handlers[job.name];
        if (!handler) return;
        const seconds = job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
        this.o.onEvent?.({ kind: 'completed', queue, jobId: job.id ?? '?', ...handler.summary(result), seconds });
      });
      worker.on('failed', (job, error) => {
        if (job) this.o.onEvent?.({ kind: 'failed', queue, jobId: job.id ?? '?', error: error.message });
      });
      this.#workers.set(queue, { worker, connection });
      this.o.onEvent?.({ kind: 'watching', queue });
    }
  }

  /** The BullMQ processor: check the protocol, then the job's handler validates, trains and returns the result. */
  async #process(queue: string, job: Job, token: string | undefined): Promise<unknown> {
    const handler = Object.hasOwn(this.o.handlers, job.name) ? this.o.handlers[job.name] : undefined;
    const source = `job ${job.id}`;
    try {
      checkQueueProtocol(job.data, source, handler?.coordinator);
    } catch (error) {
      // Another version's job may be a good one: a worker of that version trains it.
      if (error instanceof QueueProtocolError) return this.#refuse(job, token, error);
      throw error;
    }
    if (!handler) throw new UnrecoverableError(`${source}: '${job.name}' is not a kind of job this worker trains (${Object.keys(this.o.handlers).join(', ')})`);
    const jobId = job.id ?? '?';
    try {
      const context: QueueJobContext = {
        queue,
        job,
        client: this.client,
        worker: this.name,
        backend: this.o.backend ?? 'auto',
        sharedDir: this.o.sharedDir,
        maxResultBytes: this.o.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
        dataSpecFor: (data) => this.#dataSpecFor(data, handler.coordinator, job, token),
        started: () => this.o.onEvent?.({ kind: 'started', queue, jobId, subject: handler.subject(job) }),
        note: (line) => this.o.onEvent?.({ kind: 'note', queue, jobId, line }),
      };
      return await this.#slots.run(() => handler.process(context));
    } catch (error) {
      // A payload that is not a job never becomes one: no retries.
      if (error instanceof TrainingJobError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  /** This machine's copy of a job's data; refuses the job (see the file comment) when it has none or other data. */
  async #dataSpecFor(data: { name: string; contentHash: string }, coordinator: string, job: Job, token: string | undefined): Promise<string> {
    const dataSpec = this.o.dataSpec ?? data.name;
    if (this.o.dataSpec === undefined && !(dataSpec in DATASET_ALIASES)) {
      return this.#refuse(job, token, new DatasetError('--data', `the ${coordinator}'s data is '${data.name}', not a built-in name: start this worker with --data <its copy of that data>`));
    }
    let hash = this.#hashes.get(dataSpec);
    if (!hash) {
      hash = datasetContentHash(loadDataset(dataSpec));
      this.#hashes.set(dataSpec, hash);
    }
    if (hash !== data.contentHash) {
      return this.#refuse(
        job,
        token,
        new DatasetError(
          dataSpec,
          `this worker's data (content hash ${hash}) is not the ${coordinator}'s data '${data.name}' (content hash ${data.contentHash}); start the worker with --data <the ${coordinator}'s data>`,
        ),
      );
    }
    return dataSpec;
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

  /** Stops: jobs in progress finish first (up to BullMQ's close), then the handlers and connections close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#discovery);
      await Promise.allSettled([...[...this.#workers.values()].map((w) => w.worker.close()), ...this.#retiring]);
      await Promise.allSettled(Object.values(this.o.handlers).map((h) => h.close()));
      for (const { connection } of this.#workers.values()) connection.disconnect();
      this.client.disconnect();
      this.#resolveStopped(this.#refusal);
    })();
    return this.#closing;
  }
}
