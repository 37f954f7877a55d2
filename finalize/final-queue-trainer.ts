/**
 * `nas finalize --redis`: the finalization's side of the queue.
 * `FinalQueueTrainer` trains each model of the plan by adding a job to the
 * run's finalize queue (`nas-final-<run id>`, train/queue/job-queue.ts) and
 * waiting for a `nas worker` to finish it (final-job-handler.ts). Job ids
 * come from the model and everything it trains with, so a resumed
 * finalization adds the same ids again (a no-op) and collects what finished
 * meanwhile.
 *
 * Checkpoints: a model's checkpoint in final/<id>/ (a local finalization
 * that was stopped) goes to Redis before its job is added, so that the
 * worker continues from it; the checkpoint the workers keep in Redis after
 * every epoch comes back into final/<id>/ as the workers report each epoch,
 * so that a finalization can be resumed with or without --redis and loses at
 * most one epoch of a model either way. The finished model's files are
 * written into final/<id>/ as a local finalization writes them, record.json
 * last.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../space/candidate-files.js';
import { CHECKPOINT_FILE, readCheckpoint } from '../train/checkpoint.js';
import { JobQueue } from '../train/queue/job-queue.js';
import { receiveFiles } from '../train/queue/queue-files.js';
import { DEFAULT_MAX_RESULT_BYTES, queueNameFor } from '../train/queue/queue-runs.js';
import { QueueError } from '../train/queue/redis-url.js';
import type { FinalTrainer } from './final-pool.js';
import {
  dropCheckpoint,
  FINAL_FILE_NAMES,
  FINALIZE_COORDINATOR,
  FINALIZE_JOB_NAME,
  finalJobFor,
  finalJobIdFor,
  finalResultSchema,
  loadCheckpoint,
  parseFinalRecord,
  sharedFinalDir,
  storeCheckpoint,
} from './final-queue-protocol.js';
import { recipeHash } from './recipe.js';
import { PROGRESS_FILE, RECORD_FILE, type FinalTrainTask } from './train-final.js';
import type { FinalizeEvent, FinalRecord } from './types.js';

export interface FinalQueueOptions {
  /** The run's id: names its finalize queue. */
  runId: string;
  redisUrl: string;
  /** The directory workers write models' files to (same path on every machine). @default files come back through Redis */
  sharedDir?: string;
  /** @default DEFAULT_MAX_RESULT_BYTES */
  maxResultBytes?: number;
  /** How long the queue stays listed after this finalization was last heard from. @default DEFAULT_RUN_TTL_SECONDS */
  ttlSeconds?: number;
  /** Teacher logits the models distil from, published for the workers. */
  teacherKey: string | null;
  /** The run's data: its name (or path), content hash and image resolution (baselines are built for it). */
  data: { name: string; contentHash: string; resolution: number };
}

// What a worker reports of a model in progress: forwarded as the local pool's events are.
const progressSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), id: z.string(), name: z.string(), fromEpoch: z.number(), epochs: z.number() }),
  z.object({
    type: z.literal('epoch'),
    id: z.string(),
    name: z.string(),
    epoch: z.number(),
    epochs: z.number(),
    loss: z.number().nullable().transform((v) => v ?? Number.NaN),
    validationAccuracy: z.number(),
    elapsedSeconds: z.number(),
    etaSeconds: z.number().nullable().transform((v) => v ?? Number.NaN),
  }),
]);

interface InFlight {
  task: FinalTrainTask;
  onEvent: (event: FinalizeEvent) => void;
  /** Checkpoint copies into final/<id>/, one at a time; the result waits for them. */
  mirroring: Promise<void>;
  done: boolean;
}

export class FinalQueueTrainer implements FinalTrainer {
  readonly queueName: string;
  readonly #inFlight = new Map<string, InFlight>();

