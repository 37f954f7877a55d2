import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyPool } from '../../benchmarks/pool.js';
import { candidateOnnx, fixtureDir } from '../fixtures/onnx-models.js';

const quick = { iterations: 20, time: 50, warmupTime: 20, warmupIterations: 2 };
let pool: LatencyPool;
let model: string;

beforeAll(async () => {
  model = await candidateOnnx(fixtureDir(), 'pool');
  pool = new LatencyPool({ timeout: 5_000, workerFile: fileURLToPath(new URL('../fixtures/misbehaving-worker.mjs', import.meta.url)) });
});
afterAll(async () => {
  await pool.close();
});

describe('the latency pool survives its workers', () => {
  it('a crashed worker fails that one measurement, and the pool keeps serving', async () => {
    const crashed = await pool.measure(model, 'crash', quick);
    expect(crashed.state).toBe('errored');
    if (crashed.state === 'errored') {
      expect(crashed.error.code).toBe('E_WORKER');
      expect(crashed.error.message).toMatch(/^crash: worker failed/);
    }
    expect((await pool.measure(model, 'after-crash', quick)).state).not.toBe('errored');
  });

  it('a hung worker times out, and the pool keeps serving', async () => {
    // The timeout is the pool's own (its message says so); the test times nothing itself.
    const hung = await pool.measure(model, 'hang', quick);
    expect(hung.state).toBe('errored');
    if (hung.state === 'errored') expect(hung.error.message).toBe('hang: timed out after 5000 ms; the worker was replaced');
    expect((await pool.measure(model, 'after-hang', quick)).state).not.toBe('errored');
  });

  it('a measurement queued behind a hung one gets its whole timeout once it starts', async () => {
    // Asked for together: the second waits out the first's 5 s, then is measured. Its timeout used to run
    // from when it was asked for, so it failed with the hung one without having started.
    const [hung, queued] = await Promise.all([pool.measure(model, 'hang', quick), pool.measure(model, 'queued', quick)]);
    expect(hung.state).toBe('errored');
    expect(queued.state).not.toBe('errored');
  });
});
