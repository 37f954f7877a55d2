import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../../cli/search.js';
import { budgetText, searchPlanLines } from '../../cli/search-plan.js';
import { newRunConfig, type SearchConfig } from '../../search/config.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');

describe('nas search prints its plan before anything slow', () => {
  it('the overnight plan names the data, the teacher and its epochs, how candidates train, the budget and the run directory', () => {
    const config = configFromFlags({ preset: 'overnight' });
    const lines = searchPlanLines(config, 'results/overnight-fashion-mnist', config.budget, false);
    expect(lines).toEqual([
      'search: seed 0, evaluator real',
      '  data: fashion-mnist (10% held out for validation)',
      '  teacher: trains mobilenetv3-small for 20 epochs on 2 threads before the first candidate (once; cached after)',
      expect.stringMatching(/^ {2}candidates: nsga2, 24 per generation; each trains 1 epoch of a 8000-image subset, \d+ at a time; the best 1\/3 of each rung train on, up to 3 rungs; slower than 1 ms p50 rejected$/),
      '  latency: p50 of the fp32 model, 1 thread, on this machine',
      '  budget: 1000 trained candidates or 8h00m (no new training after it), whichever comes first',
      '  results: results/overnight-fashion-mnist (report.html after each generation; --resume results/overnight-fashion-mnist continues it)',
    ]);
    expect(budgetText({ generations: 3 })).toBe('3 generations');
  });

  it('names the precision and threads the latency is measured in', () => {
    const int8 = configFromFlags({ preset: 'overnight', precision: 'int8', latencyThreads: 2 });
    expect(searchPlanLines(int8, 'r', int8.budget, false)).toContain('  latency: p50 of the INT8 model compress would ship (its fastest variant, measured against fp32), 2 threads, on this machine (the fp32 lookup table rejects nothing in this run)');
    const best = configFromFlags({ preset: 'overnight', precision: 'best' });
    expect(searchPlanLines(best, 'r', best.budget, false).find((l) => l.startsWith('  latency:'))).toMatch(/fp32 or INT8, whichever compress would ship/);
  });

  it('a supernet search on predicted latency says so, from --supernet and --latency-source alone', () => {
    const c = configFromFlags({ preset: 'overnight', supernet: 'a'.repeat(20), latencyPredictor: 'p.json', latencySource: 'predicted' });
    expect(c.evaluator).toBe('supernet');
    expect(c.supernet).toBe('a'.repeat(20));
    // The overnight preset's rungs train candidates further: dropped, since a supernet scores them.
    expect(c.fidelity).toBeUndefined();
    const lines = searchPlanLines(c, 'r', c.budget, false);
    expect(lines).toContain('search: seed 0, evaluator supernet');
    expect(lines).toContain('  latency: p50 of the fp32 model predicted by p.json (nothing measured), 1 thread, for the target it was built on');
    const trained = configFromFlags({ preset: 'overnight', supernet: 'train' });
    expect(trained.supernet).toEqual({ train: {} });
    expect(searchPlanLines(trained, 'r', trained.budget, false).find((l) => l.startsWith('  candidates:'))).toMatch(/scored with weights from the space's supernet \(10 epochs, sandwich; trained first unless cached\)/);
    expect(() => configFromFlags({ preset: 'overnight', latencySource: 'predicted' })).toThrow(/latency\.source: "predicted" takes every latency from a predictor file/);
    // The plan is printed from the run's config.json: a new supernet run ranks by log-likelihood unless --rank-by says otherwise.
    const candidatesLine = (config: SearchConfig) => searchPlanLines(config, 'r', config.budget, false).find((l) => l.startsWith('  candidates:'));
    expect(candidatesLine(newRunConfig(c))).toMatch(/statistics recomputed from 512 training images \(no training\), on the validation split, ranked by log-likelihood(;|$)/);
    // --bn-images and --validation-images set the scoring's sizes, and the plan says them.
    const cheaper = configFromFlags({ preset: 'overnight', supernet: 'a'.repeat(20), bnImages: 256, validationImages: 3000 });
    expect(cheaper.supernetScoring).toEqual({ bnImages: 256, validationImages: 3000 });
    expect(candidatesLine(cheaper)).toMatch(/from 256 training images \(no training\), on the validation split's first 3000 images, /);
    expect(configFromFlags({ preset: 'overnight', supernet: 'a'.repeat(20), validationImages: 3000 }).supernetScoring).toEqual({ validationImages: 3000 });
    const byAccuracy = configFromFlags({ preset: 'overnight', supernet: 'a'.repeat(20), rankBy: 'accuracy' });
    expect(candidatesLine(newRunConfig(byAccuracy))).toMatch(/ranked by top-1 accuracy(;|$)/);
    expect(configFromFlags({ preset: 'overnight', rankBy: 'log-likelihood' }).rankBy).toBe('log-likelihood');
    expect(newRunConfig(configFromFlags({ preset: 'overnight' })).rankBy).toBeUndefined();
  });

  it('`--preset overnight` prints the plan at once, before the teacher starts training (child process, killed after)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'plan-'));
    const dir = join(root, 'run');
    // The overnight preset on the bundled sample, so the run starts without the full dataset.
    const child = spawn(process.execPath, [cli, 'search', '--preset', 'overnight', '--data', 'fashion-mnist-sample', '--dir', dir], {
      env: { ...process.env, NAS_CACHE_DIR: join(root, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.resume();
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('  results: ')) resolve();
      });
      child.on('exit', () => resolve());
    });
    child.kill('SIGKILL');
    await exited;
    const lines = stderr.split('\n');
    const first = lines.findIndex((l) => l.startsWith('search: seed 0'));
    expect(first, stderr).toBe(0);
    expect(lines.slice(0, 7).join('\n')).toMatch(/data: fashion-mnist-sample[^]*teacher: trains mobilenetv3-small for 20 epochs[^]*budget: 1000 trained candidates or 8h00m[^]*results: .*run/);
    // Nothing of the teacher's training came before the plan.
    expect(lines.slice(0, 7).some((l) => /^teacher: /.test(l))).toBe(false);
  });
});
