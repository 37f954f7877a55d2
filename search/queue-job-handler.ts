/**
 * How `nas worker` trains a search's candidate (BullMQ job name `train`):
 * the payload validated before anything is built (queue-protocol.ts), the
 * search's data and teacher logits made local, the candidate trained in a
 * pool of threads that runs the same function as the search's local pool
 * (train/training-job.ts), and its files returned inline or through the
 * shared directory. The worker itself (train/queue/queue-worker.ts) watches
 * the queues and dispatches; `cli/worker.ts` registers this handler.
 */
import type { Job } from 'bullmq';
import { ensureTeacher } from '../train/queue/queue-runs.js';
import type { QueueJobContext, QueueJobHandler } from '../train/queue/queue-worker.js';
import { TrainingPool } from '../train/training-pool.js';
import { encodeResult, parseQueuedJob, type QueuedResult } from './queue-protocol.js';

/** The `train` jobs' handler (see the file comment), training `threads` candidates at once; its threads start with its first job. */
export function candidateJobHandler(threads = 1): QueueJobHandler {
  let pool: TrainingPool | null = null;
  return {
    coordinator: 'search',
    // Job ids are `<run>_<candidate>_<budget>` (queue-protocol.ts: jobIdFor).
    subject: (job: Job) => job.id?.split('_')[1] ?? '?',
    async process(context: QueueJobContext): Promise<QueuedResult> {
      const { job } = context;
      const queued = parseQueuedJob(job.data, `job ${job.id}`);
      const { training } = queued;
      const dataSpec = await context.dataSpecFor(training.data);
      if (training.teacherKey) await ensureTeacher(context.client, training.teacherKey);
      const backend = training.backend === 'auto' ? context.backend : training.backend;
      context.started();
      pool ??= new TrainingPool({ threads });
      const result = await pool.run({ job: { ...training, backend }, dataSpec }, new AbortController().signal, queued.timeLimitSeconds);
      return encodeResult(result, { worker: context.worker, queueName: context.queue, sharedDir: context.sharedDir, maxBytes: context.maxResultBytes });
    },
    summary: (result) => ({ subject: (result as QueuedResult).id, accuracy: (result as QueuedResult).accuracy }),
    async close() {
      await pool?.close();
    },
  };
}
