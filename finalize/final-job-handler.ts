/**
 * How `nas worker` trains a finalization's model (BullMQ job name
 * `finalize`): the payload validated before anything is built
 * (final-queue-protocol.ts), the run's data and teacher logits made local,
 * the model's last checkpoint fetched from Redis when an earlier worker got
 * that far, and the model trained by finalize's own code (train-final.ts, on
 * a thread as locally) in a directory of this worker's. After every epoch the
 * checkpoint goes to Redis, so that a worker killed mid-model loses at most
 * the epoch it was in: the next worker to take the job resumes from there.
 * The finished model's files, record.json included, go back inline or
 * through the shared directory; the coordinator writes them into
 * final/<id>/ as a local finalization would have.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import type { Piscina } from 'piscina';
import { writeFileAtomic } from '../space/candidate-files.js';
import { CHECKPOINT_FILE, decodeCheckpoint } from '../train/checkpoint.js';
import { sendFiles } from '../train/queue/queue-files.js';
import { ensureTeacher } from '../train/queue/queue-runs.js';
import type { QueueJobContext, QueueJobHandler } from '../train/queue/queue-worker.js';
import { trainingThreads } from '../train/training-pool.js';
import { builtFinalizeWorker, runFinalTask } from './final-pool.js';
import {
  FINAL_FILE_NAMES,
  FINALIZE_COORDINATOR,
  finalModelOf,
  loadCheckpoint,
  parseQueuedFinalJob,
  sharedFinalDir,
  storeCheckpoint,
  type QueuedFinalResult,
} from './final-queue-protocol.js';
import { PROGRESS_FILE, type FinalTrainTask } from './train-final.js';
import type { FinalizeEvent } from './types.js';

/** The `finalize` jobs' handler (see the file comment), training `threads` models at once; its threads start with its first job. */
export function finalJobHandler(threads = 1): QueueJobHandler {
  let pool: Piscina | null = null;
  return {
    coordinator: FINALIZE_COORDINATOR,
    // Job ids are `<model id>_<hash>` (final-queue-protocol.ts: finalJobIdFor).
    subject: (job: Job) => job.id?.split('_')[0] ?? '?',
    async process(context: QueueJobContext): Promise<QueuedFinalResult> {
      const { job, client, queue } = context;
      const jobId = job.id ?? '';
      const { final } = parseQueuedFinalJob(job.data, `job ${jobId}`);
      const dataSpec = await context.dataSpecFor(final.data);
      if (final.teacherKey && final.recipe.distillation.alpha > 0) await ensureTeacher(client, final.teacherKey);
      const model = finalModelOf(final);
      const outDir = mkdtempSync(join(tmpdir(), 'nas-final-'));
      try {
        const stored = await loadCheckpoint(client, queue, jobId);
        if (stored) {
          writeFileAtomic(join(outDir, PROGRESS_FILE), stored.progress);
          writeFileAtomic(join(outDir, CHECKPOINT_FILE), stored.checkpoint);
        }
        context.started();
        if (stored) context.note(`${model.name}: resuming from the checkpoint of epoch ${stored.epoch} in Redis`);
        pool ??= trainingThreads(builtFinalizeWorker(), threads);
        const { subset, validationFraction, seed } = final.data;
        const task: FinalTrainTask = {
          model,
          data: { spec: dataSpec, validationFraction, seed, ...(subset !== undefined ? { subset } : {}) },
          teacherKey: final.teacherKey,
          recipe: final.recipe,
          outDir,
          backend: context.backend,
        };
        // One upload at a time, in epoch order; one that fails is replaced by the next epoch's.
        let uploads: Promise<void> = Promise.resolve();
        const onEvent = (event: FinalizeEvent) => {
          if (event.type !== 'start' && event.type !== 'epoch') return;
          uploads = uploads
            .then(async () => {
              if (event.type === 'epoch') await uploadCheckpoint(context, outDir, event);
              // The coordinator's progress lines (and its mirror of the checkpoint).
              await job.updateProgress(event);
            })
            .catch(() => {});
        };
        const record = await runFinalTask(pool, task, onEvent);
        await uploads;
        if (record.state !== 'trained') throw new Error(record.error);
        const names = FINAL_FILE_NAMES.filter((name) => existsSync(join(outDir, name)));
        const files = Object.fromEntries(names.map((name) => [name, readFileSync(join(outDir, name))]));
        const sharedDir = context.sharedDir ? sharedFinalDir(context.sharedDir, queue, jobId) : undefined;
        return {
          id: record.id,
          testAccuracy: record.testAccuracy,
          worker: context.worker,
          files: sendFiles(files, names, { sharedDir, maxBytes: context.maxResultBytes, what: model.name, coordinator: FINALIZE_COORDINATOR }),
        };
      } finally {
        rmSync(outDir, { recursive: true, force: true });
      }
    },
    summary: (result) => ({ subject: (result as QueuedFinalResult).id, accuracy: (result as QueuedFinalResult).testAccuracy }),
    async close() {
      await pool?.destroy();
    },
  };
}

/**
 * Puts the model's latest checkpoint into Redis. Read after the epoch's
 * event, while training goes on: the checkpoint first, then progress.json
 * (written before it), so that progress is never behind the checkpoint (a
 * resume trims a curve that is ahead).
 */
async function uploadCheckpoint(context: QueueJobContext, outDir: string, event: Extract<FinalizeEvent, { type: 'epoch' }>): Promise<void> {
  const checkpointPath = join(outDir, CHECKPOINT_FILE);
  if (!existsSync(checkpointPath)) return; // the model has finished since: its files are the result
  const checkpoint = readFileSync(checkpointPath);
  const progress = readFileSync(join(outDir, PROGRESS_FILE));
  const epoch = decodeCheckpoint(new Uint8Array(checkpoint), checkpointPath).epoch;
  if (await storeCheckpoint(context.client, context.queue, context.job.id ?? '', { epoch, checkpoint, progress })) {
    context.note(`${event.name}: epoch ${epoch}/${event.epochs} checkpointed to Redis`);
  }
}
