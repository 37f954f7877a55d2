import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSupernets, readEpochs, readSupernet, supernetFiles } from '../../train/supernet-cache.js';
import { DEFAULT_SUPERNET_RECIPE, supernetRecipe } from '../../train/supernet-train.js';

const key = 'abcdef0123456789abcd';

describe('the supernet cache on bad files', () => {
  it('names the file and field of a damaged supernet.json or epochs.json, and lists it as damaged', () => {
    process.env.NAS_CACHE_DIR = mkdtempSync(join(tmpdir(), 'supernet-cache-'));
    const files = supernetFiles(key);
    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.epochs, '[{"epoch": 1, "phase": "sandwich"');
    expect(() => readEpochs(key)).toThrow(`${files.epochs}: cannot be read as JSON`);
    writeFileSync(files.epochs, '[{"epoch": 0, "phase": "sandwich", "loss": 1, "trainSeconds": 1, "largest": 0.5, "smallest": 0.4}]');
    expect(() => readEpochs(key)).toThrow(`${files.epochs}: 0.epoch:`);
    expect(listSupernets()).toEqual([expect.objectContaining({ key, meta: null, problem: expect.stringContaining(files.epochs) })]);

    writeFileSync(files.weights, '');
    writeFileSync(files.meta, JSON.stringify({ format: 'nas-edge-supernet-1', key }));
    expect(() => readSupernet(key)).toThrow(new RegExp(`${files.meta.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: space: `));
  });
});

describe('supernetRecipe: one recipe object for the same settings, whoever asks', () => {
  it('keeps the default field order, ignores undefined fields, and distils only with a teacher', () => {
    const json = (x: unknown) => JSON.stringify(x);
    // The default itself, in the default's field order: supernets cached before the function existed keep their keys.
    expect(json(supernetRecipe({}, true))).toBe(json(DEFAULT_SUPERNET_RECIPE));
    expect(json(supernetRecipe({ epochs: undefined, seed: undefined, kernelTransform: false }, true))).toBe(json(DEFAULT_SUPERNET_RECIPE));
    const seeded = supernetRecipe({ seed: 1, epochs: 8.78, strategy: 'progressive' }, false);
    expect(Object.keys(seeded)).toEqual(Object.keys(DEFAULT_SUPERNET_RECIPE));
    expect(seeded).toMatchObject({ seed: 1, epochs: 8.78, strategy: 'progressive', distillation: { temperature: 4, alpha: 0 } });
    expect(supernetRecipe({ alpha: 0.5 }, true).distillation.alpha).toBe(0.5);
    expect(supernetRecipe({ alpha: 0.5 }, false).distillation.alpha).toBe(0);
    expect(Object.keys(supernetRecipe({ kernelTransform: true }, false)).at(-1)).toBe('kernelTransform');
  });
});
