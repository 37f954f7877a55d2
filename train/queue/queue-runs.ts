/**
 * What every coordinator (a search, a finalization) and `nas worker` agree
 * on, whatever the job: queue names, the list of queues in progress and how
 * a coordinator shows it is alive, the queue protocol version every job
 * carries, the limits shared by all jobs, and teacher logits kept in Redis by
 * their content hash. The jobs themselves (their payload and result) are the
 * business of the stage that queues them: search/queue-protocol.ts for a
 * search's candidates, finalize/final-queue-protocol.ts for finalized models.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import { packageInfo } from '../../locations.js';
import { writeFileAtomic } from '../../space/candidate-files.js';
import { readCachedTeacher, teacherCacheFiles } from '../teacher.js';
import { QueueError } from './redis-url.js';

/** Redis set of the queues in progress; workers watch every queue listed whose coordinator is alive. */
export const RUNS_KEY = 'nas:runs';
/**
 * How long a queue stays listed after its coordinator was last heard from
 * (a search's config `redisRunTtl`): a killed coordinator's jobs are trained
 * this long at most, then workers unlist the queue until a `--resume` lists
 * it again.
 * @default 60 s
 */
export const DEFAULT_RUN_TTL_SECONDS = 60;
/** The coordinator refreshes its queue's key this many times per TTL, so one late refresh does not unlist it. */
export const RUN_REFRESHES_PER_TTL = 3;
/** Attempts per job: a second worker retries a failure once before it is the job's. */
export const JOB_ATTEMPTS = 2;
/**
 * Entries kept in a queue's event stream (BullMQ's default is 10,000).
 * BullMQ copies each job's return value — a candidate's files, about 1.7 MB
 * of base64 in the small space — into its `completed` event, so the default
 * could hold gigabytes of Redis memory over a long search. The coordinator
 * uses events only to wake up early (it also polls), so few are needed;
 * Redis trims whole stream nodes (100 entries each), so up to about this
 * plus 100 stay.
 */
export const EVENTS_MAX_LEN = 100;
/** Largest result (a model's files) sent back through Redis; larger ones need --shared-dir. @default 64 MiB */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 2 ** 20;

/** What a queue serves: a search's candidates (`nas-run-<run id>`) or a finalization's models (`nas-final-<run id>`). */
export type QueueKind = 'run' | 'final';

const QUEUE_NAME = /^nas-(run|final)-[0-9a-f]{16}$/;

/** The queue of one search run. */
export function queueNameFor(runId: string, kind: QueueKind = 'run'): string {
  const name = `nas-${kind}-${runId}`;
  if (!QUEUE_NAME.test(name)) throw new QueueError(`run id '${runId}' is not 16 hex digits`);
  return name;
}

/** Whether a name read from Redis is a queue of a run or a finalization (anything else there is ignored). */
export function isRunQueueName(name: string): boolean {
  return QUEUE_NAME.test(name);
}

const RUN_ALIVE_PREFIX = 'nas:alive:';

/** The key whose presence says a queue's coordinator is alive: it sets it with a TTL and keeps refreshing it. */
export function runAliveKey(queueName: string): string {
  return `${RUN_ALIVE_PREFIX}${queueName}`;
}

/**
 * Coordinator: (re)lists its queue and refreshes its alive key, in one
 * transaction. Listing again on every refresh undoes a worker's unlisting
 * after the coordinator could not reach Redis for longer than the TTL.
 */
export async function refreshRun(client: Redis, queueName: string, ttlMs: number, holder: string): Promise<void> {
  await client.multi().set(runAliveKey(queueName), holder, 'PX', Math.max(1, Math.round(ttlMs))).sadd(RUNS_KEY, queueName).exec();
}

/** Coordinator, its work finished: unlisted and its key gone, so no worker waits on it. */
export async function unlistRun(client: Redis, queueName: string): Promise<void> {
  await client.multi().srem(RUNS_KEY, queueName).del(runAliveKey(queueName)).exec();
}

// One script, so that a queue listed again between the check and the removal
// is not unlisted (its coordinator sets the key before it lists the queue).
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

