import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { TEST_SPACE } from '../helpers.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');
const nas = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: process.env });
const model = join(import.meta.dirname, '..', 'fixtures', 'torch', 'relu6-net-28-c10-opset10.onnx');

/** stdout is exactly one JSON document: parses as a whole. */
function document(r: ReturnType<typeof nas>): Record<string, unknown> {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

let root: string;
let trainedRun: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'json-output-'));
  // A real (tiny) search, so that its front has model files for finalize --dry-run.
  trainedRun = join(root, 'trained');
  await runSearch(
    resolveSearchConfig({ seed: 2, space: TEST_SPACE, searcher: { population: 2 }, budget: { generations: 1 }, training: { images: 64, subset: 200, batchSize: 32 }, teacher: null, latency: { iterations: 10, time: 20 }, workers: 1 }),
    { runDir: trainedRun },
  );
});

describe('--json: one JSON document on stdout, nothing else there; --quiet: nothing on stderr', () => {
  it('search and report', () => {
    const run = join(root, 'proxy');
    const search = document(nas('search', '--evaluator', 'proxy', '--generations', '2', '--population', '4', '--dir', run, '--json'));
    expect(search).toMatchObject({ runDir: run, stopReason: 'generations', generations: 2, candidates: 8, budget: '2 generations', resume: null });
    expect((search.front as Array<{ id: string; latencySource: string }>)[0]).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{12}$/), latencySource: 'formula' });

    const quiet = nas('search', '--evaluator', 'proxy', '--generations', '1', '--population', '4', '--dir', join(root, 'quiet'), '--json', '--quiet');
    expect(document(quiet).candidates).toBe(4);
    expect(quiet.stderr).toBe('');

    const report = document(nas('report', run, '--json'));
    expect(report).toMatchObject({ runDir: run, candidates: 8, front: search.front, files: expect.arrayContaining(['pareto.csv', 'summary.md']) });
  });

  it('finalize --dry-run', () => {
    const r = nas('finalize', trainedRun, '--dry-run', '--top', '1', '--no-baselines', '--json', '--quiet');
    const dry = document(r);
    expect(r.stderr).toBe('');
    expect(dry).toMatchObject({ runDir: trainedRun, dryRun: true, recipeHash: expect.any(String) });
    expect((dry.plan as { models: Array<{ kind: string; selectedAs: string[] }> }).models).toEqual([expect.objectContaining({ kind: 'front', selectedAs: ['top 1'] })]);
    // Only the dry run has a document to print.
    expect(nas('finalize', trainedRun, '--json').status).toBe(2);
  });

  it('bench', () => {
    const r = nas('bench', model, '--iterations', '5', '--time', '20', '--warmup', '0', '--out', join(root, 'bench'), '--json', '--quiet');
    const bench = document(r);
    expect(r.stderr).toBe('');
    expect(bench.results).toEqual([expect.objectContaining({ model: expect.stringContaining('relu6-net'), state: expect.stringMatching(/^(measured|noisy)$/) })]);
    expect(bench.files).toEqual({ csv: join(root, 'bench', 'bench.csv'), json: join(root, 'bench', 'bench.json') });
  });
});
