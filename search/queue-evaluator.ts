/**
 * A search's side of distributed training: `QueueTrainer` trains candidates
 * by adding BullMQ jobs to the run's queue (train/queue/job-queue.ts) and
 * waiting for the `nas worker`s to finish them. The journal stays the one
 * source of truth: job ids come from (run, candidate, budget), so a resumed
 * search adds the same ids again (a no-op) and collects what finished while
 * it was down. A collected job is removed once the engine has journaled it
 * (at the next train() or close()). Liveness and re-adding lost jobs are the
 * queue's (job-queue.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Genome } from '../space/types.js';
import { JobQueue } from '../train/queue/job-queue.js';
import { DEFAULT_MAX_RESULT_BYTES, queueNameFor } from '../train/queue/queue-runs.js';
import { keepTrainingResult, previousRungCheckpoint, trainingJobFor, type TrainingContext } from './evaluators.js';
import { decodeResult, jobIdFor, queuedJobFor, TRAIN_JOB_NAME } from './queue-protocol.js';
import type { CandidateTrainer, RungBudget, TrainingOutcome } from './types.js';

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

export class QueueTrainer implements CandidateTrainer {
  readonly queueName: string;

  private constructor(
    private readonly o: QueueTrainerOptions,
    private readonly queue: JobQueue,
  ) {
    this.queueName = queue.queueName;
  }

  /** Connects (refusing a Redis without AOF and noeviction), publishes the teacher logits and lists the run (alive). */
  static async open(o: QueueTrainerOptions): Promise<QueueTrainer> {
    const queue = await JobQueue.open({ queueName: queueNameFor(o.runId), redisUrl: o.redisUrl, ttlSeconds: o.config.redisRunTtl, teacherKey: o.teacherKey });
    return new QueueTrainer(o, queue);
  }

  /** Where this trainer sends jobs, for the log. */
  describe(): string {
    return this.queue.describe();
  }

  async train(genome: Genome, id: string, signal: AbortSignal, rung?: RungBudget): Promise<TrainingOutcome> {
    const training = trainingJobFor(this.o, genome, id, rung, previousRungCheckpoint(this.o.runDir, id, rung));
    const jobId = jobIdFor(this.o.runId, id, training);
    const job = await this.queue.run(TRAIN_JOB_NAME, jobId, queuedJobFor(training, this.o.config.training.timeLimit), signal);
    if (job.state === 'failed') throw new Error(job.reason);
    const result = decodeResult(job.value, {
      source: `job ${jobId}`,
      queueName: this.queueName,
      sharedDir: this.o.sharedDir,
      maxBytes: this.o.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
    });
    const outcome = keepTrainingResult(this.o.runDir, id, result);
    this.queue.collected(jobId);
    return outcome;
  }

  /**
   * Stops waiting. With `finished` (the run ended, not interrupted) the
   * run is unlisted, its queue emptied and its `--shared-dir` files removed;
   * otherwise its jobs stay for a resume.
   */
  async close(finished = false): Promise<void> {
    await this.queue.close(finished);
    // Every candidate's files are in the run directory now; the shared copies are not needed.
    if (finished && this.o.sharedDir) rmSync(join(this.o.sharedDir, this.queueName), { recursive: true, force: true });
  }
}
