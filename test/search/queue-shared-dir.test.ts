/**
 * `--shared-dir` through a whole search, on a real redis-server: workers
 * started with `--shared-dir` write each trained candidate there, the search
 * (given the same directory) checks and copies them into its run directory,
 * and the run directory ends byte for byte as with the files sent through
 * Redis (inline); the shared copies are removed when the run finishes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { ProxyEvaluator } from '../../search/evaluators.js';
import { sharedCandidateDir } from '../../search/queue-protocol.js';
import { queueNameFor } from '../../train/queue/queue-runs.js';
import { MobileNetSpace } from '../../space/space.js';
import { CANDIDATE_FILE_NAMES } from '../../train/training-job.js';
import { TEST_SPACE } from '../helpers.js';
import { journalRecords, runIdOf, startWorker, stopProcess } from '../queue-processes.js';
import { startRedis, type RunningRedis } from '../redis-server.js';

const root = mkdtempSync(join(tmpdir(), 'queue-shared-dir-'));
const space = new MobileNetSpace(TEST_SPACE, { numClasses: 10, inputChannels: 1 });
const proxy = new ProxyEvaluator(space);
const measureLatency = (genome: Parameters<ProxyEvaluator['latency']>[0], id: string) => proxy.latency(genome, id);
const config = resolveSearchConfig({
  seed: 7,
  space: TEST_SPACE,
  searcher: { population: 2 },
  budget: { generations: 2 },
  validationFraction: 0.05,
  training: { images: 64, subset: 200, batchSize: 32 },
  teacher: null,
  workers: 2,
});
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** sha256 of every file of every trained candidate in a run directory, by `<id>/<file>`. */
function candidateHashes(runDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of journalRecords(runDir).filter((r) => r.state === 'evaluated')) {
    for (const name of CANDIDATE_FILE_NAMES) out[`${r.id}/${name}`] = sha256(join(runDir, 'candidates', r.id, name));
  }
  return out;
}

describe('--shared-dir through a whole search', { timeout: 300_000 }, () => {
  let redis: RunningRedis;
  const previousCache = process.env.NAS_CACHE_DIR;

  beforeAll(async () => {
    process.env.NAS_CACHE_DIR = join(root, 'coordinator-cache');
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
    if (previousCache === undefined) delete process.env.NAS_CACHE_DIR;
    else process.env.NAS_CACHE_DIR = previousCache;
  }, 60_000);

  it('writes the same candidate files and pareto.csv into the run directory as files sent through Redis', async () => {
    const inline = join(root, 'inline');
    const plain = startWorker(root, redis.url, ['--concurrency', '2']);
    try {
      await runSearch(config, { runDir: inline, redis: redis.url, measureLatency });
    } finally {
      await stopProcess(plain);
    }

    const shared = join(root, 'shared');
    mkdirSync(shared);
    const viaShared = join(root, 'via-shared');
    const worker = startWorker(root, redis.url, ['--concurrency', '2', '--shared-dir', shared]);
    // Each candidate, as it is journaled: its files came through the shared directory (the worker's copy is there, equal).
    const sharedCopies: Record<string, string> = {};
    try {
      const result = await runSearch(config, {
        runDir: viaShared,
        redis: redis.url,
        sharedDir: shared,
        measureLatency,
        onCandidate: (r) => {
          if (r.state !== 'evaluated') return;
          const dir = sharedCandidateDir(shared, queueNameFor(runIdOf(viaShared)), r.id);
          for (const name of CANDIDATE_FILE_NAMES) sharedCopies[`${r.id}/${name}`] = sha256(join(dir, name));
        },
      });
      expect(result.records.every((r) => r.state === 'evaluated')).toBe(true);
    } finally {
      await stopProcess(worker);
    }

    const expected = candidateHashes(inline);
    expect(Object.keys(expected)).toHaveLength(4 * CANDIDATE_FILE_NAMES.length);
    expect(candidateHashes(viaShared)).toEqual(expected);
    expect(sharedCopies).toEqual(expected);
    expect(readFileSync(join(viaShared, 'pareto.csv'), 'utf8')).toBe(readFileSync(join(inline, 'pareto.csv'), 'utf8'));
    for (const r of journalRecords(viaShared)) {
      if (existsSync(join(inline, 'front', r.id))) expect(sha256(join(viaShared, 'front', r.id, 'model.onnx'))).toBe(sha256(join(inline, 'front', r.id, 'model.onnx')));
    }
    // The run finished: its shared copies are gone (the run directory holds them).
    expect(existsSync(join(shared, queueNameFor(runIdOf(viaShared))))).toBe(false);
  });

  it('a search not given the workers\' shared directory stops with the set-up error; no candidate is journaled as failed', async () => {
    const shared = join(root, 'shared-2');
    mkdirSync(shared);
    const dir = join(root, 'no-shared-dir');
    const worker = startWorker(root, redis.url, ['--shared-dir', shared]);
    try {
      await expect(runSearch(config, { runDir: dir, redis: redis.url, measureLatency })).rejects.toThrow(/give the search the same directory with --shared-dir/);
    } finally {
      await stopProcess(worker);
    }
    expect(journalRecords(dir).filter((r) => r.state === 'failed')).toEqual([]);
  });
});
