import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSupernets, readEpochs, readSupernet, supernetFiles } from '../../train/supernet-cache.js';

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
