import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import seedrandom from 'seedrandom';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig, SearchConfigError, type SearchConfigInput } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { ProxyEvaluator, trainingJobFor } from '../../search/evaluators.js';
import { decodeResult, encodeResult, jobIdFor, parseQueuedJob, queuedJobFor } from '../../search/queue-protocol.js';
import { queueNameFor } from '../../train/queue/queue-runs.js';
import { decodeCheckpoint } from '../../train/checkpoint.js';
import { journalKey, latestRecords, rungOf } from '../../search/fidelity.js';
import { pointOf } from '../../search/objectives.js';
import { rankAtRung } from '../../search/promotion.js';
import type { CandidateRecord, EvaluatedRecord } from '../../search/types.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';

const runDir = () => join(mkdtempSync(join(tmpdir(), 'fidelity-')), 'run');
const config = (over: SearchConfigInput = {}) =>
  resolveSearchConfig({ evaluator: 'proxy', seed: 5, searcher: { population: 9 }, budget: { generations: 4 }, fidelity: { rungs: 3, eta: 3 }, ...over });
const evaluated = (lines: CandidateRecord[]) => lines.filter((r): r is EvaluatedRecord => r.state === 'evaluated');

describe('multi-fidelity search (proxy evaluator with its learning curve)', () => {
  it('rung sizes follow η; promoted candidates train on to η× the images; the first promotions are the best of rung 0', async () => {
    const dir = runDir();
    const result = await runSearch(config(), { runDir: dir });
    const lines = evaluated(result.lines);
    const atRung = (r: number) => lines.filter((l) => rungOf(l) === r);
    // 9 new candidates a generation; promotions decided at each generation's start from
    // the results before it: rung 1 gets ⌊9/3⌋, ⌊18/3⌋, ⌊27/3⌋ = 9 in all, rung 2 ⌊3/3⌋ then ⌊6/3⌋ = 2.
    expect([atRung(0).length, atRung(1).length, atRung(2).length]).toEqual([36, 9, 2]);

    const base = atRung(0)[0].imagesTrained!;
    expect(new Set(atRung(0).map((r) => r.imagesTrained))).toEqual(new Set([base]));
    expect(new Set(atRung(1).map((r) => r.imagesTrained))).toEqual(new Set([3 * base]));
    expect(new Set(atRung(2).map((r) => r.imagesTrained))).toEqual(new Set([9 * base]));
    // Compute: every session counted once: 36·b + 9·(3b − b) + 2·(9b − 3b).
    expect(result.imagesTrained).toBe(36 * base + 9 * 2 * base + 2 * 6 * base);

    // A promoted result is the learning curve at its budget; a candidate only climbs one rung at a time.
    const proxy = new ProxyEvaluator(new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 }), { baseImages: base });
    for (const r of [...atRung(1), ...atRung(2)]) {
      expect(r.accuracy).toBeCloseTo(proxy.accuracyAt(r.genome, r.id, r.imagesTrained!), 12);
      expect(atRung(rungOf(r) - 1).some((lower) => lower.id === r.id)).toBe(true);
    }
    // Promoted ones gain accuracy on average (the curve rises; noise shrinks).
    const gain = atRung(1).map((r) => r.accuracy - atRung(0).find((l) => l.id === r.id)!.accuracy);
    expect(gain.reduce((a, b) => a + b, 0) / gain.length).toBeGreaterThan(0);

    // The first three promotions: the best three of generation 0 by rank and crowding.
    const generation0 = atRung(0).filter((r) => r.generation === 0);
    const best = rankAtRung(generation0.map((r) => ({ id: r.id, rung: 0, point: pointOf(r, ['accuracy', 'latency']) }))).slice(0, 3);
    const promotedFirst = result.lines.filter((r) => rungOf(r) === 1).slice(0, 3).map((r) => r.id);
    expect(new Set(promotedFirst)).toEqual(new Set(best));

    // The CSVs: one row per candidate at its highest rung; rungs.csv one row per rung result.
    const candidates = parse(readFileSync(join(dir, 'candidates.csv')), { columns: true }) as Array<Record<string, string>>;
    expect(candidates).toHaveLength(36);
    for (const row of candidates) {
      const highest = Math.max(...lines.filter((l) => l.id === row.id).map(rungOf));
      expect(Number(row.rung)).toBe(highest);
    }
    const rungsCsv = parse(readFileSync(join(dir, 'rungs.csv')), { columns: true }) as Array<Record<string, string>>;
    expect(rungsCsv.map((r) => `${r.id}@${r.rung}`)).toEqual(lines.map((l) => `${l.id}@${rungOf(l)}`));
    const pareto = parse(readFileSync(join(dir, 'pareto.csv')), { columns: true }) as Array<Record<string, string>>;
    for (const row of pareto) expect(Number(row.rung)).toBe(Number(candidates.find((c) => c.id === row.id)!.rung));
    // The front and the hypervolume use each candidate's highest rung.
    expect(result.records).toEqual(latestRecords(result.lines));
  });

  it('an abort mid-run, then resume: the same promotions and the same front as an uninterrupted run', async () => {
    const whole = await runSearch(config(), { runDir: runDir() });
    const dir = runDir();
    const controller = new AbortController();
    let seen = 0;
    const first = await runSearch(config(), {
      runDir: dir,
      signal: controller.signal,
      onCandidate: () => {
        if (++seen === 25) controller.abort(); // inside generation 2, after its promotions began
      },
    });
    expect(first.stopReason).toBe('interrupted');
    expect(first.lines.length).toBeLessThan(whole.lines.length);
    const resumed = await runSearch(null, { runDir: dir, resume: true });
    const keys = (lines: CandidateRecord[]) => lines.map(journalKey).sort();
    expect(keys(resumed.lines)).toEqual(keys(whole.lines));
    expect(resumed.front.map((r) => `${r.id}@${rungOf(r)}`)).toEqual(whole.front.map((r) => `${r.id}@${rungOf(r)}`));
    expect(resumed.hypervolume).toBeCloseTo(whole.hypervolume, 12);
  });

  it('constraints still reject before any training, at every rung', async () => {
    const trained: string[] = [];
    const inner = new ProxyEvaluator(new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 }), { baseImages: 1000 });
    const counting = {
      latency: inner.latency.bind(inner),
      close: inner.close.bind(inner),
      train: (...args: Parameters<typeof inner.train>) => {
        trained.push(`${args[1]}@${args[3]?.rung ?? 0}`);
        return inner.train(...args);
      },
    };
    const result = await runSearch(config({ constraints: { maxParams: 120_000 }, training: { images: 1000 } }), { runDir: runDir(), evaluator: counting });
    const rejected = new Set(result.records.filter((r) => r.state === 'rejected').map((r) => r.id));
    expect(rejected.size).toBeGreaterThan(0);
    expect(trained.filter((key) => rejected.has(key.split('@')[0]))).toEqual([]);
    expect(trained.sort()).toEqual(evaluated(result.lines).map(journalKey).map((k) => (k.includes('@') ? k : `${k}@0`)).sort());
  });

  it('budget.images stops the run once that many images are trained, every rung counted', async () => {
    const result = await runSearch(config({ training: { images: 1000 }, budget: { images: 20_000, generations: 50 } }), { runDir: runDir() });
    expect(result.stopReason).toBe('images');
    expect(result.imagesTrained).toBeGreaterThanOrEqual(20_000);
    // It stops at the first generation boundary past the budget: one generation's work at most beyond it.
    expect(result.imagesTrained - 20_000).toBeLessThan(9 * 1000 + 9 * 2000 + 3 * 6000);
  });

  it('bad fidelity settings name the field', () => {
    expect(() => resolveSearchConfig({ fidelity: { eta: 1 } })).toThrow(SearchConfigError);
    expect(() => resolveSearchConfig({ fidelity: { eta: 1 } })).toThrow(/fidelity\.eta/);
    expect(() => resolveSearchConfig({ fidelity: { rungs: 0 } })).toThrow(/fidelity\.rungs/);
  });

  it('real training: a promotion continues from the checkpoint its first training left, and the top rung keeps none', async () => {
    const dir = runDir();
    const result = await runSearch(
      resolveSearchConfig({
        seed: 2,
        searcher: { population: 3 },
        budget: { generations: 2 },
        training: { images: 64, subset: 200, batchSize: 32 },
        fidelity: { rungs: 2, eta: 3 },
        latency: { iterations: 10, time: 20 },
        workers: 1,
      }),
      { runDir: dir },
    );
    const lines = evaluated(result.lines);
    expect(result.lines.filter((r) => r.state === 'failed')).toEqual([]);
    expect(lines.map(rungOf)).toEqual([0, 0, 0, 1, 0, 0, 0]); // ⌊3/3⌋ promoted at generation 1's start
    const promoted = lines.find((r) => rungOf(r) === 1)!;
    const before = lines.find((r) => r.id === promoted.id && rungOf(r) === 0)!;
    expect(promoted.imagesTrained).toBe(192);
    // Its loss curve is the first training's, continued (2 steps, then 4 more).
    expect(before.lossCurve).toHaveLength(2);
    expect(promoted.lossCurve).toHaveLength(6);
    expect(promoted.lossCurve.slice(0, 2)).toEqual(before.lossCurve);
    expect(promoted.trainSeconds).toBeGreaterThan(before.trainSeconds); // cumulative over both sessions
    // Rung-0 candidates keep a checkpoint (they may be promoted); the top rung's was removed.
    for (const r of lines.filter((l) => rungOf(l) === 0 && l.id !== promoted.id)) {
      const checkpoint = decodeCheckpoint(readFileSync(join(dir, 'candidates', r.id, 'checkpoint.bin')));
      expect(checkpoint.imagesSeen).toBe(64);
      expect(checkpoint.stepLosses).toHaveLength(2);
    }
    expect(existsSync(join(dir, 'candidates', promoted.id, 'checkpoint.bin'))).toBe(false);
    expect(existsSync(join(dir, 'candidates', promoted.id, 'model.onnx'))).toBe(true);
  });

  it('over the queue, a promotion job carries its checkpoint and its result may carry the next one', () => {
    const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
    const genome = space.sample(seedrandom('fidelity-protocol'));
    const id = space.id(genome);
    const context = { space, config: config({ training: { images: 500 } }), teacherKey: null, dataContentHash: '0123456789abcdef' };
    const checkpoint = new Uint8Array([9, 8, 7, 6]);
    const first = trainingJobFor(context, genome, id, { rung: 0, images: 500 });
    const promotion = trainingJobFor(context, genome, id, { rung: 1, images: 1500 }, checkpoint);
    expect(first.options.keepCheckpoint).toBe(true);
    expect(first.continueFrom).toBeUndefined();
    expect(promotion.options.budget).toEqual({ images: 1500 });
    expect(Buffer.from(parseQueuedJob(queuedJobFor(promotion, 60), 'job').training.continueFrom!, 'base64')).toEqual(Buffer.from(checkpoint));
    expect(jobIdFor('0123456789abcdef', id, promotion)).not.toBe(jobIdFor('0123456789abcdef', id, first));
    expect(trainingJobFor(context, genome, id, { rung: 2, images: 4500 }, checkpoint).options.keepCheckpoint).toBeUndefined(); // top rung
    expect(() => trainingJobFor(context, genome, id, { rung: 1, images: 1500 })).toThrow(/needs the checkpoint of rung 0/);

    const queueName = queueNameFor('0123456789abcdef');
    const files = { 'weights.bin': new Uint8Array([1]), 'model.json': Buffer.from('{}'), 'model.onnx': new Uint8Array([4]), 'genome.json': Buffer.from('{}'), 'checkpoint.bin': checkpoint };
    const result = { id, accuracy: 0.5, accuracyImages: 500, validationAccuracy: 0.5, trainSeconds: 1, imagesPerSecond: 1, lossCurve: [], backend: 'wasm', files };
    const back = decodeResult(JSON.parse(JSON.stringify(encodeResult(result, { worker: 'w', queueName, maxBytes: 1000 }))), { source: 'job', queueName, maxBytes: 1000 });
    expect([...back.files['checkpoint.bin']]).toEqual([9, 8, 7, 6]);
    const { 'model.onnx': _missing, ...incomplete } = files;
    const sent = encodeResult({ ...result, files: { ...incomplete, 'model.onnx': new Uint8Array([1]) } }, { worker: 'w', queueName, maxBytes: 1000 });
    delete (sent.files as { base64: Record<string, string> }).base64['model.onnx'];
    expect(() => decodeResult(sent, { source: 'job x', queueName, maxBytes: 1000 })).toThrow(/job x: result files\.base64: lacks model\.onnx/);
  });
});
