import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { budgetFromFlags, ignoredOnResume } from '../../cli/search.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');
const config = { seed: 6, evaluator: 'proxy', searcher: { algorithm: 'nsga2', population: 6 }, budget: { generations: 2 } };

const nas = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const journal = (dir: string) => readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('--resume with a new budget', () => {
  it('names the flags it ignores, extends a finished run to the new budget, records it in the journal, and ends where an uninterrupted run ends', () => {
    const root = mkdtempSync(join(tmpdir(), 'resume-budget-'));
    const file = join(root, 'config.json');
    writeFileSync(file, JSON.stringify(config));

    const run = join(root, 'run');
    expect(nas('search', '--config', file, '--dir', run).status).toBe(0);
    expect(journal(run)).toHaveLength(12);

    const more = nas('search', '--resume', run, '--generations', '4', '--seed', '3', '--population', '9');
    expect(more.status, more.stderr).toBe(0);
    expect(more.stderr).toContain(`--resume continues ${run} as its config.json says: ignoring --seed, --population (a resume takes only --generations, --evaluations, --time, --redis and --shared-dir)`);
    expect(more.stderr).toMatch(/budget: \{"generations":4\} from now on, replacing \{"generations":2\} \(recorded in the journal\)/);
    expect(more.stdout).toMatch(/stopped: generations after 4 generation\(s\), 24 candidates/);
    const lines = journal(run);
    expect(lines.filter((l) => l.state === 'budget')).toEqual([{ state: 'budget', budget: { generations: 4 }, at: expect.any(String) }]);
    expect(lines.filter((l) => l.state !== 'budget')).toHaveLength(24);

    // Resumed again with no budget flag: the recorded budget holds, nothing more runs.
    const again = nas('search', '--resume', run);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/ignoring/);
    expect(again.stderr).toMatch(/budget: 4 generations/);
    expect(journal(run)).toHaveLength(25);

    // The same candidates and front as a run given 4 generations from the start.
    const whole = join(root, 'whole');
    expect(nas('search', '--config', file, '--dir', whole, '--generations', '4').status).toBe(0);
    expect(readFileSync(join(run, 'pareto.csv'), 'utf8')).toBe(readFileSync(join(whole, 'pareto.csv'), 'utf8'));
  });

  it('which flags a resume ignores, and the budget the flags give', () => {
    expect(ignoredOnResume({ resume: 'r', seed: 0, dir: 'x', generations: 3, redis: 'redis://h', json: true })).toEqual(['--dir', '--seed']);
    expect(budgetFromFlags({ generations: 3, time: 60 })).toEqual({ generations: 3, time: 60 });
    expect(budgetFromFlags({ seed: 1 })).toBeUndefined();
  });
});
