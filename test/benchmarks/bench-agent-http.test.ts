import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, tokenMatches, type RunningAgent } from '../../benchmarks/agent.js';
import { benchmarkModels } from '../../benchmarks/bench.js';
import { measureRemote } from '../../benchmarks/remote.js';
import { candidateOnnx, fixtureDir, junkFile } from '../fixtures/onnx-models.js';

const TOKEN = 'test-token-123';
const quick = { iterations: 20, time: 50, warmupTime: 20, warmupIterations: 2 };
let agent: RunningAgent;
let model: string;
let dir: string;

beforeAll(async () => {
  dir = fixtureDir();
  model = await candidateOnnx(dir, 'agent');
  agent = await startAgent({ port: 0, token: TOKEN, maxBytes: 2_000_000 });
});
afterAll(async () => {
  await agent.close();
});

const post = (headers: Record<string, string>, body: Uint8Array | string) =>
  fetch(`${agent.url}/measure`, { method: 'POST', headers, body: new Blob([typeof body === 'string' ? body : new Uint8Array(body)]) });

describe('bench agent over HTTP on loopback', () => {
  it('listens on loopback by default and answers /health', async () => {
    expect(agent.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await (await fetch(`${agent.url}/health`)).json();
    expect(health.ok).toBe(true);
    expect(health.environment.onnxruntime).toMatch(/^\d+\./);
  });

  it('measures a model sent by the client with the same JSON as a local measurement', async () => {
    const m = await measureRemote({ url: agent.url, token: TOKEN }, model, 'remote-model', quick);
    expect(m.state === 'measured' || m.state === 'noisy').toBe(true);
    if (m.state !== 'errored') {
      expect(m.model).toBe('remote-model');
      expect(m.stats.samples).toBeGreaterThanOrEqual(20);
      expect(m.session.intraOpThreads).toBe(1);
    }
  });

  it('a wrong or missing token gets 401, then the agent keeps serving', async () => {
    const bytes = readFileSync(model);
    expect((await post({ authorization: 'Bearer wrong' }, bytes)).status).toBe(401);
    expect((await post({}, bytes)).status).toBe(401);
    const ok = await measureRemote({ url: agent.url, token: TOKEN }, model, 'after-401', quick);
    expect(ok.state).not.toBe('errored');
    const wrong = await measureRemote({ url: agent.url, token: 'nope' }, model, 'x', quick);
    expect(wrong.state === 'errored' && wrong.error.message).toBe('x: agent answered 401: missing or wrong bearer token');
  });

  it('an oversize body gets 413, then the agent keeps serving', async () => {
    const big = new Uint8Array(3_000_000);
    const res = await post({ authorization: `Bearer ${TOKEN}` }, big).catch((e: Error) => e);
    // The agent may answer 413 before the client finished sending, or close the connection.
    if (res instanceof Response) expect(res.status).toBe(413);
    expect((await measureRemote({ url: agent.url, token: TOKEN }, model, 'after-413', quick)).state).not.toBe('errored');
  });

  it('malformed bodies and options get 4xx naming the problem', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const junk = await post(auth, readFileSync(junkFile(dir)));
    expect(junk.status).toBe(422);
    expect((await junk.json()).error.message).toMatch(/cannot be loaded by onnxruntime/);
    const empty = await post(auth, '');
    expect(empty.status).toBe(400);
    const badOptions = await post({ ...auth, 'x-nas-options': '{"iterations": -3}' }, readFileSync(model));
    expect(badOptions.status).toBe(400);
    expect((await badOptions.json()).error).toMatch(/^X-Nas-Options\.iterations: /);
    const notJson = await post({ ...auth, 'x-nas-options': '{oops' }, readFileSync(model));
    expect(notJson.status).toBe(400);
    expect((await fetch(`${agent.url}/etc/passwd`)).status).toBe(404);
  });

  it('nas bench --agent goes through it', async () => {
    const rows = await benchmarkModels([model, `${dir}/missing.onnx`], { agent: { url: agent.url, token: TOKEN }, measure: quick });
    expect(rows[0].state).not.toBe('errored');
    expect(rows[1].state === 'errored' && rows[1].error.message).toBe('missing.onnx: file not found');
  });

  it('the search measures through it (and a wrong token fails those candidates at the latency stage)', async () => {
    const { resolveSearchConfig } = await import('../../search/config.js');
    const { runSearch } = await import('../../search/engine.js');
    const config = resolveSearchConfig({
      seed: 9,
      searcher: { population: 2 },
      budget: { generations: 1 },
      training: { images: 64, subset: 200, batchSize: 32 },
      latency: { iterations: 20, time: 50, agent: agent.url },
      workers: 1,
    });
    const run = (token: string) => {
      process.env.NAS_AGENT_TOKEN = token;
      return runSearch(config, { runDir: join(mkdtempSync(join(tmpdir(), 'agent-search-')), 'run') });
    };
    const good = await run(TOKEN);
    expect(good.records.map((r) => r.state)).toEqual(['evaluated', 'evaluated']);
    const bad = await run('wrong');
    delete process.env.NAS_AGENT_TOKEN;
    for (const r of bad.records) {
      expect(r.state === 'failed' && r.stage).toBe('latency');
      expect(r.state === 'failed' && r.error).toMatch(/agent answered 401/);
    }
  });

  it('token comparison is exact', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
  });
});
