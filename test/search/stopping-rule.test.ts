import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig, SearchConfigError } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');

describe('a search with no stopping rule', () => {
  it('is refused before its run directory is written, naming budget', async () => {
    const root = mkdtempSync(join(tmpdir(), 'no-stop-'));
    const run = join(root, 'run');
    // Without the check this search would never end: the signal bounds how long the test can take to fail
    // (a proxy delay, so that the loop yields to the timer).
    const search = runSearch(resolveSearchConfig({ evaluator: 'proxy', proxyDelayMs: 1, budget: {} }), { runDir: run, signal: AbortSignal.timeout(10_000) });
    await expect(search).rejects.toThrow(SearchConfigError);
    await expect(runSearch(resolveSearchConfig({ evaluator: 'proxy', proxyDelayMs: 1 }), { runDir: run, signal: AbortSignal.timeout(10_000) })).rejects.toThrow(/config: budget: no stopping rule/);
    expect(existsSync(join(run, 'config.json'))).toBe(false);

    const file = join(root, 'forever.json');
    writeFileSync(file, JSON.stringify({ evaluator: 'proxy', budget: {} }));
    const cliRun = spawnSync(process.execPath, [cli, 'search', '--config', file, '--dir', run], { encoding: 'utf8', timeout: 60_000 });
    expect(cliRun.status).toBe(7);
    expect(cliRun.stderr).toContain(`error: ${file}: budget: no stopping rule, the search would run forever; give budget.evaluations, budget.time, budget.generations, budget.images`);
    expect(existsSync(run)).toBe(false);
  });
});
