import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { benchmarkModels } from '../../benchmarks/bench.js';
import { parseShapes } from '../../benchmarks/inputs.js';
import { measureModel } from '../../benchmarks/measure.js';
import { toCsv } from '../../benchmarks/report.js';
import { candidateOnnx, dynamicSizeOnnx, fixtureDir, junkFile } from '../fixtures/onnx-models.js';

const quick = { iterations: 30, time: 100, warmupTime: 50, warmupIterations: 5 };
let dir: string;
let candidate: string;
let other: string;

beforeAll(async () => {
  dir = fixtureDir();
  candidate = await candidateOnnx(dir, 'a');
  other = await candidateOnnx(dir, 'b');
});

describe('measuring one model', () => {
  it('reports startup apart from steady state, consistent statistics and the environment', async () => {
    const m = await measureModel(candidate, 'a', quick);
    expect(m.state === 'measured' || m.state === 'noisy').toBe(true);
    if (m.state === 'errored') return;
    const s = m.stats;
    expect(s.samples).toBeGreaterThanOrEqual(30);
    expect(s.min).toBeLessThanOrEqual(s.p50);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p90).toBeLessThanOrEqual(s.p99);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(m.startup.sessionCreate).toBeGreaterThan(0);
    expect(m.startup.warmup).toBeGreaterThanOrEqual(50);
    expect(m.inputs).toEqual([{ name: 'input', shape: [1, 1, expect.any(Number), expect.any(Number)], type: 'float32' }]);
    expect(m.session).toEqual({ intraOpThreads: 1, interOpThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', executionProvider: 'cpu' });
    expect(m.environment.onnxruntime).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.environment.tinybench).toMatch(/^6\./);
    expect(m.environment.node).toBe(process.version);
  });

  it('a noise gate that cannot pass flags the result noisy after the repeats, keeping it', async () => {
    const m = await measureModel(candidate, 'a', { ...quick, noiseThreshold: 1e-9, maxRepeats: 1 });
    expect(m.state).toBe('noisy');
    if (m.state !== 'noisy') return;
    expect(m.attempts).toBe(2);
    expect(m.stats.samples).toBeGreaterThan(0);
  });

  it('a batch size from --shape replaces the default batch of 1; a clash with a fixed dimension is named', async () => {
    const first = await measureModel(candidate, 'a', quick);
    if (first.state === 'errored') throw new Error(first.error.message);
    const [, c, h, w] = first.inputs[0].shape;
    const batched = await measureModel(candidate, 'a', { ...quick, shapes: { input: [4, c, h, w] } });
    expect(batched.state === 'errored' ? batched.error.message : batched.inputs[0].shape).toEqual([4, c, h, w]);
    const clash = await measureModel(candidate, 'a', { ...quick, shapes: { input: [1, c, h + 1, w] } });
    expect(clash.state === 'errored' && clash.error.message).toBe(`a: --shape for 'input' gives ${h + 1} at dimension 2, the model fixes ${h}`);
  });
});

describe('bad input gets one clear error naming it; the other models still run', () => {
  it('missing file, non-ONNX file and ungeneratable input, beside a good model', async () => {
    const rows = await benchmarkModels([candidate, `${dir}/missing.onnx`, junkFile(dir), dynamicSizeOnnx(dir)], { measure: quick });
    expect(rows.map((r) => r.state)).toEqual([expect.stringMatching(/measured|noisy/), 'errored', 'errored', 'errored']);
    const messages = rows.map((r) => (r.state === 'errored' ? r.error.message : ''));
    expect(messages[1]).toBe('missing.onnx: file not found');
    expect(messages[2]).toMatch(/^junk\.onnx: cannot be loaded by onnxruntime/);
    expect(messages[3]).toMatch(/^dynamic\.onnx: input 'input' dimension 2 is symbolic \('H'\); pass --shape input:Nx3xNxN/);
  });

  it('--shape resolves the symbolic dimensions', async () => {
    const [row] = await benchmarkModels([dynamicSizeOnnx(dir)], { measure: { ...quick, shapes: parseShapes(['2x3x8x8']) } });
    expect(row.state).not.toBe('errored');
    if (row.state !== 'errored') expect(row.inputs[0].shape).toEqual([2, 3, 8, 8]);
  });

  it('a malformed --shape names itself', () => {
    expect(() => parseShapes(['input:1x3xax8'])).toThrow("--shape 'input:1x3xax8': expected [name:]D1xD2x… with positive integers");
  });
});

describe('--compare', () => {
  it('interleaves the models and gives ratios to the first; the CSV parses back', async () => {
    const rows = await benchmarkModels([candidate, other, candidate], { compare: true, measure: quick });
    expect(rows.map((r) => r.state).every((s) => s !== 'errored')).toBe(true);
    expect(rows[0].ratioToFirst).toBe(1);
    // Ratios are each p50 over the first's. (How closely the same model agrees
    // with itself is a timing figure: bench:harness measures it, not a test.)
    const p50 = rows.map((r) => (r as { stats: { p50: number } }).stats.p50);
    expect(rows[1].ratioToFirst).toBeCloseTo(p50[1] / p50[0], 12);
    expect(rows[2].ratioToFirst).toBeCloseTo(p50[2] / p50[0], 12);
    const records = parse(toCsv(rows), { columns: true, cast: true }) as Array<Record<string, string | number>>;
    expect(records).toHaveLength(3);
    expect(records[0].ratio_to_first).toBe(1);
    expect(records[1].p50_ms).toBeCloseTo((rows[1] as { stats: { p50: number } }).stats.p50, 9);
    expect(records[1].intra_op_threads).toBe(1);
  });
});
