import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyPool } from '../../benchmarks/pool.js';
import { LatencyPredictor, partKey, planParts } from '../../benchmarks/predictor.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const quick = { iterations: 20, time: 30, warmupTime: 10, warmupIterations: 2, maxRepeats: 0 };
let pool: LatencyPool;
beforeAll(() => {
  pool = new LatencyPool();
});
afterAll(async () => {
  await pool.close();
});

describe('latency lookup table', () => {
  it('keys depend on everything a part\'s cost depends on', () => {
    const g = space.sample(seedrandom('keys'));
    const plan = space.plan(g);
    const keys = planParts(plan).map((p) => partKey(plan, p));
    expect(keys[0]).toMatch(/^stem:1>\d+k3s1relu6@\d+$/);
    expect(keys.at(-1)).toMatch(/^head:/);
    const bigger = structuredClone(g);
    bigger.resolution = g.resolution === 32 ? 28 : 32;
    const biggerPlan = space.plan(bigger);
    expect(partKey(biggerPlan, { kind: 'stem' })).not.toBe(keys[0]);
  });

  it('predicts nothing until measured; then the sum of parts less the per-call overhead, and round-trips through a file', async () => {
    const rng = seedrandom('predict');
    const plans = [space.plan(space.sample(rng)), space.plan(space.sample(rng))];
    const predictor = new LatencyPredictor();
    expect(predictor.predict(plans[0])).toBeNull();
    const measured = await predictor.measureMissing(plans, pool, quick);
    expect(measured).toBe(new Set(plans.flatMap((p) => planParts(p).map((part) => partKey(p, part)))).size);
    for (const plan of plans) {
      const parts = planParts(plan);
      const sum = parts.reduce((a, part) => a + predictor.table.entries[partKey(plan, part)], 0);
      expect(predictor.predict(plan)).toBeCloseTo(sum - (parts.length - 1) * predictor.table.overheadMs!, 12);
      expect(predictor.missing(plan)).toEqual([]);
    }
    const file = join(mkdtempSync(join(tmpdir(), 'lut-')), 'latency-table.json');
    predictor.save(file);
    expect(LatencyPredictor.load(file).predict(plans[1])).toBe(predictor.predict(plans[1]));
    expect(await predictor.measureMissing(plans, pool, quick)).toBe(0);
  });
});
