/**
 * What `nas finalize --redis` (final-queue-trainer.ts) and `nas worker`
 * (final-job-handler.ts) agree on about a finalized model's job: its name
 * and id, its payload (zod: the worker validates it before anything is
 * built), its result (the model's files, as train-final.ts writes them into
 * final/<id>/), and the model's checkpoint, kept in Redis after every epoch
 * so that the next worker to take a killed worker's job resumes from it.
 * Queue names, liveness, the protocol version, teacher logits and files
 * inline or shared are every job's (train/queue/).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BASELINE_NAMES, baseline, type BaselineName } from '../space/baselines.js';
import { GENOME_FILE, ONNX_FILE, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE } from '../space/candidate-files.js';
import { genomeSchema } from '../space/schema.js';
import { sentFilesSchema } from '../train/queue/queue-files.js';
import { jobDataSchema } from '../train/training-job.js';
import { checkQueueProtocol, isRunQueueName, queueEnvelope, type QueueEnvelope } from '../train/queue/queue-runs.js';
import { QueueError } from '../train/queue/redis-url.js';
import { TrainingJobError } from '../train/training-job.js';
import type { FinalRecipe } from './recipe.js';
import { BASELINE_FILE, PROGRESS_FILE, RECORD_FILE, type FinalTrainTask } from './train-final.js';
import type { FinalModel, FinalRecord } from './types.js';

/** The BullMQ job name of a finalized model (the worker's handler: final-job-handler.ts). */
export const FINALIZE_JOB_NAME = 'finalize';
/** Who queues these jobs, in the messages of both sides. */
export const FINALIZE_COORDINATOR = 'finalization';

const hex = (digits: number) => z.string().regex(new RegExp(`^[0-9a-f]{${digits}}$`), `expected ${digits} lowercase hex digits`);

// Keys in finalRecipe's order: recipeHash is the hash of the recipe's JSON, and must be the same on both sides.
const recipeSchema = z.strictObject({
  epochs: z.number().int().positive().max(10_000),
  batchSize: z.number().int().positive().max(65536),
  optimizer: z.literal('sgd'),
  learningRate: z.number().positive(),
  warmupEpochs: z.number().min(0),
  weightDecay: z.number().min(0),
  labelSmoothing: z.number().min(0).max(1),
  augment: z.strictObject({ padCrop: z.number().int().min(0).max(64), horizontalFlip: z.boolean() }),
  distillation: z.strictObject({ alpha: z.number().min(0).max(1), temperature: z.number().positive() }),
  init: z.enum(['scratch', 'inherited']),
  seed: z.number().int(),
  threads: z.number().int().min(2).max(256).optional(),
}) satisfies z.ZodType<FinalRecipe>;

/**
 * The model: a front member's genome and strides, validated with the
 * genome's schema; a baseline by name only, built by the worker from
 * space/baselines.ts at the data's resolution (the coordinator checks it is
 * the plan's).
 */
const modelSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('front'),
    id: hex(12),
    genome: genomeSchema,
    strides: z.strictObject({ stem: z.number().int().min(1).max(4), stages: z.array(z.number().int().min(1).max(4)).max(16) }),
  }),
  z.strictObject({ kind: z.literal('baseline'), name: z.enum(BASELINE_NAMES), resolution: z.number().int().positive().max(4096) }),
]);

/** What a worker needs to train one model: data only. */
const finalJobSchema = z.strictObject({
  model: modelSchema,
  data: jobDataSchema,
  teacherKey: hex(20).nullable(),
  recipe: recipeSchema,
});
export type FinalJob = z.output<typeof finalJobSchema>;

/** The payload of a finalize job. */
export interface QueuedFinalJob extends QueueEnvelope {
  final: FinalJob;
}

const queuedFinalJobSchema = z.strictObject({
  protocol: z.number().int().positive(),
  nasEdge: z.string().min(1).max(64),
  final: z.unknown(),
});

/**
 * The job of one model of a plan: `task` as it travels (no paths: the
 * worker trains in a directory of its own, and loads the data by name or its
 * `--data`), with the run's data content hash.
 * @throws QueueError when the plan's baseline is not the one this version builds (`--init inherited` is refused by the caller)
 */
export function finalJobFor(task: FinalTrainTask, resolution: number, dataName: string, contentHash: string): QueuedFinalJob {
  const m = task.model;
  let model: FinalJob['model'];
  if (m.kind === 'front') model = { kind: 'front', id: m.id, genome: m.genome, strides: m.strides };
  else {
    const built = baseline(m.id as BaselineName, resolution);
    if (JSON.stringify(built) !== JSON.stringify(m.baseline)) {
      throw new QueueError(`${m.name}: the plan's baseline is not the one this nas-edge version builds at ${resolution} px; finalize it without --redis`);
    }
    model = { kind: 'baseline', name: m.id as BaselineName, resolution };
  }
  const { spec: _path, ...data } = task.data;
  return { ...queueEnvelope(), final: { model, data: { name: dataName, contentHash, ...data }, teacherKey: task.teacherKey, recipe: task.recipe } };
}

/** The job's id: the model's id and a hash of everything it trains with, so a job is found again only for the same training. BullMQ forbids ':'. */
export function finalJobIdFor(job: QueuedFinalJob): string {
  const id = job.final.model.kind === 'front' ? job.final.model.id : job.final.model.name;
  return `${id}_${createHash('sha256').update(JSON.stringify(job.final)).digest('hex').slice(0, 12)}`;
}

/**
 * Validates a payload read from the queue; errors name the job and field.
 * @throws QueueProtocolError when the job is of another protocol
 * @throws TrainingJobError when it is not a valid job of this protocol
 */
