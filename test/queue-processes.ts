/**
 * `nas worker` (and `nas search`) processes for the distributed tests: each
 * worker with its own empty cache (so teacher logits must come through
 * Redis), its output collected, and a way to wait for what it prints.
 * Nothing here asserts on time: waits are generous and only fail a test that
 * would otherwise hang.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';

export const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'bin.js');
/** Lock 2 s, stalled check every 1 s: a killed worker's job is back in the queue within 3 s. */
export const FAST_STALL = ['--lock-duration', '2000', '--stalled-interval', '1000'];

export interface CliProcess {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `nas <args>` with its own cache directory under `root`. */
export function startCli(root: string, args: string[], env: Record<string, string> = {}): CliProcess {
  const cache = mkdtempSync(join(root, 'cache-'));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NAS_CACHE_DIR: cache, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** `nas worker --redis <url>` with fast stalled-job checks. */
export function startWorker(root: string, url: string, extra: string[] = [], env: Record<string, string> = {}): CliProcess {
  return startCli(root, ['worker', '--redis', url, ...FAST_STALL, ...extra], env);
}

/** SIGTERM (jobs in progress finish) and wait for the exit. */
export async function stopProcess(p: CliProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.exited;
}

/** Waits until `check` holds; throws (naming `what`) only after `ms`, so a slow machine does not fail a test. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 240_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The parsed lines of a run's journal.jsonl (none when it is not there yet). */
export function journalRecords(dir: string): Array<Record<string, unknown> & { id: string; state: string }> {
  const file = join(dir, 'journal.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The run id in a run directory's config.json (it names the run's queue). */
export function runIdOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { runId: string }).runId;
}

/** Candidate ids a worker printed `training <id> (<runId>_…` for, in order (repeats kept). */
export function trainedBy(output: string, runId: string): string[] {
  return [...output.matchAll(new RegExp(`training (\\w+) \\(${runId}_`, 'g'))].map((m) => m[1]);
}

/** An IDX directory (under `root`) of 20 seeded random images: data that is not the search's. */
export function wrongData(root: string): string {
  const dir = join(root, 'wrong-data');
  mkdirSync(dir, { recursive: true });
  const rng = seedrandom('wrong');
  for (const split of ['train', 't10k']) {
    const images = Buffer.alloc(16 + 20 * 28 * 28);
    images.writeUInt32BE(0x803, 0);
    images.writeUInt32BE(20, 4);
    images.writeUInt32BE(28, 8);
    images.writeUInt32BE(28, 12);
    for (let i = 16; i < images.length; i++) images[i] = Math.floor(rng() * 256);
    const labels = Buffer.alloc(8 + 20);
    labels.writeUInt32BE(0x801, 0);
    labels.writeUInt32BE(20, 4);
    for (let i = 0; i < 20; i++) labels[8 + i] = i % 10;
    writeFileSync(join(dir, `${split}-images-idx3-ubyte`), images);
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte`), labels);
  }
  return dir;
}
