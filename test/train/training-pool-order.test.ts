import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainingTask } from '../../train/training-job.js';
import { TrainingPool } from '../../train/training-pool.js';

// Given to Piscina at once, 12 tasks on one thread ran as 0 2 4 6 8 10 1 5 9 3 11 7
// (a task it cannot place goes to the back of its queue); the pool admits them in order.
const pool = new TrainingPool({ threads: 1, workerFile: fileURLToPath(new URL('../fixtures/echo-train-worker.mjs', import.meta.url)) });
afterAll(async () => {
  await pool.close();
});

describe('the training pool', () => {
  it('starts candidates in the order they were asked for', async () => {
    const finished: string[] = [];
    const names = Array.from({ length: 12 }, (_, i) => `task-${i}`);
    // One thread: a task finishes before the next starts, so the order they finish in is the order they started in.
    await Promise.all(
      names.map(async (name) => {
        const answer = (await pool.run({ dataSpec: name } as unknown as TrainingTask, new AbortController().signal, 60)) as unknown as { name: string };
        finished.push(answer.name);
      }),
    );
    expect(finished).toEqual(names);
  });
});
