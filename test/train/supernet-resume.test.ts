import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSupernet, supernetFiles } from '../../train/supernet-cache.js';
import type { SearchSpaceConfig } from '../../space/types.js';

const bin = join(process.cwd(), 'dist', 'cli', 'bin.js');

/** A supernet small enough to train 4 epochs of 384 images in seconds. */
const TINY: SearchSpaceConfig = {
  resolutions: [20, 24],
  stemWidths: [8],
  stemStride: 2,
  stages: [
    { depths: [1], widths: [8], expandRatios: [1], kernelSizes: [3], squeezeExcite: [false], activations: ['relu6'], stride: 1 },
    { depths: [1, 2], widths: [8, 12], expandRatios: [2, 3], kernelSizes: [3, 5], squeezeExcite: [false, true], activations: ['relu6', 'hswish'], stride: 2 },
  ],
  headWidths: [16, 24],
};

function args(spaceFile: string, ...more: string[]): string[] {
  return [bin, 'supernet', 'train', '--space', spaceFile, '--subset', '384', '--epochs', '4', '--batch-size', '32', ...more];
}

describe('nas supernet train --epochs 1.5', () => {
  it('ends inside an epoch with a supernet that reads back, its curve numbering that partial epoch 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'supernet-fraction-'));
    const spaceFile = join(dir, 'space.json');
    writeFileSync(spaceFile, JSON.stringify(TINY));
    const run = spawnSync(process.execPath, [...args(spaceFile), '--epochs', '1.5'], { env: { ...process.env, NAS_CACHE_DIR: dir }, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    process.env.NAS_CACHE_DIR = dir;
    const cached = readSupernet(run.stdout.trim())!;
    expect(cached.meta.curve.map((p) => p.epoch)).toEqual([1, 2]);
    expect(cached.meta.recipe.epochs).toBe(1.5);
  });
});

describe('nas supernet train after kill -9', () => {
  it('killed inside an epoch, refuses to start over silently, and --resume reaches the weights and curve of an uninterrupted training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supernet-resume-'));
    const spaceFile = join(dir, 'space.json');
    writeFileSync(spaceFile, JSON.stringify(TINY));
    const env = (cache: string) => ({ ...process.env, NAS_CACHE_DIR: cache });

    // Uninterrupted.
    const whole = join(dir, 'whole');
    const first = spawnSync(process.execPath, args(spaceFile), { env: env(whole), encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    const key = first.stdout.trim();
    expect(key).toMatch(/^[0-9a-f]{20}$/);

    // Checkpointing after every step and killed with SIGKILL as soon as its first checkpoint is on disk: inside the first epoch.
    const killed = join(dir, 'killed');
    process.env.NAS_CACHE_DIR = killed;
    const files = supernetFiles(key);
    const child = spawn(process.execPath, args(spaceFile, '--checkpoint-minutes', '0'), { env: env(killed), stdio: 'ignore' });
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    while (!existsSync(files.checkpoint) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exit).toBe('SIGKILL');
    expect(existsSync(files.weights)).toBe(false);

    // The listing says how far it got.
    const listed = spawnSync(process.execPath, [bin, 'supernet'], { env: env(killed), encoding: 'utf8' });
    expect(listed.stdout).toMatch(new RegExp(`^${key}  unfinished: 0 epoch\\(s\\) done, checkpoint at step [1-9]\\d* \\(`, 'm'));

    // Without --resume: one clear error naming the checkpoint, exit 16, nothing touched.
    const refused = spawnSync(process.execPath, args(spaceFile), { env: env(killed), encoding: 'utf8' });
    expect(refused.status).toBe(16);
    expect(refused.stderr).toContain(files.checkpoint);
    expect(refused.stderr).toMatch(/stopped at step \d+ \(0 of 4 epochs done\); --resume continues it, --fresh starts over/);
    expect(existsSync(files.checkpoint)).toBe(true);

    const resumed = spawnSync(process.execPath, args(spaceFile, '--resume'), { env: env(killed), encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout.trim()).toBe(key);
    expect(existsSync(files.checkpoint)).toBe(false);

    const a = (process.env.NAS_CACHE_DIR = whole, readSupernet(key)!);
    const b = (process.env.NAS_CACHE_DIR = killed, readSupernet(key)!);
    expect(b.weights.length).toBe(a.weights.length);
    b.weights.forEach((w, i) => expect(Buffer.compare(Buffer.from(w.buffer), Buffer.from(a.weights[i].buffer)), `tensor ${i}`).toBe(0));
    // The curve runs over all four epochs and equals the uninterrupted one, the first epoch's mean loss counting the killed session's steps.
    expect(b.meta.curve.map((p) => p.epoch)).toEqual([1, 2, 3, 4]);
    expect(b.meta.curve.map((p) => [p.loss, p.largest, p.smallest])).toEqual(a.meta.curve.map((p) => [p.loss, p.largest, p.smallest]));
    expect(b.meta.trainedOn).toMatch(/1 thread/);
  });
});