  private constructor(
    private readonly o: FinalQueueOptions,
    private readonly queue: JobQueue,
  ) {
    this.queueName = queue.queueName;
    queue.onProgress((jobId, data) => this.#progress(jobId, data));
  }

  /** Connects (refusing a Redis without AOF and noeviction), publishes the teacher logits and lists the finalization (alive). */
  static async open(o: FinalQueueOptions): Promise<FinalQueueTrainer> {
    const queue = await JobQueue.open({ queueName: queueNameFor(o.runId, 'final'), redisUrl: o.redisUrl, source: '--redis', ttlSeconds: o.ttlSeconds, teacherKey: o.teacherKey });
    return new FinalQueueTrainer(o, queue);
  }

  /** Where the models go, for the log. */
  describe(): string {
    return this.queue.describe();
  }

  async train(task: FinalTrainTask, onEvent: (event: FinalizeEvent) => void): Promise<FinalRecord> {
    const payload = finalJobFor(task, this.o.data.resolution, this.o.data.name, this.o.data.contentHash);
    const jobId = finalJobIdFor(payload);
    const flight: InFlight = { task, onEvent, mirroring: Promise.resolve(), done: false };
    this.#inFlight.set(jobId, flight);
    try {
      await this.#sendLocalCheckpoint(task.outDir, jobId);
      const job = await this.queue.run(FINALIZE_JOB_NAME, jobId, payload, new AbortController().signal);
      flight.done = true;
      await flight.mirroring;
      if (job.state === 'failed') throw new Error(job.reason);
      const record = this.#keep(task, jobId, job.value);
      await dropCheckpoint(this.queue.client, this.queueName, jobId).catch(() => {});
      this.queue.collected(jobId);
      onEvent({ type: 'done', record });
      return record;
    } finally {
      this.#inFlight.delete(jobId);
    }
  }

  /** Checks a result and writes its files into final/<id>/ (record.json last), as train-final.ts leaves a finished model. */
  #keep(task: FinalTrainTask, jobId: string, value: unknown): Extract<FinalRecord, { state: 'trained' }> {
    const source = `job ${jobId}`;
    const parsed = finalResultSchema.safeParse(value);
    if (!parsed.success) throw new QueueError(`${source}: result ${parsed.error.issues[0].path.join('.') || '(root)'}: ${parsed.error.issues[0].message}`);
    const files = receiveFiles(parsed.data.files, {
      source,
      sharedDir: this.o.sharedDir ? sharedFinalDir(this.o.sharedDir, this.queueName, jobId) : null,
      maxBytes: this.o.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
      coordinator: FINALIZE_COORDINATOR,
    });
    const record = parseFinalRecord(files[RECORD_FILE], source);
    const expected = recipeHash(task.recipe);
    if (record.id !== task.model.id || record.recipeHash !== expected) {
      throw new QueueError(`${source}: the worker trained ${record.id} with recipe ${record.recipeHash}, not ${task.model.id} with ${expected}`);
    }
    mkdirSync(task.outDir, { recursive: true });
    for (const name of FINAL_FILE_NAMES) if (name !== RECORD_FILE && files[name]) writeFileAtomic(join(task.outDir, name), files[name]);
    writeFileAtomic(join(task.outDir, RECORD_FILE), files[RECORD_FILE]);
    rmSync(join(task.outDir, CHECKPOINT_FILE), { force: true });
    return record;
  }

  /** A local checkpoint (a finalization begun without --redis) goes to Redis for the worker, unless Redis holds one as late. */
  async #sendLocalCheckpoint(outDir: string, jobId: string): Promise<void> {
    const checkpointPath = join(outDir, CHECKPOINT_FILE);
    const progressPath = join(outDir, PROGRESS_FILE);
    if (!existsSync(checkpointPath) || !existsSync(progressPath)) return;
    const local = readCheckpoint(checkpointPath);
    if (!local) return;
    await storeCheckpoint(this.queue.client, this.queueName, jobId, { epoch: local.epoch, checkpoint: readFileSync(checkpointPath), progress: readFileSync(progressPath) });
  }

  /** A worker's report: forwarded as the local pool's events; an epoch's checkpoint copied into final/<id>/. */
  #progress(jobId: string, data: unknown): void {
    const flight = this.#inFlight.get(jobId);
    const parsed = progressSchema.safeParse(data);
    if (!flight || !parsed.success || parsed.data.id !== flight.task.model.id) return;
    const event = parsed.data;
    flight.onEvent(event);
    if (event.type !== 'epoch') return;
    flight.onEvent({ type: 'progress', id: event.id, imagesSeen: event.epoch, imagesTotal: event.epochs });
    flight.mirroring = flight.mirroring.then(() => this.#mirror(flight, jobId)).catch(() => {});
  }

  /** Copies the job's checkpoint in Redis into final/<id>/ when it is later than the one there (progress first, as train-final.ts writes them). */
  async #mirror(flight: InFlight, jobId: string): Promise<void> {
    if (flight.done) return;
    const stored = await loadCheckpoint(this.queue.client, this.queueName, jobId);
    const checkpointPath = join(flight.task.outDir, CHECKPOINT_FILE);
    if (!stored || flight.done || (readCheckpoint(checkpointPath)?.epoch ?? 0) >= stored.epoch) return;
    mkdirSync(flight.task.outDir, { recursive: true });
    writeFileAtomic(join(flight.task.outDir, PROGRESS_FILE), stored.progress);
    writeFileAtomic(checkpointPath, stored.checkpoint);
  }

  /**
   * Stops waiting. With `finished` (every model has its outcome) the
   * finalization is unlisted, its queue emptied and its `--shared-dir` files
   * removed; otherwise its jobs and checkpoints stay for `--resume`.
   */
  async close(finished: boolean): Promise<void> {
    await this.queue.close(finished);
    if (finished && this.o.sharedDir) rmSync(join(this.o.sharedDir, this.queueName), { recursive: true, force: true });
  }
}
