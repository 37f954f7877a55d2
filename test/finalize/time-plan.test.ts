/**
 * The `--time` planner (finalize/time-plan.ts) against hand-worked cases:
 * full schedules at equal epochs, shortened before dropping, baselines
 * dropped most expensive first, one error naming --time when nothing fits,
 * and, on seeded random inputs, a plan that always ends within the budget.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { formatSeconds, listSchedule, planForTime, trainingSeconds, type TimedModelInput, type TimePlanInput } from '../../finalize/time-plan.js';

/** A model whose epoch takes `secondsPerEpoch` (1000 images at 1000 / secondsPerEpoch images/s). */
const model = (id: string, kind: 'front' | 'baseline', secondsPerEpoch: number): TimedModelInput => ({ id, name: id, kind, imagesPerEpoch: 1000, imagesPerSecond: 1000 / secondsPerEpoch });
const epochs = { min: 5, max: 30 };

describe('listSchedule', () => {
  it('hands the longest job out first, each to the worker free first (the textbook LPT case: 7, where 6 is optimal)', () => {
    const s = listSchedule([2, 3, 2, 3, 2], 2);
    expect(s.order).toEqual([1, 3, 0, 2, 4]);
    expect(s.worker).toEqual([0, 0, 1, 1, 0]);
    expect(s.start).toEqual([3, 0, 3, 0, 5]);
    expect(s.makespan).toBe(7);
    expect(listSchedule([4, 1], 3).makespan).toBe(4);
  });
});

