/**
 * A real redis-server for tests (Debian's, installed by .ci/run): started on
 * a free port in a temp directory with the settings the README documents,
 * restartable on the same port and data, and stopped by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** Extra redis-server arguments (they override the defaults below). */
  args?: string[];
  /** Listen for TLS on this port instead of plain TCP. */
  tls?: { cert: string; key: string; ca: string };
}

export interface RunningRedis {
  port: number;
  dir: string;
  url: string;
  /** SIGTERM and wait: with AOF, everything acknowledged is on disk. */
  stop(): Promise<void>;
  /** Starts again on the same port and directory. */
  start(): Promise<void>;
}

/** Starts redis-server with AOF (fsync always) and noeviction, bound to loopback. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RunningRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} not found: apt-get install -y redis-server (.ci/run installs it)`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const listen = options.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = [
    ...listen,
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--maxmemory-policy', 'noeviction',
    '--save', '',
    '--daemonize', 'no',
    ...(options.args ?? []),
  ];
  let child: ChildProcess | null = null;
  const running: RunningRedis = {
    port,
    dir,
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    async start() {
      const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Ready to accept connections')) resolve();
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
      });
    },
    async stop() {
      const proc = child;
      if (!proc || proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
      child = null;
    },
  };
  await running.start();
  return running;
}
