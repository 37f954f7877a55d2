/**
 * What a search (queue-evaluator.ts) and `nas worker` (queue-job-handler.ts)
 * agree on about a candidate's training job: its id, its payload and its
 * result (zod schemas: each side validates what the other sent), and where
 * `--shared-dir` files go. What every kind of job shares — queue names,
 * liveness, the protocol version, teacher logits in Redis, files inline or
 * shared — is train/queue/.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { receiveFiles, sendFiles, sentFilesSchema } from '../train/queue/queue-files.js';
import { checkQueueProtocol, isRunQueueName, queueEnvelope, type QueueEnvelope } from '../train/queue/queue-runs.js';
import { QueueError } from '../train/queue/redis-url.js';
import { CANDIDATE_FILE_NAMES, OPTIONAL_CANDIDATE_FILE_NAMES, parseTrainingJob, TrainingJobError, type CandidateFiles, type TrainingJob, type TrainingJobResult } from '../train/training-job.js';

/** The BullMQ job name of a search's candidate (the worker's handler: queue-job-handler.ts). */
export const TRAIN_JOB_NAME = 'train';

/** The budget part of a job id: `e1` (epochs) or `i2000` (images). */
function budgetKey(budget: TrainingJob['options']['budget']): string {
  return 'epochs' in budget ? `e${budget.epochs}` : `i${budget.images}`;
}

/** Job id from (run, candidate, budget): adding it again is a no-op, and a resumed run finds it. BullMQ forbids ':'. */
export function jobIdFor(runId: string, candidateId: string, job: TrainingJob): string {
  return `${runId}_${candidateId}_${budgetKey(job.options.budget)}`;
}

/** The payload of a queue job. */
export interface QueuedJob extends QueueEnvelope {
  training: TrainingJob;
  /** A candidate still training after this long fails. */
  timeLimitSeconds: number;
}

/** A search's payload for one training job, stamped with this side's protocol and version. */
export function queuedJobFor(training: TrainingJob, timeLimitSeconds: number): QueuedJob {
  return { ...queueEnvelope(), training, timeLimitSeconds };
}

const queuedJobSchema = z.strictObject({
  protocol: z.number().int().positive(),
  nasEdge: z.string().min(1).max(64),
  training: z.unknown(),
  timeLimitSeconds: z.number().positive(),
});

/**
 * Validates a payload read from the queue; errors name the job and field.
 * @throws QueueProtocolError when the job is of another protocol (it may be valid there)
 * @throws TrainingJobError when it is not a valid job of this protocol
 */
export function parseQueuedJob(value: unknown, source: string): QueuedJob {
  checkQueueProtocol(value, source);
  const parsed = queuedJobSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys[0] : issue.path.join('.') || '(root)';
    throw new TrainingJobError(field, issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message, source);
  }
  const { training, ...envelope } = parsed.data;
  return { ...envelope, training: parseTrainingJob(training, `${source}: training`) };
}

/** A candidate's files: every one of CANDIDATE_FILE_NAMES, the optional ones (a multi-fidelity checkpoint) when present. */
const candidateFilesSchema = sentFilesSchema([...CANDIDATE_FILE_NAMES, ...OPTIONAL_CANDIDATE_FILE_NAMES], CANDIDATE_FILE_NAMES);

/** A job's result as it travels: the candidate's files inline (base64) or in the shared directory with their sha256. */
const resultSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  accuracy: z.number().min(0).max(1),
  accuracyImages: z.number().int().positive(),
  validationAccuracy: z.number().min(0).max(1),
  // Absent from workers older than it.
  logLikelihood: z.number().max(0).optional(),
  trainSeconds: z.number().min(0),
  imagesPerSecond: z.number().min(0),
  lossCurve: z.array(z.number()),
  backend: z.string(),
  worker: z.string(),
  files: candidateFilesSchema,
});
export type QueuedResult = z.output<typeof resultSchema>;

/** Where `--shared-dir` holds a candidate's files: names from the validated queue name and the computed genome id only. */
export function sharedCandidateDir(sharedDir: string, queueName: string, id: string): string {
  if (!isRunQueueName(queueName) || !/^[0-9a-f]{12}$/.test(id)) throw new QueueError(`not a run queue and candidate id: ${queueName} ${id}`);
  return join(sharedDir, queueName, id);
}

/** Worker side: the result to return, with the files inline (within `maxBytes`) or written to the shared directory. */
export function encodeResult(
  result: TrainingJobResult,
  where: { worker: string; queueName: string; sharedDir?: string; maxBytes: number },
): QueuedResult {
  const { files, ...figures } = result;
  const names = [...CANDIDATE_FILE_NAMES, ...OPTIONAL_CANDIDATE_FILE_NAMES.filter((n) => files[n])];
  const missing = CANDIDATE_FILE_NAMES.find((n) => !files[n]);
  if (missing) throw new QueueError(`candidate ${result.id}: training produced no ${missing}`);
  const sharedDir = where.sharedDir ? sharedCandidateDir(where.sharedDir, where.queueName, result.id) : undefined;
  return { ...figures, worker: where.worker, files: sendFiles(files, names, { sharedDir, maxBytes: where.maxBytes, what: `candidate ${result.id}`, coordinator: 'search' }) };
}

/** Coordinator side: validates a job's return value and gets its files back (checking sizes and hashes). */
export function decodeResult(value: unknown, where: { source: string; queueName: string; sharedDir?: string; maxBytes: number }): TrainingJobResult & { worker: string } {
  const parsed = resultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueueError(`${where.source}: result ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { files: sent, ...figures } = parsed.data;
  const sharedDir = where.sharedDir ? sharedCandidateDir(where.sharedDir, where.queueName, figures.id) : null;
  const files: CandidateFiles = receiveFiles(sent, { source: where.source, sharedDir, maxBytes: where.maxBytes, coordinator: 'search' });
  return { ...figures, files };
}
