import { describe, expect, it } from 'vitest';
import { compareWithBaselines, dominatesBaseline, type ScoredModel } from '../../finalize/dominance.js';
import { wilsonInterval } from '../../intervals.js';
import { finalRecipe, FINE_TUNE_LEARNING_RATE_SCALE, recipeHash, recipeTrainOptions, spareThreadsPerModel } from '../../finalize/recipe.js';
import { withSummarySection } from '../../finalize/report.js';
import { kneePoint, selectChallengers, selectFront, type FrontPoint } from '../../finalize/select.js';

const model = (id: string, accuracy: number, latency: number, half = 0.005): ScoredModel => ({ id, name: id, accuracy, accuracyLow: accuracy - half, accuracyHigh: accuracy + half, latency });

describe('the 95% interval of a test accuracy (Wilson score)', () => {
  it('matches hand-computed intervals', () => {
    // 90/100: the textbook [0.8256, 0.9448]; 5/10: [0.2366, 0.7634]; 20/20: [0.8389, 1].
    const cases: Array<[number, number, number, number]> = [
      [0.9, 100, 0.825634, 0.944771],
      [0.5, 10, 0.236593, 0.763407],
      [1, 20, 0.838875, 1],
      [0.9312, 10000, 0.926072, 0.935997],
    ];
    for (const [p, n, low, high] of cases) {
      const i = wilsonInterval(p, n);
      expect(i.low).toBeCloseTo(low, 5);
      expect(i.high).toBeCloseTo(high, 5);
    }
  });

  it('refuses an empty test split and an accuracy outside [0, 1]', () => {
    expect(() => wilsonInterval(0.5, 0)).toThrow(/at least one test image/);
    expect(() => wilsonInterval(1.2, 10)).toThrow(/\[0, 1\]/);
  });
});

describe('which front members are finalized', () => {
  // Latency range 0.10–0.40 ms: thirds [0.1, 0.2), [0.2, 0.3), [0.3, 0.4].
  // Ranked by accuracy: the score is the accuracy.
  const point = (id: string, latency: number, accuracy: number): FrontPoint => ({ id, latency, accuracy, score: accuracy });
  const front: FrontPoint[] = [point('a', 0.1, 0.8), point('b', 0.15, 0.85), point('c', 0.22, 0.89), point('d', 0.28, 0.895), point('e', 0.35, 0.9), point('f', 0.4, 0.905)];

  it('the knee is the point farthest above the line from fastest to most accurate (both axes scaled)', () => {
    // Scaled: a(0,0) b(1/6,0.476) c(0.4,0.857) d(0.6,0.905) e(0.833,0.952) f(1,1); y − x is largest at c (0.457).
    expect(kneePoint(front)?.id).toBe('c');
    expect(kneePoint(front.slice(0, 2))).toBeNull();
  });

  it('default: the most accurate of each latency third plus the knee, fastest first; --top K: the K most accurate', () => {
    expect(selectFront(front).map((p) => p.id)).toEqual(['b', 'c', 'd', 'f']);
    expect(selectFront(front, 2).map((p) => p.id)).toEqual(['f', 'e']);
    expect(selectFront([point('x', 1, 0.5)]).map((p) => p.id)).toEqual(['x']);
  });

  it('a run ranked by log-likelihood chooses by it, not by the accuracy shown beside it', () => {
    // e has the best accuracy of the last third but the worst log-likelihood; f the reverse. b leads the first third by score only.
    const ranked: FrontPoint[] = [
      { id: 'a', latency: 0.1, accuracy: 0.86, score: -0.4 },
      { id: 'b', latency: 0.15, accuracy: 0.85, score: -0.35 },
      { id: 'e', latency: 0.35, accuracy: 0.91, score: -0.3 },
      { id: 'f', latency: 0.4, accuracy: 0.9, score: -0.25 },
    ];
    expect(selectFront(ranked).map((p) => p.id)).toEqual(['b', 'f']);
    expect(selectFront(ranked, 1).map((p) => p.id)).toEqual(['f']);
    expect(selectChallengers(ranked, [{ name: 'x', latency: 0.2 }, { name: 'y', latency: 1 }], 0).map((c) => c.challenger?.id)).toEqual(['b', 'f']);
  });

  it('challengers: per baseline, the most accurate member no slower within the noise, or none', () => {
    const baselines = [
      { name: 'plain-cnn', latency: 0.3 }, // ≤ 0.315: a–d; d is the most accurate
      { name: 'mbv3', latency: 0.39 }, // ≤ 0.4095: every member; f
      { name: 'tiny', latency: 0.05 }, // ≤ 0.0525: nothing
      { name: 'edge', latency: 0.2 }, // ≤ 0.21: a, b (c at 0.22 is 10% over)
    ];
    expect(selectChallengers(front, baselines, 0.05).map((c) => [c.baseline, c.challenger?.id ?? null])).toEqual([
      ['plain-cnn', 'd'], ['mbv3', 'f'], ['tiny', null], ['edge', 'b'],
    ]);
    // The thirds-and-knee selection (b, c, d, f) has nothing at or under 0.2 ms but b; at 0.3, under a tighter noise, still d.
    expect(selectChallengers(front, [{ name: 'x', latency: 0.27 }], 0.05)[0].challenger?.id).toBe('d'); // 0.28 ≤ 0.2835
    expect(selectChallengers(front, [{ name: 'x', latency: 0.27 }], 0)[0].challenger?.id).toBe('c');
    // Equal accuracy: the faster one.
    expect(selectChallengers([point('p', 0.2, 0.9), point('q', 0.1, 0.9)], [{ name: 'x', latency: 1 }], 0)[0].challenger?.id).toBe('q');
  });
});

