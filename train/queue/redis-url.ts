/**
 * A Redis URL checked and redacted, and the error a queue fails with: the
 * parts of the queue's set-up that need no Redis client, so that checking a
 * config (config.ts) and the search loop load ioredis only for a run that
 * trains through a queue.
 */
import { CodedError } from '../../errors.js';

/** Redis unreachable, misconfigured, or a URL that is not one: says which and what to do. */
export class QueueError extends CodedError {
  readonly code = 'E_QUEUE';
}

/** The URL with its password hidden, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** Checks a URL's form (protocol, host, db) without connecting; returns what is wrong or null. */
export function redisUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `'${url}' is not a URL (expected redis://[user[:password]@]host[:port][/db] or rediss://…)`;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `${u.protocol} is not redis: or rediss:`;
  if (!u.hostname) return 'has no host';
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) return `database '${db}' is not a number`;
  if (u.search || u.hash) return 'has a query or fragment; give settings as flags instead';
  return null;
}