describe('planForTime', () => {
  const three = [model('a', 'front', 10), model('b', 'front', 10), model('c', 'baseline', 20)];

  it('gives every model the full 30 epochs when they fit, longest first', () => {
    // At 30 epochs: c 600 s on worker 1; a then b, 300 s each, on worker 2; 100 s overhead: ends at 700.
    const plan = planForTime({ models: three, workers: 2, budgetSeconds: 700, overheadSeconds: 100, epochs });
    expect(plan.models.map((m) => [m.id, m.epochs, m.worker, m.start, m.end])).toEqual([
      ['c', 30, 0, 0, 600],
      ['a', 30, 1, 0, 300],
      ['b', 30, 1, 300, 600],
    ]);
    expect(plan.trainingSeconds).toBe(600);
    expect(plan.expectedSeconds).toBe(700);
    expect(plan.shortened).toBeNull();
    expect(plan.dropped).toEqual([]);
  });

  it('shortens every model alike before dropping any, and says from what', () => {
    // 100 + 20·E ≤ 500: E = 20 (c 400 s alone; a and b 200 s each on the other worker).
    const plan = planForTime({ models: three, workers: 2, budgetSeconds: 500, overheadSeconds: 100, epochs });
    expect(plan.models.map((m) => m.epochs)).toEqual([20, 20, 20]);
    expect(plan.expectedSeconds).toBe(500);
    expect(plan.dropped).toEqual([]);
    expect(plan.shortened).toBe('every model trains 20 epochs, not 30: 30 epochs of the 3 models would end at 11m 40s, past the 8m 20s budget');
  });

  it('drops the most expensive baseline when even 5 epochs do not fit, then gives the rest the most epochs that do', () => {
    const models = [model('f1', 'front', 1), model('f2', 'front', 1), model('small', 'baseline', 2), model('big', 'baseline', 40), model('mid', 'baseline', 10)];
    // At 5 epochs: big alone takes 200 s > 100. Without it: mid 10·E on one worker, small + f1 + f2 = 4·E on the other: E = 10.
    const plan = planForTime({ models, workers: 2, budgetSeconds: 100, overheadSeconds: 0, epochs });
    expect(plan.dropped.map((d) => d.id)).toEqual(['big']);
    expect(plan.dropped[0].reason).toBe('5 epochs of the 5 models would end at 3m 20s, past the 1m 40s budget; baselines go first, the most expensive first (big: 3m 20s at 5 epochs)');
    expect(plan.models.map((m) => [m.id, m.epochs])).toEqual([['mid', 10], ['small', 10], ['f1', 10], ['f2', 10]]);
    expect(plan.expectedSeconds).toBe(100);
    expect(plan.shortened).toMatch(/^every model trains 10 epochs, not 30: 30 epochs of the 4 models would end at 5m 00s/);
  });

  it('drops front members, the most expensive first, only when no baseline is left', () => {
    const plan = planForTime({ models: [model('cheap', 'front', 10), model('dear', 'front', 100), model('base', 'baseline', 1)], workers: 1, budgetSeconds: 200, overheadSeconds: 0, epochs });
    // 5 epochs of all three take 555 s on one worker: base goes first although cheapest, then dear (550 s); cheap alone: 10·E ≤ 200, E = 20.
    expect(plan.dropped.map((d) => d.id)).toEqual(['base', 'dear']);
    expect(plan.dropped[1].reason).toMatch(/no baseline is left, and front members go the most expensive first \(dear: 8m 20s at 5 epochs\)$/);
    expect(plan.models.map((m) => [m.id, m.epochs])).toEqual([['cheap', 20]]);
  });

  it('drops a front member chosen only as the challenger of dropped baselines with the last of them', () => {
    const models = [
      model('f', 'front', 1),
      { ...model('ch', 'front', 5), challengerOf: ['big'] },
      { ...model('both', 'front', 1), challengerOf: ['big', 'small'] },
      model('small', 'baseline', 2),
      model('big', 'baseline', 40),
    ];
    // big alone takes 200 s at 5 epochs; without it and its only challenger: 2·E (small) against E + E on 2 workers, 30 epochs in 60 s.
    const plan = planForTime({ models, workers: 2, budgetSeconds: 100, overheadSeconds: 0, epochs });
    expect(plan.dropped.map((d) => [d.id, d.reason.replace(/^5 epochs.*first \(/, '… (')])).toEqual([
      ['big', '… (big: 3m 20s at 5 epochs)'],
      ['ch', 'chosen only as the challenger of big, dropped'],
    ]);
    expect(plan.models.map((m) => [m.id, m.epochs])).toEqual([['small', 30], ['f', 30], ['both', 30]]);
    expect(plan.expectedSeconds).toBe(60);
  });

  it('counts per-epoch evaluation and the fixed cost of each model', () => {
    const m: TimedModelInput = { ...model('m', 'front', 10), evaluationSecondsPerEpoch: 2, fixedSeconds: 30 };
    expect(trainingSeconds(m, 30)).toBe(390);
    const plan = planForTime({ models: [m], workers: 2, budgetSeconds: 389, overheadSeconds: 0, epochs });
    expect(plan.models[0].epochs).toBe(29); // 30 + 12·29 = 378 ≤ 389 < 390
  });

  it('refuses a budget too short for any model with one error naming --time', () => {
    const input: TimePlanInput = { models: [model('x', 'baseline', 100), model('y', 'front', 200)], workers: 2, budgetSeconds: 400, overheadSeconds: 50, epochs };
    expect(() => planForTime(input)).toThrow('--time 6m 40s: too short for any model; the cheapest, x, needs 9m 10s for 5 epochs (at 10 images/s, with 50s of measuring and reporting); give more time');
  });

  it('on seeded random selections: kept models share one epoch count within bounds, end within the budget, and kept plus dropped is the selection', () => {
    const rng = seedrandom('time-plan');
    let checked = 0;
    for (let trial = 0; trial < 200; trial++) {
      const models = Array.from({ length: 1 + Math.floor(rng() * 8) }, (_, i) => ({
        ...model(`m${i}`, rng() < 0.5 ? 'front' : 'baseline', 1 + rng() * 50),
        evaluationSecondsPerEpoch: rng() * 3,
        fixedSeconds: rng() * 20,
      }));
      const input: TimePlanInput = { models, workers: 1 + Math.floor(rng() * 3), budgetSeconds: 100 + rng() * 3000, overheadSeconds: rng() * 100, epochs };
      let plan;
      try {
        plan = planForTime(input);
      } catch (error) {
        expect((error as Error).message).toMatch(/^--time /);
        // Only when the cheapest model alone at the floor overruns.
        expect(Math.min(...models.map((m) => input.overheadSeconds + trainingSeconds(m, 5)))).toBeGreaterThan(input.budgetSeconds);
        continue;
      }
      checked++;
      const e = plan.models[0].epochs;
      expect(e).toBeGreaterThanOrEqual(5);
      expect(e).toBeLessThanOrEqual(30);
      for (const m of plan.models) expect(m.epochs).toBe(e);
      // The makespan recomputed from the schedule: no worker runs two models at once, and the last ends within the budget.
      for (let w = 0; w < input.workers; w++) {
        const on = plan.models.filter((m) => m.worker === w).sort((a, b) => a.start - b.start);
        for (let k = 1; k < on.length; k++) expect(on[k].start).toBeGreaterThanOrEqual(on[k - 1].end - 1e-9);
      }
      expect(input.overheadSeconds + Math.max(...plan.models.map((m) => m.end))).toBeLessThanOrEqual(input.budgetSeconds + 1e-9);
      expect(plan.expectedSeconds).toBeLessThanOrEqual(input.budgetSeconds);
      expect([...plan.models.map((m) => m.id), ...plan.dropped.map((d) => d.id)].sort()).toEqual(models.map((m) => m.id).sort());
      // A baseline is never kept while a front member was dropped.
      if (plan.dropped.some((d) => d.kind === 'front')) expect(plan.models.every((m) => m.kind === 'front')).toBe(true);
      if (e < 30) expect(plan.shortened).toMatch(new RegExp(`^every model trains ${e} epochs, not 30`));
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('formats durations as the plan prints them', () => {
    expect([formatSeconds(45), formatSeconds(700), formatSeconds(3600 * 8), formatSeconds(3600 + 5 * 60 + 29)]).toEqual(['45s', '11m 40s', '8h 00m', '1h 05m']);
  });
});
