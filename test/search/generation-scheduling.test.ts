import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { evaluateGeneration } from '../../search/generation.js';
import type { CandidateEvaluator, CandidateRecord } from '../../search/types.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const rng = seedrandom('generation-scheduling');
const pending = Array.from({ length: 6 }, () => space.sample(rng)).map((genome) => ({ genome, id: space.id(genome) }));
const byMacsDescending = [...pending].sort((a, b) => space.cost(b.genome).macs - space.cost(a.genome).macs).map((p) => p.id);

/** An evaluator that logs when each latency is measured and each training starts. */
function loggingEvaluator(events: string[]): CandidateEvaluator {
  return {
    latency: async (_genome, id) => {
      events.push(`latency ${id}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
      return { p50: 1, p90: 1, source: 'measured' };
    },
    train: async (_genome, id) => {
      events.push(`train ${id}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { accuracy: 0.5, trainSeconds: 0, imagesPerSecond: 0, lossCurve: [] };
    },
    close: async () => {},
  };
}

async function run(distributed: boolean, remainingBudget = Infinity) {
  const events: string[] = [];
  const records: CandidateRecord[] = [];
  const complete = await evaluateGeneration(pending, 0, {
    config: resolveSearchConfig({ seed: 1, workers: 1 }),
    space,
    evaluator: loggingEvaluator(events),
    signal: new AbortController().signal,
    deadline: Infinity,
    distributed,
    remainingBudget,
    promotions: [],
    onRecord: (r) => records.push(r),
  });
  const trainOrder = events.filter((e) => e.startsWith('train ')).map((e) => e.slice(6));
  return { events, records, complete, trainOrder };
}

describe('one generation: latency, then training longest first', () => {
  it('locally: every latency is measured before any training starts, and training goes by MACs, largest first', async () => {
    const { events, records, complete, trainOrder } = await run(false);
    expect(complete).toBe(true);
    const firstTrain = events.findIndex((e) => e.startsWith('train '));
    expect(events.slice(0, firstTrain).every((e) => e.startsWith('latency '))).toBe(true);
    expect(firstTrain).toBe(pending.length);
    expect(trainOrder).toEqual(byMacsDescending);
    expect(records.filter((r) => r.state === 'evaluated')).toHaveLength(pending.length);
  });

  it('on a queue: each candidate is queued as soon as its latency is accepted, while the next one is measured', async () => {
    const { events, complete, trainOrder } = await run(true);
    expect(complete).toBe(true);
    expect(events.indexOf(`train ${byMacsDescending[0]}`)).toBeLessThan(events.indexOf(`latency ${byMacsDescending[1]}`));
    expect(trainOrder).toEqual(byMacsDescending);
  });

  it('an evaluation budget smaller than the generation trains the largest that fit and reports the generation incomplete', async () => {
    const { complete, trainOrder } = await run(true, 3);
    expect(complete).toBe(false);
    expect(trainOrder).toEqual(byMacsDescending.slice(0, 3));
  });
});
