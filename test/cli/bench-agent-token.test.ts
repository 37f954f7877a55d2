import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentToken } from '../../cli/bench.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');

/** Starts `nas bench-agent` on a free port; resolves with its URL and a stop function. */
async function startAgent(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [cli, 'bench-agent', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`bench-agent exited ${code}: ${err}`)));
  });
  return { url, stop: async () => (child.kill('SIGTERM'), exit) };
}

const status = async (url: string, token: string) => (await fetch(`${url}/measure`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: new Uint8Array(0) })).status;

describe('nas bench-agent takes its token from NAS_AGENT_TOKEN', () => {
  it('the flag wins over the variable; neither is a usage error', () => {
    expect(agentToken(undefined, 'from-env')).toBe('from-env');
    expect(agentToken('from-flag', 'from-env')).toBe('from-flag');
    expect(() => agentToken(undefined, undefined)).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining('NAS_AGENT_TOKEN') }));
    expect(() => agentToken(undefined, '')).toThrow(/NAS_AGENT_TOKEN/);
  });

  it('an agent started with only NAS_AGENT_TOKEN accepts that token; with --token too, only the flag', async () => {
    const fromEnv = await startAgent([], { NAS_AGENT_TOKEN: 'env-secret' });
    try {
      expect(await status(fromEnv.url, 'wrong')).toBe(401);
      expect(await status(fromEnv.url, 'env-secret')).not.toBe(401);
    } finally {
      expect(await fromEnv.stop()).toBe(0);
    }
    const both = await startAgent(['--token', 'flag-secret'], { NAS_AGENT_TOKEN: 'env-secret' });
    try {
      expect(await status(both.url, 'env-secret')).toBe(401);
      expect(await status(both.url, 'flag-secret')).not.toBe(401);
    } finally {
      await both.stop();
    }
  });
});
