import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');
const journalLines = (dir: string) => (existsSync(join(dir, 'journal.jsonl')) ? readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0);

describe('SIGTERM (systemd, docker stop) stops a search as Ctrl-C does', () => {
  it('writes what is done, says how to resume, and exits 0 rather than dying with 143', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sigterm-'));
    const file = join(root, 'config.json');
    writeFileSync(file, JSON.stringify({ seed: 1, evaluator: 'proxy', proxyDelayMs: 50, searcher: { population: 6 }, budget: { generations: 40 } }));
    const run = join(root, 'run');
    const child = spawn(process.execPath, [cli, 'search', '--config', file, '--dir', run], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    while (journalLines(run) < 6 && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(stderr).toMatch(/SIGTERM: stopping after writing what is done/);
    expect(stdout).toMatch(/stopped: interrupted/);
    expect(stdout).toContain(`resume with: nas search --resume ${run}`);
    expect(existsSync(join(run, 'summary.md'))).toBe(true);
    expect(journalLines(run)).toBeLessThan(240);
  });
});
