import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { FifoSlots } from '../fifo-slots.js';

/** A task that finishes when the test says so, recording when it started. */
function gatedTask(name: string, started: string[]) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { task: async () => (started.push(name), await done, name), finish };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('FifoSlots', () => {
  it('runs at most `size` tasks at once, the waiting ones in the order they asked', async () => {
    const slots = new FifoSlots(2);
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((n) => gatedTask(n, started));
    const results = tasks.map((t) => slots.run(t.task));
    await settle();
    expect(started).toEqual(['a', 'b']);
    tasks[1].finish();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
    tasks[0].finish();
    tasks[2].finish();
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    tasks[3].finish();
    tasks[4].finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a failed task frees its slot', async () => {
    const slots = new FifoSlots(1);
    await expect(slots.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.run(async () => 'next')).toBe('next');
  });

  it('aborting a waiting task rejects it with the reason and gives its place to the next', async () => {
    const slots = new FifoSlots(1);
    const started: string[] = [];
    const first = gatedTask('first', started);
    const abandoned = gatedTask('abandoned', started);
    const last = gatedTask('last', started);
    const controller = new AbortController();
    const running = slots.run(first.task);
    const waiting = slots.run(abandoned.task, controller.signal);
    const after = slots.run(last.task);
    controller.abort(new Error('search stopped'));
    await expect(waiting).rejects.toThrow('search stopped');
    first.finish();
    last.finish();
    expect(await Promise.all([running, after])).toEqual(['first', 'last']);
    expect(started).toEqual(['first', 'last']);
    await expect(slots.run(async () => 'x', controller.signal)).rejects.toThrow('search stopped');
  });

  it('names a bad size', () => {
    expect(() => new FifoSlots(0)).toThrow('slots must be a positive integer, got 0');
  });
});

// finalize-run.ts and bench/kd.ts queue their trainings in Piscina itself,
// without abort signals, and rely on `stricterFIFO` to run them in the order
// given (the selection's order; the short trainings first). Without the
// option this same pool ran the twelve tasks as 0 2 4 6 8 10 1 5 9 3 11 7
// (Piscina 5.3.2, when this test was written), so the test can fail.
describe("Piscina's stricterFIFO, as finalize and bench:kd use it", () => {
  it('runs tasks queued on one thread in the order they were submitted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nas-fifo-'));
    const worker = join(dir, 'sleep-worker.mjs');
    writeFileSync(worker, 'export default async (i) => { await new Promise((r) => setTimeout(r, 5)); return i; };\n');
    const pool = new Piscina({ filename: worker, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1, stricterFIFO: true });
    try {
      const finished: number[] = [];
      await Promise.all(Array.from({ length: 12 }, (_, i) => pool.run(i).then((n: number) => finished.push(n))));
      expect(finished).toEqual(Array.from({ length: 12 }, (_, i) => i));
    } finally {
      await pool.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