describe('front against hand design', () => {
  it('dominance: at least as accurate within the baseline\'s interval, no slower within the latency noise', () => {
    const baseline = model('mbv2', 0.9, 0.2, 0.006);
    expect(dominatesBaseline(model('f', 0.895, 0.209), baseline)).toBe(true); // within interval, +4.5% latency
    expect(dominatesBaseline(model('f', 0.893, 0.15), baseline)).toBe(false); // below 0.894
    expect(dominatesBaseline(model('f', 0.95, 0.211), baseline)).toBe(false); // +5.5% latency
  });

  it('names the most accurate dominating front model, or the band that failed and why', () => {
    const front = [model('fast', 0.86, 0.08), model('mid', 0.9, 0.12), model('slow', 0.93, 0.3)];
    const [v2, cnn, tiny] = compareWithBaselines(front, [model('mbv2', 0.904, 0.2), model('cnn', 0.92, 0.15), model('tiny', 0.7, 0.05)]);
    expect(v2.state).toBe('dominated'); // mid: 0.900 ≥ 0.899 (mbv2's lower bound), 0.12 ≤ 0.2 ms; slow is too slow
    if (v2.state === 'dominated') {
      expect(v2.by.id).toBe('mid');
      expect(v2.accuracyGain).toBeCloseTo(-0.004, 10);
      expect(v2.latencyRatio).toBeCloseTo(0.6, 10);
    }
    expect(cnn.state).toBe('not-dominated');
    if (cnn.state === 'not-dominated') {
      expect(cnn.bestAtLatency?.id).toBe('mid');
      expect(cnn.reason).toMatch(/latency ≤ 0\.1500 ms.*mid at 90\.00%.*below cnn's 92\.00%/);
    }
    expect(tiny.state).toBe('not-dominated');
    if (tiny.state === 'not-dominated') expect(tiny.reason).toMatch(/no front model is as fast as tiny/);
  });
});

describe('the final recipe', () => {
  it('is one object for every model: warm-up, KD only with a teacher, a stable hash', () => {
    const r = finalRecipe({ epochs: 30 });
    expect(r.warmupEpochs).toBe(1);
    expect(r.distillation.alpha).toBe(0.9);
    expect(finalRecipe({ epochs: 4 }).warmupEpochs).toBeCloseTo(0.2, 12);
    const plain = finalRecipe({ epochs: 30, teacher: false });
    expect(plain.distillation.alpha).toBe(0);
    expect(plain.labelSmoothing).toBe(0.1);
    expect(recipeHash(r)).toBe(recipeHash(finalRecipe({ epochs: 30 })));
    expect(recipeHash(r)).not.toBe(recipeHash(plain));
    expect(recipeTrainOptions(r)).toMatchObject({ budget: { epochs: 30 }, warmupEpochs: 1, learningRate: 0.05, distillation: { alpha: 0.9, temperature: 4 } });
    expect(() => finalRecipe({ epochs: 0 })).toThrow(/positive integer/);
  });

  it('fine-tunes inherited weights at a fifth of the peak rate unless told another share, and only inherited weights', () => {
    const inherited = finalRecipe({ epochs: 5, init: 'inherited' });
    expect(inherited.learningRate).toBeCloseTo(0.05 * FINE_TUNE_LEARNING_RATE_SCALE, 12);
    // The default share written out gives the same recipe, hence the same hash: plans made before the option keep theirs.
    expect(recipeHash(finalRecipe({ epochs: 5, init: 'inherited', fineTuneRate: FINE_TUNE_LEARNING_RATE_SCALE }))).toBe(recipeHash(inherited));
    const full = finalRecipe({ epochs: 5, init: 'inherited', fineTuneRate: 1 });
    expect(full.learningRate).toBe(0.05);
    expect(recipeHash(full)).not.toBe(recipeHash(inherited));
    expect(() => finalRecipe({ init: 'inherited', fineTuneRate: 0 })).toThrow(/fineTuneRate must be in \(0, 1\], got 0/);
    expect(() => finalRecipe({ init: 'inherited', fineTuneRate: 1.5 })).toThrow(/fineTuneRate must be in \(0, 1\], got 1.5/);
    expect(() => finalRecipe({ fineTuneRate: 0.5 })).toThrow(/fineTuneRate: only with init inherited/);
  });

  it('threads per model: in the recipe and its hash only above one; auto shares out the spare cores', () => {
    const one = finalRecipe({ epochs: 30 });
    expect('threads' in one).toBe(false); // one-thread recipes keep the hash they had before threads existed
    expect(recipeHash(finalRecipe({ epochs: 30, threads: 1 }))).toBe(recipeHash(one));
    const two = finalRecipe({ epochs: 30, threads: 2 });
    expect(two.threads).toBe(2);
    expect(recipeHash(two)).not.toBe(recipeHash(one));
    expect(recipeTrainOptions(two).threads).toBe(2);
    expect(recipeTrainOptions(one).threads).toBe(1);
    expect(() => finalRecipe({ threads: 0 })).toThrow(/threads must be a positive integer/);
    // 2 cores: one model alone gets both, two side by side one each; 8 cores over 3 models: 2 each.
    expect(spareThreadsPerModel(2, 1)).toBe(2);
    expect(spareThreadsPerModel(2, 2)).toBe(1);
    expect(spareThreadsPerModel(2, 5)).toBe(1);
    expect(spareThreadsPerModel(8, 3)).toBe(2);
  });

  it('summary.md: the finalize section replaces its earlier self and leaves the search\'s text alone', () => {
    const search = '# Search summary\n\nfront table\n';
    const once = withSummarySection(search, '<!-- nas finalize: start -->\nA\n<!-- nas finalize: end -->\n');
    const twice = withSummarySection(once, '<!-- nas finalize: start -->\nB\n<!-- nas finalize: end -->\n');
    expect(twice).toBe('# Search summary\n\nfront table\n\n<!-- nas finalize: start -->\nB\n<!-- nas finalize: end -->\n');
  });
});
