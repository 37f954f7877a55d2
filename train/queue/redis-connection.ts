/**
 * Connecting to the Redis that carries a run's queue: a URL (`redis://` or
 * `rediss://` for TLS, with an ACL user and a password) turned into ioredis
 * options, a first connection that fails with a clear error, and the check
 * of the settings a queue needs to survive a Redis restart: AOF persistence
 * and `maxmemory-policy noeviction`.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { QueueError, redactRedisUrl, redisUrlProblem } from './redis-url.js';

export { QueueError, redactRedisUrl, redisUrlProblem } from './redis-url.js';

/** The password when the URL holds none (a search's config never holds one). */
export const REDIS_PASSWORD_ENV = 'NAS_REDIS_PASSWORD';
/** A PEM file of the CA that signed a `rediss://` server's certificate, when it is not a system CA. */
export const REDIS_CA_ENV = 'NAS_REDIS_CA_FILE';
/** How long the first connection may take before it is an error. */
export const REDIS_CONNECT_TIMEOUT_MS = 10_000;

/** ioredis options for a URL: see the file comment. Commands wait through reconnections (BullMQ needs that). */
export function redisOptionsFromUrl(url: string, source = '--redis'): RedisOptions {
  const problem = redisUrlProblem(url);
  if (problem) throw new QueueError(`${source}: ${problem}`);
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : process.env[REDIS_PASSWORD_ENV];
  const options: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    db: Number(u.pathname.replace(/^\//, '') || 0),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(password ? { password } : {}),
    maxRetriesPerRequest: null,
    // Reconnect forever, at most every 2 s: a restarted Redis is picked up quickly.
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
  if (u.protocol === 'rediss:') {
    const caFile = process.env[REDIS_CA_ENV];
    options.tls = { servername: options.host, ...(caFile ? { ca: readFileSync(caFile) } : {}) };
  }
  return options;
}

/** One INFO section as a map of its fields. */
async function infoSection(client: Redis, section: string): Promise<Map<string, string>> {
  const text = await client.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/**
 * Refuses a Redis that could lose the queue: without AOF a restart forgets
 * jobs and results; with an evicting policy Redis may drop a job's keys under
 * memory pressure. The error says what to set.
 */
export async function checkRedisSettings(client: Redis, where: string): Promise<void> {
  const persistence = await infoSection(client, 'persistence');
  if (persistence.get('aof_enabled') !== '1') {
    throw new QueueError(
      `${where}: AOF persistence is off, so a Redis restart would lose queued jobs and finished results; ` +
        `start redis-server with --appendonly yes (or run CONFIG SET appendonly yes and add 'appendonly yes' to redis.conf)`,
    );
  }
  const memory = await infoSection(client, 'memory');
  const policy = memory.get('maxmemory_policy');
  if (policy !== 'noeviction') {
    throw new QueueError(
      `${where}: maxmemory-policy is ${policy ?? 'unknown'}, so Redis may evict a job's keys when memory runs short; ` +
        `start redis-server with --maxmemory-policy noeviction (or CONFIG SET maxmemory-policy noeviction)`,
    );
  }
}

/** Connects (within {@link REDIS_CONNECT_TIMEOUT_MS}) and checks the settings; the client is the caller's to close. */
export async function connectRedis(url: string, source = '--redis'): Promise<Redis> {
  const options = redisOptionsFromUrl(url, source);
  const where = redactRedisUrl(url);
  const client = new Redis({ ...options, lazyConnect: true });
  let lastError: Error | null = null;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await withTimeout(client.connect(), REDIS_CONNECT_TIMEOUT_MS, () => lastError);
    await checkRedisSettings(client, where);
    return client;
  } catch (error) {
    client.disconnect();
    if (error instanceof QueueError) throw error;
    // An AUTH refusal closes the connection: the reason is in the last error event.
    const message = [(error as Error).message, (lastError as Error | null)?.message].filter(Boolean).join('; ');
    if (/WRONGPASS|NOAUTH|NOPERM/.test(message)) {
      throw new QueueError(`${where}: Redis refused the credentials (${message}); give the user in the URL and the password in the URL or ${REDIS_PASSWORD_ENV}`);
    }
    throw new QueueError(`${where}: cannot connect to Redis (${message})`);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, lastError: () => Error | null): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(lastError()?.message ?? `no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A new client for the same server (BullMQ's queue, worker and events each hold their own). */
export function newRedisClient(url: string, source = '--redis'): Redis {
  const client = new Redis(redisOptionsFromUrl(url, source));
  // Connection errors come and go while Redis restarts; ioredis reconnects by itself.
  client.on('error', () => {});
  return client;
}