/** Worker: the listed queues whose coordinator is alive (to watch), and those it unlisted because their key expired. */
export async function liveRuns(client: Redis): Promise<{ live: string[]; unlisted: string[] }> {
  const [live, gone] = (await client.eval(LIVE_RUNS_SCRIPT, 1, RUNS_KEY, RUN_ALIVE_PREFIX)) as [string[], string[]];
  return { live: live.filter(isRunQueueName), unlisted: gone.filter(isRunQueueName) };
}

/**
 * The version of what a job and its result carry, for every kind of job. A
 * worker takes only jobs of its own protocol: one of another version goes
 * back to the queue unused and the worker stops, naming both versions
 * (queue-worker.ts), instead of failing the job on a field it does not know.
 * Raise it whenever a change to a job or a result would be refused, or read
 * differently, by the other side's schema (3: finalize jobs, which a worker
 * of protocol 2 would fail as bad payloads). Jobs without `protocol` come
 * from searches before it existed (version 1).
 */
export const QUEUE_PROTOCOL = 3;

/** The envelope of every job's payload: the queuing side's protocol and nas-edge version. */
export interface QueueEnvelope {
  /** QUEUE_PROTOCOL of the coordinator that queued it. */
  protocol: number;
  /** The queuing side's nas-edge version, for the message when protocols differ. */
  nasEdge: string;
}

/** This side's envelope, to spread into a payload. */
export function queueEnvelope(): QueueEnvelope {
  return { protocol: QUEUE_PROTOCOL, nasEdge: packageInfo().version };
}

/** A job queued by a coordinator of another protocol: the worker's fault to refuse, not the job's. */
export class QueueProtocolError extends QueueError {
  constructor(
    readonly jobProtocol: number,
    readonly jobVersion: string | null,
    source: string,
    coordinator = 'search',
  ) {
    const speaking = `queue protocol ${jobProtocol}${jobVersion ? ` (nas-edge ${jobVersion})` : ' (a nas-edge before protocol versions)'}`;
    super(
      `${source} was queued by a ${coordinator} speaking ${speaking}; this worker speaks queue protocol ${QUEUE_PROTOCOL} (nas-edge ${packageInfo().version}): ` +
        `run the same nas-edge version on the ${coordinator} and its workers`,
    );
    this.name = 'QueueProtocolError';
  }
}

/**
 * Refuses a payload of another protocol, read before any schema: a job of
 * another protocol may hold fields this version's strict schemas refuse, and
 * must not fail as a bad payload. A malformed `protocol` is left to the
 * job's schema, which names the field.
 * @throws QueueProtocolError
 */
export function checkQueueProtocol(value: unknown, source: string, coordinator = 'search'): void {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const protocol = record.protocol === undefined ? 1 : record.protocol;
  if (typeof protocol !== 'number' || !Number.isInteger(protocol) || protocol <= 0 || protocol === QUEUE_PROTOCOL) return;
  throw new QueueProtocolError(protocol, typeof record.nasEdge === 'string' ? record.nasEdge.slice(0, 64) : null, source, coordinator);
}

/** sha256 of bytes, hex: how files sent or shared are checked. */
export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

// Teacher logits. The files are the teacher cache's own (train/teacher.ts:
// teacherCacheFiles: `<key>.json` and `.f32`), carried as opaque bytes with
// their sha256; readCachedTeacher validates them after the download.

const teacherRedisKey = (key: string) => `nas:teacher:${key}`;

/** Coordinator: puts cached teacher logits into Redis once (a hash of meta, logits and their sha256). */
export async function publishTeacher(client: Redis, key: string): Promise<void> {
  const redisKey = teacherRedisKey(key);
  if (await client.exists(redisKey)) return;
  const files = teacherCacheFiles(key);
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
  const files = teacherCacheFiles(key);
  mkdirSync(dirname(files.logits), { recursive: true });
  writeFileAtomic(files.logits, logits);
  writeFileAtomic(files.meta, meta);
  if (!readCachedTeacher(key)) throw new QueueError(`teacher logits ${key} from Redis are not a valid cache entry`);
}
