/**
 * What the coordinator (queue-evaluator.ts) and `nas worker`
 * (queue-worker.ts) agree on: queue and job names, the list of runs in
 * progress and how a run shows it is alive, the job payload and the result
 * (zod schemas: each side validates what the other sent), the bytes limit
 * of results, where `--shared-dir` files go, and teacher logits kept in
 * Redis by their content hash.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { packageInfo } from '../locations.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { readCachedTeacher, teacherCacheFiles } from '../train/teacher.js';
import { CANDIDATE_FILE_NAMES, OPTIONAL_CANDIDATE_FILE_NAMES, parseTrainingJob, TrainingJobError, type CandidateFiles, type TrainingJob, type TrainingJobResult } from '../train/training-job.js';
import { QueueError } from './redis-url.js';

/** Redis set of the queues of runs in progress; workers watch every queue listed whose coordinator is alive. */
export const RUNS_KEY = 'nas:runs';
/**
 * How long a run stays listed after its coordinator was last heard from
 * (config `redisRunTtl`): a killed search's jobs are trained this long at
 * most, then workers unlist the run until `nas search --resume` lists it again.
 * @default 60 s
 */
export const DEFAULT_RUN_TTL_SECONDS = 60;
/** The coordinator refreshes its run's key this many times per TTL, so one late refresh does not unlist it. */
export const RUN_REFRESHES_PER_TTL = 3;
/** Training attempts per job: a second worker retries a failure once before it is the candidate's. */
export const JOB_ATTEMPTS = 2;
/**
 * Entries kept in a run queue's event stream (BullMQ's default is 10,000).
 * BullMQ copies each job's return value — a candidate's files, about 1.7 MB
 * of base64 in the small space — into its `completed` event, so the default
 * could hold gigabytes of Redis memory over a long search. The coordinator
 * uses events only to wake up early (it also polls), so few are needed;
 * Redis trims whole stream nodes (100 entries each), so up to about this
 * plus 100 stay.
 */
export const EVENTS_MAX_LEN = 100;
/** Largest result (a candidate's files) sent back through Redis; larger ones need --shared-dir. @default 64 MiB */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 2 ** 20;

const QUEUE_NAME = /^nas-run-[0-9a-f]{16}$/;

/** The queue of one run. */
export function queueNameFor(runId: string): string {
  const name = `nas-run-${runId}`;
  if (!QUEUE_NAME.test(name)) throw new QueueError(`run id '${runId}' is not 16 hex digits`);
  return name;
}

/** Whether a name read from Redis is a run's queue (anything else there is ignored). */
export function isRunQueueName(name: string): boolean {
  return QUEUE_NAME.test(name);
}

const RUN_ALIVE_PREFIX = 'nas:alive:';

/** The key whose presence says a run's coordinator is alive: it sets it with a TTL and keeps refreshing it. */
export function runAliveKey(queueName: string): string {
  return `${RUN_ALIVE_PREFIX}${queueName}`;
}

/**
 * Coordinator: (re)lists its run and refreshes its alive key, in one
 * transaction. Listing again on every refresh undoes a worker's unlisting
 * after the coordinator could not reach Redis for longer than the TTL.
 */
export async function refreshRun(client: Redis, queueName: string, ttlMs: number, holder: string): Promise<void> {
  await client.multi().set(runAliveKey(queueName), holder, 'PX', Math.max(1, Math.round(ttlMs))).sadd(RUNS_KEY, queueName).exec();
}

/** Coordinator, its run finished: unlisted and its key gone, so no worker waits on it. */
export async function unlistRun(client: Redis, queueName: string): Promise<void> {
  await client.multi().srem(RUNS_KEY, queueName).del(runAliveKey(queueName)).exec();
}