export function parseQueuedFinalJob(value: unknown, source: string): QueuedFinalJob {
  checkQueueProtocol(value, source, FINALIZE_COORDINATOR);
  const envelope = queuedFinalJobSchema.safeParse(value);
  const parsed = envelope.success ? finalJobSchema.safeParse(envelope.data.final) : envelope;
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = [...(envelope.success ? ['final'] : []), ...issue.path.map(String)].join('.') || '(root)';
    const field = issue.code === 'unrecognized_keys' ? [path === '(root)' ? '' : path, (issue as { keys: string[] }).keys[0]].filter(Boolean).join('.') : path;
    throw new TrainingJobError(field, issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message, source);
  }
  return { ...(envelope.data as QueueEnvelope), final: parsed.data as FinalJob };
}

/** The model a validated job trains, as train-final.ts takes it. */
export function finalModelOf(job: FinalJob): FinalModel {
  const m = job.model;
  if (m.kind === 'front') return { kind: 'front', id: m.id, name: `front ${m.id}`, genome: m.genome, strides: m.strides };
  return { kind: 'baseline', id: m.name, name: m.name, baseline: baseline(m.name, m.resolution) };
}

/** The files of a finalized model that travel back; the model files and record.json must be there. */
export const FINAL_FILE_NAMES = [RECORD_FILE, PROGRESS_FILE, GENOME_FILE, BASELINE_FILE, ONNX_FILE, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE] as const;
const REQUIRED_FINAL_FILES = [RECORD_FILE, ONNX_FILE, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE];

/** A finalize job's result: the model, its test accuracy (for the worker's log), the worker, and the model's files inline or in the shared directory. */
export const finalResultSchema = z.strictObject({
  id: z.string().max(64),
  testAccuracy: z.number().min(0).max(1),
  worker: z.string(),
  files: sentFilesSchema(FINAL_FILE_NAMES, REQUIRED_FINAL_FILES),
});
export type QueuedFinalResult = z.output<typeof finalResultSchema>;

/** A trained model's record.json as it comes back; the coordinator checks it is the model and recipe it asked for. */
const trainedRecordSchema = z.object({
  state: z.literal('trained'),
  id: z.string(),
  kind: z.enum(['front', 'baseline']),
  name: z.string(),
  testAccuracy: z.number().min(0).max(1),
  testCount: z.number().int().positive(),
  validationAccuracy: z.number().min(0).max(1),
  validationCurve: z.array(z.number()),
  params: z.number().int().min(0),
  macs: z.number().min(0),
  epochs: z.number().int().positive(),
  trainSeconds: z.number().min(0),
  sessions: z.number().int().positive(),
  recipeHash: hex(12),
});

/** Parses record.json of a result; errors name the job. */
export function parseFinalRecord(bytes: Uint8Array, source: string): Extract<FinalRecord, { state: 'trained' }> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new QueueError(`${source}: ${RECORD_FILE} is not JSON`);
  }
  const parsed = trainedRecordSchema.safeParse(value);
  if (!parsed.success) throw new QueueError(`${source}: ${RECORD_FILE}: ${parsed.error.issues[0].path.join('.') || '(root)'}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** Where `--shared-dir` holds a finalized model's files: names from the validated queue name and job id only. */
export function sharedFinalDir(sharedDir: string, queueName: string, jobId: string): string {
  if (!isRunQueueName(queueName) || !/^[a-z0-9.-]{1,40}_[0-9a-f]{12}$/.test(jobId)) throw new QueueError(`not a queue and finalize job id: ${queueName} ${jobId}`);
  return join(sharedDir, queueName, jobId);
}

// The model's checkpoint in Redis: its train/checkpoint.ts bytes and
// train-final.ts's progress.json, with the epoch they end, in one hash per
// job. Written after every epoch by the worker training it, read by the next
// worker to take the job, mirrored into final/<id>/ by the coordinator.

const checkpointKey = (queueName: string, jobId: string) => `nas:final-checkpoint:${queueName}:${jobId}`;

// Only a later epoch replaces what is stored: a worker that lost its job
// (stalled, then back) cannot put an older checkpoint over a newer one.
const STORE_CHECKPOINT_SCRIPT = `
local stored = redis.call('HGET', KEYS[1], 'epoch')
if stored and tonumber(stored) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'checkpoint', ARGV[2], 'progress', ARGV[3])
return 1
`;

/** A model's checkpoint as it is kept: the epoch it ends, the checkpoint file's bytes and progress.json's. */
export interface StoredCheckpoint {
  epoch: number;
  checkpoint: Buffer;
  progress: Buffer;
}

/** Stores the checkpoint of epoch `stored.epoch` unless one as late is there; true when it was stored. */
export async function storeCheckpoint(client: Redis, queueName: string, jobId: string, stored: StoredCheckpoint): Promise<boolean> {
  return (await client.eval(STORE_CHECKPOINT_SCRIPT, 1, checkpointKey(queueName, jobId), String(stored.epoch), stored.checkpoint, stored.progress)) === 1;
}

/** The job's latest checkpoint, or null. */
export async function loadCheckpoint(client: Redis, queueName: string, jobId: string): Promise<StoredCheckpoint | null> {
  const [epoch, checkpoint, progress] = await client.hmgetBuffer(checkpointKey(queueName, jobId), 'epoch', 'checkpoint', 'progress');
  if (!epoch || !checkpoint || !progress) return null;
  return { epoch: Number(epoch.toString()), checkpoint, progress };
}

/** The job is collected: its checkpoint is not needed any more. */
export async function dropCheckpoint(client: Redis, queueName: string, jobId: string): Promise<void> {
  await client.del(checkpointKey(queueName, jobId));
}
