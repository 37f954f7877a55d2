import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT_CODES } from '../../cli/errors.js';
import { runCli } from '../../cli/index.js';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';

/** Runs `nas …` in this process as bin.ts does (one module load for every case): its exit code and stderr. */
async function nas(...args: string[]): Promise<{ status: number; stderr: string }> {
  const stderr: string[] = [];
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
  const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void stderr.push(String(line)));
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const token = process.env.NAS_AGENT_TOKEN;
  delete process.env.NAS_AGENT_TOKEN;
  process.exitCode = undefined;
  try {
    await runCli(['node', 'nas', ...args]);
    return { status: Number(process.exitCode ?? 0), stderr: stderr.join('\n') };
  } finally {
    write.mockRestore();
    error.mockRestore();
    log.mockRestore();
    if (token !== undefined) process.env.NAS_AGENT_TOKEN = token;
    process.exitCode = undefined;
  }
}
const model = join(import.meta.dirname, '..', 'fixtures', 'torch', 'relu6-net-28-c10-opset10.onnx');

let root: string;
let proxyRun: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'exit-codes-'));
  proxyRun = join(root, 'proxy');
  await runSearch(resolveSearchConfig({ evaluator: 'proxy', seed: 1, searcher: { population: 4 }, budget: { generations: 1 } }), { runDir: proxyRun });
});

describe('one fault, one exit code', () => {
  it('a bad flag value exits 2 and names the flag, not a config field', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['search', '--time', 'soon'], /--time must be a duration such as 90s, 30m, 8h or 1h30m, got 'soon'/],
      [['search', '--algorithm', 'genetic'], /--algorithm must be one of nsga2, aging, random, got 'genetic'/],
      [['search', '--preset', 'weekend'], /--preset must be one of quickstart, overnight, got 'weekend'/],
      [['search', '--evaluator', 'fast'], /--evaluator must be one of real, proxy, supernet, got 'fast'/],
      [['search', '--redis-run-ttl', '0s'], /--redis-run-ttl must be a duration over 0 s/],
      [['bench', model, '--shape', 'input:1xNx28'], /--shape 'input:1xNx28': expected \[name:\]D1xD2x… with positive integers/],
      [['bench-agent', '--port', '0'], /bench-agent needs a token: set NAS_AGENT_TOKEN/],
      [['finalize', proxyRun, '--init', 'inherited', '--fine-tune-rate', '1.5'], /--fine-tune-rate must be a number in \(0, 1\]\./],
      [['finalize', proxyRun, '--fine-tune-rate', '0.5'], /--fine-tune-rate: only with --init inherited/],
    ];
    for (const [args, message] of cases) {
      const r = await nas(...args);
      expect(r.status, args.join(' ')).toBe(EXIT_CODES.E_USAGE);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/budget\.time|searcher\.algorithm|config:/);
    }
  });

  it('a missing run directory exits 14 in every command that takes one', async () => {
    const missing = join(root, 'no-such-run');
    for (const args of [['search', '--resume', missing], ['report', missing], ['finalize', missing, '--dry-run'], ['finalize', missing], ['compress', missing]]) {
      const r = await nas(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(EXIT_CODES.E_RUN_DIRECTORY);
      expect(r.stderr).toContain(join(missing, 'config.json'));
    }
  });

  it('a front with no model files exits with the same code in finalize and compress', async () => {
    expect(EXIT_CODES.E_EMPTY_FRONT).toBe(17);
    for (const args of [['finalize', proxyRun, '--dry-run'], ['finalize', proxyRun], ['compress', proxyRun]]) {
      const r = await nas(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(EXIT_CODES.E_EMPTY_FRONT);
      expect(r.stderr).toContain(`error: ${join(proxyRun, 'front')}: no front member has model files (the proxy evaluator trains no model)`);
    }
  });

  it('exit codes are one table: every code distinct', () => {
    const codes = Object.values(EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