// One script, so that a run listed again between the check and the removal
// is not unlisted (its coordinator sets the key before it lists the run).
// Keys are built in the script, as BullMQ's own scripts do: one Redis, not a cluster.
const LIVE_RUNS_SCRIPT = `
local live, gone = {}, {}
for _, queue in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. queue) == 1 then
    live[#live + 1] = queue
  else
    redis.call('SREM', KEYS[1], queue)
    gone[#gone + 1] = queue
  end
end
return { live, gone }
`;

/** Worker: the listed runs whose coordinator is alive (to watch), and those it unlisted because their key expired. */
export async function liveRuns(client: Redis): Promise<{ live: string[]; unlisted: string[] }> {
  const [live, gone] = (await client.eval(LIVE_RUNS_SCRIPT, 1, RUNS_KEY, RUN_ALIVE_PREFIX)) as [string[], string[]];
  return { live: live.filter(isRunQueueName), unlisted: gone.filter(isRunQueueName) };
}

/** The budget part of a job id: `e1` (epochs) or `i2000` (images). */
function budgetKey(budget: TrainingJob['options']['budget']): string {
  return 'epochs' in budget ? `e${budget.epochs}` : `i${budget.images}`;
}

/** Job id from (run, candidate, budget): adding it again is a no-op, and a resumed run finds it. BullMQ forbids ':'. */
export function jobIdFor(runId: string, candidateId: string, job: TrainingJob): string {
  return `${runId}_${candidateId}_${budgetKey(job.options.budget)}`;
}

/**
 * The version of what a job and its result carry. A worker takes only jobs
 * of its own protocol: one of another version goes back to the queue unused
 * and the worker stops, naming both versions (queue-worker.ts), instead of
 * failing the candidate on a field it does not know. Raise it whenever a
 * change to the job or the result would be refused, or read differently, by
 * the other side's schema. Jobs without `protocol` come from searches before
 * it existed (version 1).
 */
export const QUEUE_PROTOCOL = 2;

/** The payload of a queue job. */
export interface QueuedJob {
  /** QUEUE_PROTOCOL of the search that queued it. */
  protocol: number;
  /** The queuing search's nas-edge version, for the message when protocols differ. */
  nasEdge: string;
  training: TrainingJob;
  /** A candidate still training after this long fails. */
  timeLimitSeconds: number;
}

/** A search's payload for one training job, stamped with this side's protocol and version. */
export function queuedJobFor(training: TrainingJob, timeLimitSeconds: number): QueuedJob {
  return { protocol: QUEUE_PROTOCOL, nasEdge: packageInfo().version, training, timeLimitSeconds };
}

/** A job queued by a search of another protocol: the worker's fault to refuse, not the candidate's. */
export class QueueProtocolError extends QueueError {
  constructor(
    readonly jobProtocol: number,
    readonly jobVersion: string | null,
    source: string,
  ) {
    const search = `queue protocol ${jobProtocol}${jobVersion ? ` (nas-edge ${jobVersion})` : ' (a nas-edge before protocol versions)'}`;
    super(
      `${source} was queued by a search speaking ${search}; this worker speaks queue protocol ${QUEUE_PROTOCOL} (nas-edge ${packageInfo().version}): ` +
        `run the same nas-edge version on the search and its workers`,
    );
    this.name = 'QueueProtocolError';
  }
}

const queuedJobSchema = z.strictObject({
  protocol: z.number().int().positive(),
  nasEdge: z.string().min(1).max(64),
  training: z.unknown(),
  timeLimitSeconds: z.number().positive(),
});

// Read before the schema: a job of another protocol may hold fields this
// version's strict schema refuses, and must not fail as a bad payload.
const protocolOf = (value: unknown): { protocol: number; version: string | null } => {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const protocol = record.protocol === undefined ? 1 : record.protocol;
  return {
    protocol: typeof protocol === 'number' && Number.isInteger(protocol) && protocol > 0 ? protocol : NaN,
    version: typeof record.nasEdge === 'string' ? record.nasEdge.slice(0, 64) : null,
  };
};

