import { describe, expect, it } from 'vitest';
import { chooseVariant, confirmChoice, type VariantMeasurement } from '../../benchmarks/int8-choice.js';

const v = (name: string, latencyRatio: number | null, accuracyDrop: number | null, bytes = 100): VariantMeasurement => ({ name, latencyRatio, accuracyDrop, bytes });

describe('choosing an INT8 variant from measurements (never slower)', () => {
  it('keeps fp32 when no variant beats it by more than the noise margin, naming the fastest', () => {
    const c = chooseVariant([v('all', 1.12, 0.1), v('no-depthwise', 0.98, 0.1), v('per-tensor', 1.3, 0.2)]);
    expect(c.state).toBe('fp32');
    expect(c.reason).toBe("no INT8 variant beats fp32 on this machine (fastest: no-depthwise at 0.98× fp32's time): fp32 kept");
  });

  it('takes the fastest variant within the accuracy budget, skipping faster ones that lose too much', () => {
    const c = chooseVariant([v('all', 0.6, 0.9), v('no-depthwise', 0.7, 0.3), v('convs+gemm', 0.8, 0.1)]);
    expect(c).toMatchObject({ state: 'int8', variant: 'no-depthwise', latencyRatio: 0.7, accuracyDrop: 0.3 });
    expect(c.reason).toBe("no-depthwise: fastest INT8 variant at 0.70× fp32's time, 0.30 points lost (budget 0.5)");
  });

  it('keeps fp32 when every faster variant breaks the budget, and honours a custom budget', () => {
    const variants = [v('all', 0.6, 0.9), v('s8s8', 0.65, 1.4)];
    const c = chooseVariant(variants);
    expect(c.state).toBe('fp32');
    expect(c.reason).toContain('every INT8 variant faster than fp32 loses more than 0.5 points (all 0.90, s8s8 1.40)');
    expect(chooseVariant(variants, { maxAccuracyDrop: 1 })).toMatchObject({ state: 'int8', variant: 'all' });
  });

  it('accepts a variant whose accuracy could not be checked, and says so', () => {
    const c = chooseVariant([v('all', 0.5, null)]);
    expect(c).toMatchObject({ state: 'int8', variant: 'all', accuracyDrop: null });
    expect(c.reason).toContain('accuracy not checked');
  });

  it('breaks a speed tie by file size, ignores unmeasured variants, and keeps fp32 when none was measured', () => {
    expect(chooseVariant([v('big', 0.7, 0, 300), v('small', 0.7, 0, 200), v('lost', null, 0)])).toMatchObject({ variant: 'small' });
    expect(chooseVariant([v('lost', null, 0)])).toEqual({ state: 'fp32', reason: 'no INT8 variant could be measured: fp32 kept' });
    // A stricter noise margin turns a 5% gain into "not faster".
    expect(chooseVariant([v('all', 0.95, 0)], { maxLatencyRatio: 0.9 }).state).toBe('fp32');
  });

  it('an INT8 choice stands only if a second run against fp32 confirms it (the fastest of noisy draws is biased low)', () => {
    const first = chooseVariant([v('all', 1.02, 0), v('spatial-convs', 0.86, 0)]);
    expect(confirmChoice(first, 1.1)).toEqual({
      state: 'fp32',
      reason: "spatial-convs looked fastest at 0.86× fp32's time but measured 1.10× fp32's time when run again against fp32 alone: fp32 kept",
    });
    expect(confirmChoice(first, null).state).toBe('fp32');
    expect(confirmChoice(first, 0.9)).toMatchObject({ state: 'int8', variant: 'spatial-convs', latencyRatio: 0.9, reason: "spatial-convs: fastest INT8 variant at 0.90× fp32's time (confirmed), 0.00 points lost (budget 0.5)" });
    const kept = chooseVariant([v('all', 1.2, 0)]);
    expect(confirmChoice(kept, 0.5)).toBe(kept); // fp32 stays fp32
  });
});
