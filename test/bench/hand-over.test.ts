import { describe, expect, it } from 'vitest';
import { frontAfter, linesWithin } from '../../bench/hand-over.js';
import { parseTopCsv, realComparisonConfig } from '../../bench/search-real.js';
import { resolveSearchConfig } from '../../search/config.js';
import type { CandidateRecord } from '../../search/types.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const genomes = Array.from({ length: 4 }, (_, i) => space.mutate(space.sample(() => (i + 1) / 7), () => (i + 2) / 9));
const ids = genomes.map((g) => space.id(g));

/** A journal line of candidate `i` at `rung`. */
const line = (i: number, rung: number, accuracy: number, p50: number): CandidateRecord => ({
  state: 'evaluated',
  id: ids[i],
  generation: 0,
  genome: genomes[i],
  ...space.cost(genomes[i]),
  latency: { p50, p90: p50 * 1.1, source: 'measured' },
  accuracy,
  trainSeconds: 1,
  imagesPerSecond: 100,
  lossCurve: [],
  rung,
});
const rejected = (i: number): CandidateRecord => ({ state: 'rejected', id: ids[i], generation: 0, genome: genomes[i], ...space.cost(genomes[i]), constraint: 'maxLatencyMs', value: 2, limit: 1 });
const config = resolveSearchConfig({ evaluator: 'proxy', fidelity: { rungs: 3, eta: 3 }, hypervolumeReference: { latencyMs: 1 } });
// Rung r costs 3^r units of 100 images (what RungLedger.sessionImages gives for base 100, η 3).
const cost = (r: CandidateRecord) => (r.state === 'evaluated' ? 100 * 3 ** (r.rung ?? 0) : 100);

describe('the front a search hands over after some compute', () => {
  // Candidate 0 is fast and poor; 1 is slow and good at rung 0, better after its promotion;
  // 2 is rejected before training (free); 3 comes last.
  const journal = [line(0, 0, 0.7, 0.2), line(1, 0, 0.75, 0.5), rejected(2), line(1, 1, 0.85, 0.5), line(3, 0, 0.9, 0.3)];

  it('counts trainings only, stops at the first line that no longer fits', () => {
    expect(new Set(ids).size).toBe(4);
    expect(linesWithin(journal, 200, cost)).toMatchObject({ spent: 200 });
    expect(linesWithin(journal, 200, cost).lines).toHaveLength(3);
    // The promotion (300) does not fit in 400 after 200 spent; the later, cheaper line is not taken either.
    expect(linesWithin(journal, 400, cost).lines.map((r) => r.id)).toEqual([ids[0], ids[1], ids[2]]);
    expect(linesWithin(journal, 500, cost).spent).toBe(500);
  });

  it('holds each candidate at the highest rung reached by then', () => {
    const early = frontAfter(journal, config, 200, cost);
    expect(early.map((r) => [r.id, r.accuracy])).toEqual([
      [ids[1], 0.75],
      [ids[0], 0.7],
    ]);
    const later = frontAfter(journal, config, 500, cost);
    expect(later.map((r) => [r.id, r.accuracy, r.rung])).toEqual([
      [ids[1], 0.85, 1],
      [ids[0], 0.7, 0],
    ]);
    // Candidate 3 dominates 1 once it is in.
    expect(frontAfter(journal, config, 600, cost).map((r) => r.id)).toEqual([ids[3], ids[0]]);
  });

  it('compared at the common rung, a promoted candidate removes another only by being better at the same training', () => {
    // 1 (rung 0: 0.75 at 0.5 ms) is promoted to 0.85; 0 (0.8 at 0.6 ms) stays at rung 0; 3 (0.7 at 0.55 ms) at rung 0.
    const lines = [line(0, 0, 0.8, 0.6), line(1, 0, 0.75, 0.5), line(1, 1, 0.85, 0.5), line(3, 0, 0.7, 0.55)];
    // At the highest rung, 1's 0.85 after 3× the training dominates both others.
    expect(frontAfter(lines, config, 1e9, cost).map((r) => r.id)).toEqual([ids[1]]);
    // At the common rung (0), 0 is more accurate than 1 (0.8 > 0.75), so it stays; 3 is slower and worse than 1 at rung 0.
    const common = frontAfter(lines, config, 1e9, cost, 'common-rung');
    expect(common.map((r) => [r.id, r.rung])).toEqual([
      [ids[1], 1],
      [ids[0], 0],
    ]);
    // Without promotions the two rules are the plain Pareto front.
    const single = [line(0, 0, 0.8, 0.6), line(1, 0, 0.75, 0.5), line(3, 0, 0.7, 0.55), line(2, 0, 0.9, 0.9)];
    expect(frontAfter(single, config, 1e9, cost, 'common-rung')).toEqual(frontAfter(single, config, 1e9, cost));
    expect(frontAfter(single, config, 1e9, cost).map((r) => r.id)).toEqual([ids[2], ids[0], ids[1]]);
    // A promotion without the lower rung it came from is a broken journal, named, not skipped.
    expect(() => frontAfter([line(0, 0, 0.8, 0.6), line(1, 1, 0.85, 0.5)], config, 1e9, cost, 'common-rung')).toThrow(`candidate ${ids[1]} has a result at rung 1 but none at rung 0`);
  });
});

describe('the real comparison', () => {
  it('gives both searches the same compute and the overnight candidate work, differing only in fidelity', () => {
    const o = { data: 'fashion-mnist', compute: 36, population: 12, workers: 2 };
    const single = realComparisonConfig(o, 'single', 3);
    const multi = realComparisonConfig(o, 'multi', 3);
    expect(single.budget).toEqual({ images: 36 * 8000 });
    expect(multi.budget).toEqual(single.budget);
    expect(single.fidelity).toBeUndefined();
    expect(multi.fidelity).toEqual({ rungs: 3, eta: 3 });
    expect(single.training).toMatchObject({ epochs: 1, subset: 8000 });
    expect(multi.training).toEqual(single.training);
    expect(single.teacher).toBeNull();
    expect(single.constraints.maxLatencyMs).toBe(1);
    expect(realComparisonConfig(o, 'single', 3, 1800).budget.images).toBe(36 * 1800);
  });

  it('reads back the top-budget rows a kill left whole, and drops a torn last line', () => {
    const header = 'seed,genome_id,params,macs,top_accuracy,train_seconds,data\n';
    const text = `${header}1,aaa,10,20,0.81234,50.0,h\n1,bbb,11,21,not-a-number,50.0,h\n2,ccc,12,22,0.8`;
    expect(parseTopCsv(text).map((r) => [r.seed, r.genome_id, r.top_accuracy])).toEqual([['1', 'aaa', '0.81234']]);
  });
});
