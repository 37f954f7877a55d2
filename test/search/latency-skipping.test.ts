import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { ProxyEvaluator } from '../../search/evaluators.js';
import type { CandidateEvaluator } from '../../search/types.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import type { Genome } from '../../space/types.js';

describe('search with a prediction interval', () => {
  it('measures only candidates whose interval straddles the limit, and counts the measurements saved', async () => {
    const limit = 0.2;
    const inner = new ProxyEvaluator(new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 }));
    const measuredIds: string[] = [];
    const evaluator: CandidateEvaluator = {
      // A stand-in for the harness: the proxy's formula, recorded as a measurement.
      latency: async (genome: Genome, id: string) => {
        measuredIds.push(id);
        return { ...(await inner.latency(genome, id)), source: 'measured' as const };
      },
      train: inner.train.bind(inner),
      close: inner.close.bind(inner),
      // ±15% around the proxy's own latency.
      predictLatencyInterval: (genome: Genome) => {
        const p50 = inner.predictLatency(genome);
        return { p50, p90: p50 * 1.05, low: p50 * 0.85, high: p50 * 1.15 };
      },
    };
    const dir = join(mkdtempSync(join(tmpdir(), 'search-')), 'run');
    const config = resolveSearchConfig({ evaluator: 'proxy', seed: 3, searcher: { population: 8 }, budget: { generations: 3 }, constraints: { maxLatencyMs: limit } });
    const result = await runSearch(config, { runDir: dir, evaluator });

    const predicted = result.records.filter((r) => r.latency?.source === 'predicted');
    const measured = result.records.filter((r) => r.latency?.source === 'measured');
    expect(predicted.length).toBeGreaterThan(0);
    // Every measurement was of a candidate the interval could not decide; nothing predicted was measured.
    expect(new Set(measuredIds)).toEqual(new Set(measured.map((r) => r.id)));
    for (const r of result.records) {
      const p50 = inner.predictLatency(r.genome);
      if (r.latency?.source === 'predicted') {
        if (r.state === 'rejected') expect(p50 * 0.85).toBeGreaterThan(limit);
        else expect(p50 * 1.15).toBeLessThanOrEqual(limit);
      } else if (r.latency) {
        expect(p50 * 0.85 <= limit && p50 * 1.15 > limit).toBe(true);
      }
    }
    const rejectedOnPrediction = predicted.filter((r) => r.state === 'rejected').length;
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(summary).toContain(
      `- latency measurements saved by the predictor: ${predicted.length} (${predicted.length - rejectedOnPrediction} accepted and ${rejectedOnPrediction} rejected on a prediction)`,
    );
  });

  it('with latency.source "predicted" measures nothing: every latency is the p50, the limit applied to it', async () => {
    const limit = 0.2;
    const inner = new ProxyEvaluator(new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 }));
    let measured = 0;
    let prepared = 0;
    const evaluator: CandidateEvaluator = {
      latency: async (genome: Genome, id: string) => {
        measured++;
        return inner.latency(genome, id);
      },
      train: inner.train.bind(inner),
      close: inner.close.bind(inner),
      prepare: async () => void prepared++,
      predictLatencyInterval: (genome: Genome) => {
        const p50 = inner.predictLatency(genome);
        return { p50, p90: p50 * 1.05, low: p50 * 0.5, high: p50 * 1.5 };
      },
    };
    const dir = join(mkdtempSync(join(tmpdir(), 'search-')), 'run');
    // The proxy evaluator never opens the file: the stand-in above is the predictor.
    const config = resolveSearchConfig({ evaluator: 'proxy', seed: 3, searcher: { population: 8 }, budget: { generations: 3 }, constraints: { maxLatencyMs: limit }, latency: { predictor: 'unused.json', source: 'predicted' } });
    const result = await runSearch(config, { runDir: dir, evaluator });
    expect(measured).toBe(0);
    // prepare() checks the predictor against the target: called although an interval never straddles anything here.
    expect(prepared).toBeGreaterThan(0);
    const withLatency = result.records.filter((r) => r.latency);
    expect(withLatency.length).toBeGreaterThanOrEqual(8);
    expect(withLatency.some((r) => r.state === 'rejected')).toBe(true);
    for (const r of withLatency) {
      const p50 = inner.predictLatency(r.genome);
      expect(r.latency).toMatchObject({ source: 'predicted', p50 });
      expect(r.state === 'rejected').toBe(p50 > limit);
    }
  });

  it('refuses latency.source "predicted" without a predictor file, naming the field', () => {
    expect(() => resolveSearchConfig({ evaluator: 'real', latency: { source: 'predicted' } })).toThrow(/latency\.source: "predicted" takes every latency from a predictor file; set latency\.predictor/);
    expect(() => resolveSearchConfig({ evaluator: 'real', latency: { source: 'guessed' } })).toThrow(/latency\.source/);
  });
});
