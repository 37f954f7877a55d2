import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finalRecipe, recipeHash } from '../../finalize/recipe.js';
import { trainFinalModel } from '../../finalize/train-final.js';
import type { FinalizeEvent, FinalModel } from '../../finalize/types.js';
import { baseline } from '../../space/baselines.js';

describe('front members and baselines are trained by one function with one recipe', () => {
  it('a genome front member, a genome baseline and the plain CNN: same recipe hash, same epochs, checkpoints and files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'same-path-'));
    const recipe = finalRecipe({ epochs: 2, teacher: false });
    const front: FinalModel = {
      kind: 'front',
      id: 'aaaaaaaaaaaa',
      name: 'front aaaaaaaaaaaa',
      genome: { resolution: 28, stemWidth: 8, headWidth: 32, stages: [{ width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] }, { width: 16, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 3, expand: 3 }] }] },
      strides: { stem: 1, stages: [1, 2] },
    };
    const models: FinalModel[] = [front, ...(['mobilenetv2-x0.35', 'plain-cnn'] as const).map((n): FinalModel => ({ kind: 'baseline', id: n, name: n, baseline: baseline(n, 28) }))];
    const data = { spec: 'fashion-mnist-sample', validationFraction: 0.1, seed: 0, subset: 64 };
    for (const model of models) {
      const events: FinalizeEvent[] = [];
      const outDir = join(root, model.id);
      const record = await trainFinalModel({ model, data, teacherKey: null, recipe, outDir }, (e) => events.push(e));
      if (record.state !== 'trained') throw new Error(record.error);
      expect(record.recipeHash).toBe(recipeHash(recipe));
      expect(record.epochs).toBe(2);
      expect(record.validationCurve).toHaveLength(2);
      expect(record.testCount).toBe(1000);
      expect(events.filter((e) => e.type === 'epoch').map((e) => (e as { epoch: number }).epoch)).toEqual([1, 2]);
      expect(existsSync(join(outDir, 'checkpoint.bin'))).toBe(false); // removed once the model is done
      expect(JSON.parse(readFileSync(join(outDir, 'record.json'), 'utf8'))).toEqual(record);
      expect(existsSync(join(outDir, 'model.onnx'))).toBe(true);
      expect(existsSync(join(outDir, model.kind === 'baseline' && model.baseline.kind === 'plain-cnn' ? 'baseline.json' : 'genome.json'))).toBe(true);
    }
  }, 600_000);

  it('a recipe of two threads per model: the plain CNN trains data-parallel, twice to the same weights and record', async () => {
    const root = mkdtempSync(join(tmpdir(), 'threads-path-'));
    const recipe = finalRecipe({ epochs: 2, teacher: false, threads: 2 });
    const model: FinalModel = { kind: 'baseline', id: 'plain-cnn', name: 'plain-cnn', baseline: baseline('plain-cnn', 28) };
    const data = { spec: 'fashion-mnist-sample', validationFraction: 0.1, seed: 0, subset: 64 };
    const runs = [];
    for (const dir of ['a', 'b']) {
      const outDir = join(root, dir);
      const record = await trainFinalModel({ model, data, teacherKey: null, recipe, outDir });
      if (record.state !== 'trained') throw new Error(record.error);
      expect(record.recipeHash).toBe(recipeHash(recipe));
      expect(record.validationCurve).toHaveLength(2);
      runs.push({ record, weights: readFileSync(join(outDir, 'weights.bin')) });
    }
    expect(recipeHash(recipe)).not.toBe(recipeHash(finalRecipe({ epochs: 2, teacher: false })));
    expect(runs[1].weights.equals(runs[0].weights)).toBe(true);
    expect(runs[1].record.validationCurve).toEqual(runs[0].record.validationCurve);
    expect(runs[1].record.testAccuracy).toBe(runs[0].record.testAccuracy);
  }, 600_000);
});
