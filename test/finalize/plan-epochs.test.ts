/**
 * Per-model epochs in final/plan.json (`nas finalize --time`): a plan with
 * them reads back as written, an older plan without them still loads and
 * trains with the one recipe it fixed, a bad value is named, and a model's
 * recipe at its own epochs is a complete schedule whose hash says so.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelRecipe, readPlan, type FinalizationPlan } from '../../finalize/finalize-run.js';
import { finalRecipe, recipeHash, recipeTrainOptions, recipeWithEpochs } from '../../finalize/recipe.js';
import { baseline } from '../../space/baselines.js';

const dir = mkdtempSync(join(tmpdir(), 'plan-epochs-'));
const recipe = finalRecipe({ teacher: false });
const cnn = { kind: 'baseline' as const, id: 'plain-cnn', name: 'plain-cnn', baseline: baseline('plain-cnn', 28) };
const v2 = { kind: 'baseline' as const, id: 'mobilenetv2-x0.35', name: 'mobilenetv2-x0.35', baseline: baseline('mobilenetv2-x0.35', 28) };

function written(plan: unknown, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(plan, null, 2) + '\n');
  return file;
}

describe('per-model epochs in plan.json', () => {
  it('a --time plan reads back exactly, and each model trains its own complete schedule', () => {
    const plan: FinalizationPlan = {
      configHash: 'abc',
      recipe,
      subset: null,
      teacherKey: null,
      models: [{ ...cnn, epochs: 12 }, { ...v2, epochs: 30 }],
      time: {
        budgetSeconds: 8 * 3600,
        startedAt: '2026-12-07T06:00:00.000Z',
        epochs: { min: 5, max: 30 },
        workers: 2,
        measured: [
          { id: 'plain-cnn', imagesPerSecond: 900, evaluationImagesPerSecond: 5000, checkpointSeconds: 0.01, steps: 40 },
          { id: 'mobilenetv2-x0.35', imagesPerSecond: 180, evaluationImagesPerSecond: 900, checkpointSeconds: 0.05, steps: 9 },
        ],
        overheadSeconds: 120,
        trainingSeconds: 9200,
        expectedSeconds: 9320,
        schedule: [
          { id: 'mobilenetv2-x0.35', name: 'mobilenetv2-x0.35', kind: 'baseline', epochs: 30, worker: 0, start: 0, end: 9200 },
          { id: 'plain-cnn', name: 'plain-cnn', kind: 'baseline', epochs: 12, worker: 1, start: 0, end: 800 },
        ],
        dropped: [{ id: 'mobilenetv2-x1.0', name: 'mobilenetv2-x1.0', kind: 'baseline', reason: 'too slow' }],
        shortened: null,
      },
    };
    const read = readPlan(written(plan, 'time.json'));
    expect(read).toEqual(plan);
    const [short, full] = read.models.map((m) => modelRecipe(read, m));
    // 12 epochs: its own warm-up (5%) and cosine to 0 over 12 epochs, the recipe a plain --epochs 12 would have: the same hash.
    expect(short.epochs).toBe(12);
    expect(short.warmupEpochs).toBeCloseTo(0.6, 12);
    expect(recipeTrainOptions(short).budget).toEqual({ epochs: 12 });
    expect(recipeHash(short)).toBe(recipeHash(finalRecipe({ teacher: false, epochs: 12 })));
    expect(recipeHash(short)).not.toBe(recipeHash(recipe));
    // At the recipe's own epochs the model's recipe is the plan's, hash and all.
    expect(recipeHash(full)).toBe(recipeHash(recipe));
  });

  it('an older plan, without epochs or a time plan, loads and trains every model with its one recipe', () => {
    const old = { configHash: 'abc', recipe, subset: 256, teacherKey: null, models: [cnn, v2] };
    const read = readPlan(written(old, 'old.json'));
    expect(read.time).toBeUndefined();
    for (const m of read.models) {
      expect(m.epochs).toBeUndefined();
      expect(modelRecipe(read, m)).toBe(read.recipe);
    }
  });

  it('a bad per-model epochs or time plan is refused, naming the file and the field', () => {
    const bad = { configHash: 'abc', recipe, subset: null, teacherKey: null, models: [cnn, { ...v2, epochs: 2.5 }] };
    const file = written(bad, 'bad.json');
    expect(() => readPlan(file)).toThrow(`${file}: models.1: epochs: expected a positive integer`);
    const noBudget = { configHash: 'abc', recipe, subset: null, teacherKey: null, models: [cnn], time: { startedAt: 'x' } };
    const other = written(noBudget, 'no-budget.json');
    expect(() => readPlan(other)).toThrow(new RegExp(`^${other}: time\\.budgetSeconds: `));
  });

  it('recipeWithEpochs refuses a schedule that is not whole epochs', () => {
    expect(() => recipeWithEpochs(recipe, 0)).toThrow(/epochs must be a positive integer, got 0/);
  });
});
