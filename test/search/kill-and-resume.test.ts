import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');
const config = {
  seed: 11,
  evaluator: 'proxy',
  proxyDelayMs: 60,
  searcher: { algorithm: 'nsga2', population: 6 },
  budget: { generations: 12 },
};

function journalLines(dir: string): number {
  const file = join(dir, 'journal.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

const cases = [
  { name: 'single fidelity', config, killAt: 12, lines: 72 },
  // 6 a generation; at generation g's start rung 1 gets up to ⌊6g/3⌋ and rung 2 ⌊2(g − 1)/3⌋: 22 and 6 by the end.
  { name: 'multi-fidelity (3 rungs, η 3): the same promotions', config: { ...config, fidelity: { rungs: 3, eta: 3 } }, killAt: 20, lines: 72 + 22 + 6 },
];

describe('a search killed with SIGKILL resumes to the same result', () => {
  for (const c of cases) {
    it(`${c.name}: kill -9 mid-run, then --resume: same journal lines and the same pareto.csv as an uninterrupted run`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'kill-'));
      const configFile = join(root, 'config.json');
      writeFileSync(configFile, JSON.stringify(c.config));

      const whole = join(root, 'whole');
      const full = spawnSync(process.execPath, [cli, 'search', '--config', configFile, '--dir', whole], { encoding: 'utf8' });
      expect(full.status, full.stderr).toBe(0);
      expect(journalLines(whole)).toBe(c.lines);

      const killed = join(root, 'killed');
      const child = spawn(process.execPath, [cli, 'search', '--config', configFile, '--dir', killed], { stdio: 'ignore' });
      // Kill once two generations are journaled: ten more (about 4 s of work) are to come,
      // so however slow the machine, the kill lands mid-run.
      const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      while (journalLines(killed) < c.killAt && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      expect(await exit).toBe('SIGKILL');
      const atKill = journalLines(killed);
      expect(atKill).toBeLessThan(c.lines);

      const resumed = spawnSync(process.execPath, [cli, 'search', '--resume', killed], { encoding: 'utf8' });
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(new RegExp(`resuming: ${atKill} candidates already in the journal`));

      // Every line by candidate and rung: promotions made after the resume are the ones the whole run made.
      const keys = (dir: string) =>
        readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
          const r = JSON.parse(l);
          return `${r.id}@${r.rung ?? 0}:${r.state}`;
        }).sort();
      expect(keys(killed)).toEqual(keys(whole));
      expect(readFileSync(join(killed, 'pareto.csv'), 'utf8')).toBe(readFileSync(join(whole, 'pareto.csv'), 'utf8'));
    });
  }
});