/**
 * Validates a payload read from the queue; errors name the job and field.
 * @throws QueueProtocolError when the job is of another protocol (it may be valid there)
 * @throws TrainingJobError when it is not a valid job of this protocol
 */
export function parseQueuedJob(value: unknown, source: string): QueuedJob {
  const { protocol, version } = protocolOf(value);
  if (Number.isInteger(protocol) && protocol !== QUEUE_PROTOCOL) throw new QueueProtocolError(protocol, version, source);
  const parsed = queuedJobSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys[0] : issue.path.join('.') || '(root)';
    throw new TrainingJobError(field, issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message, source);
  }
  const { training, ...envelope } = parsed.data;
  return { ...envelope, training: parseTrainingJob(training, `${source}: training`) };
}

/** Every candidate file by name, the optional ones (a multi-fidelity checkpoint) when present. */
function filesRecord<T extends z.ZodType>(value: T) {
  return z.partialRecord(z.enum([...CANDIDATE_FILE_NAMES, ...OPTIONAL_CANDIDATE_FILE_NAMES]), value).superRefine((files, ctx) => {
    const missing = CANDIDATE_FILE_NAMES.find((name) => files[name] === undefined);
    if (missing) ctx.addIssue({ code: 'custom', message: `lacks ${missing}` });
  });
}

/** A job's result as it travels: the candidate's files inline (base64) or in the shared directory with their sha256. */
const resultSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  accuracy: z.number().min(0).max(1),
  accuracyImages: z.number().int().positive(),
  validationAccuracy: z.number().min(0).max(1),
  trainSeconds: z.number().min(0),
  imagesPerSecond: z.number().min(0),
  lossCurve: z.array(z.number()),
  backend: z.string(),
  worker: z.string(),
  files: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('inline'), base64: filesRecord(z.string()) }),
    z.strictObject({ kind: z.literal('shared'), sha256: filesRecord(z.string().regex(/^[0-9a-f]{64}$/)) }),
  ]),
});
export type QueuedResult = z.output<typeof resultSchema>;

/** Where `--shared-dir` holds a candidate's files: names from the validated queue name and the computed genome id only. */
export function sharedCandidateDir(sharedDir: string, queueName: string, id: string): string {
  if (!isRunQueueName(queueName) || !/^[0-9a-f]{12}$/.test(id)) throw new QueueError(`not a run queue and candidate id: ${queueName} ${id}`);
  return join(sharedDir, queueName, id);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Worker side: the result to return, with the files inline (within `maxBytes`) or written to the shared directory. */
export function encodeResult(
  result: TrainingJobResult,
  where: { worker: string; queueName: string; sharedDir?: string; maxBytes: number },
): QueuedResult {
  const { files, ...figures } = result;
  const names = [...CANDIDATE_FILE_NAMES, ...OPTIONAL_CANDIDATE_FILE_NAMES.filter((n) => files[n])];
  const missing = CANDIDATE_FILE_NAMES.find((n) => !files[n]);
  if (missing) throw new QueueError(`candidate ${result.id}: training produced no ${missing}`);
  type ByName = Record<string, string>;
  if (where.sharedDir) {
    const dir = sharedCandidateDir(where.sharedDir, where.queueName, result.id);
    mkdirSync(dir, { recursive: true });
    for (const name of names) writeFileAtomic(join(dir, name), files[name]);
    return { ...figures, worker: where.worker, files: { kind: 'shared', sha256: Object.fromEntries(names.map((n) => [n, sha256(files[n])])) as ByName } };
  }
  const total = names.reduce((sum, n) => sum + files[n].byteLength, 0);
  if (total > where.maxBytes) {
    throw new QueueError(
      `candidate ${result.id}: its files are ${(total / 2 ** 20).toFixed(1)} MiB, over the ${(where.maxBytes / 2 ** 20).toFixed(1)} MiB a result may carry through Redis; ` +
        `give the workers and the search a shared directory with --shared-dir, or raise --max-result-mib`,
    );
  }
  return { ...figures, worker: where.worker, files: { kind: 'inline', base64: Object.fromEntries(names.map((n) => [n, Buffer.from(files[n]).toString('base64')])) as ByName } };
}

/** Coordinator side: validates a job's return value and gets its files back (checking sizes and hashes). */
export function decodeResult(value: unknown, where: { source: string; queueName: string; sharedDir?: string; maxBytes: number }): TrainingJobResult & { worker: string } {
  const parsed = resultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueueError(`${where.source}: result ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { files: sent, ...figures } = parsed.data;
  const files: CandidateFiles = {};
  if (sent.kind === 'inline') {
    let total = 0;
    for (const [name, text] of Object.entries(sent.base64)) {
      files[name] = Buffer.from(text, 'base64');
      total += files[name].byteLength;
    }
    if (total > where.maxBytes) throw new QueueError(`${where.source}: result carries ${total} bytes, over the limit of ${where.maxBytes}`);
  } else {
    if (!where.sharedDir) throw new QueueError(`${where.source}: the worker wrote its files to its --shared-dir; give the search the same directory with --shared-dir`);
    const dir = sharedCandidateDir(where.sharedDir, where.queueName, figures.id);
    for (const [name, hash] of Object.entries(sent.sha256)) {
      const file = join(dir, name);
      if (!existsSync(file)) throw new QueueError(`${where.source}: ${file} is not there: is --shared-dir the directory the workers write to?`);
      files[name] = readFileSync(file);
      if (sha256(files[name]) !== hash) throw new QueueError(`${where.source}: ${file} does not have the content the worker wrote (sha256 differs)`);
    }
  }
  return { ...figures, files };
}

// Teacher logits. The files are the teacher cache's own (train/teacher.ts:
// teacherCacheFiles: `<key>.json` and `.f32`), carried as opaque bytes with
// their sha256; readCachedTeacher validates them after the download.

const teacherFiles = teacherCacheFiles;
const teacherRedisKey = (key: string) => `nas:teacher:${key}`;

/** Coordinator: puts cached teacher logits into Redis once (a hash of meta, logits and their sha256). */
export async function publishTeacher(client: Redis, key: string): Promise<void> {
  const redisKey = teacherRedisKey(key);
  if (await client.exists(redisKey)) return;
  const files = teacherFiles(key);
  if (!readCachedTeacher(key)) throw new QueueError(`teacher logits ${key} are not in the cache (${files.logits})`);
  const meta = readFileSync(files.meta);
  const logits = readFileSync(files.logits);
  await client.hset(redisKey, { meta, logits, sha256: sha256(Buffer.concat([meta, logits])) });
}

/** Worker: makes sure teacher logits `key` are in this machine's cache, downloading them from Redis when not. */
export async function ensureTeacher(client: Redis, key: string): Promise<void> {
  if (!/^[0-9a-f]{20}$/.test(key)) throw new QueueError(`teacher key '${key}' is not 20 hex digits`);
  if (readCachedTeacher(key)) return;
  const redisKey = teacherRedisKey(key);
  const [meta, logits, hash] = await client.hmgetBuffer(redisKey, 'meta', 'logits', 'sha256');
  if (!meta || !logits || !hash) throw new QueueError(`teacher logits ${key} are neither in this machine's cache nor in Redis (${redisKey})`);
  if (sha256(Buffer.concat([meta, logits])) !== hash.toString()) throw new QueueError(`teacher logits ${key} from Redis do not match their sha256`);
  const files = teacherFiles(key);
  mkdirSync(dirname(files.logits), { recursive: true });
  writeFileAtomic(files.logits, logits);
  writeFileAtomic(files.meta, meta);
  if (!readCachedTeacher(key)) throw new QueueError(`teacher logits ${key} from Redis are not a valid cache entry`);
}
