import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { SMALL_IMAGE_SPACE, MOBILENET_224_SPACE } from '../../space/defaults.js';
import { canonicalGenome, genomeId } from '../../space/genome.js';
import { MobileNetSpace } from '../../space/space.js';

for (const [name, config] of [['small', SMALL_IMAGE_SPACE], ['mobilenet-224', MOBILENET_224_SPACE]] as const) {
  const space = new MobileNetSpace(config, { numClasses: 10, inputChannels: 1 });

  describe(`genome operators on the ${name} space`, () => {
    it('sample is seeded: same seed, same genomes; other seed, others', () => {
      const draw = (seed: string) => {
        const rng = seedrandom(seed);
        return Array.from({ length: 20 }, () => space.id(space.sample(rng)));
      };
      expect(draw('a')).toEqual(draw('a'));
      expect(draw('a')).not.toEqual(draw('b'));
    });

    it('sampled, mutated and crossed-over genomes are always valid for the space', () => {
      const rng = seedrandom('validity');
      let population = Array.from({ length: 30 }, () => space.sample(rng));
      for (let generation = 0; generation < 10; generation++) {
        population = population.map((g, i) =>
          i % 2 ? space.mutate(g, rng) : space.crossover(g, population[(i + 7) % population.length], rng),
        );
        for (const g of population) expect(() => space.parseGenome(g)).not.toThrow();
      }
    });

    it('mutation always changes at least one gene, even at probability 0', () => {
      const rng = seedrandom('mutate');
      for (let i = 0; i < 100; i++) {
        const g = space.sample(rng);
        const child = space.mutate(g, rng, 0);
        expect(space.id(child)).not.toBe(space.id(g));
      }
    });

    it('mutation and crossover never modify their parents', () => {
      const rng = seedrandom('purity');
      const a = space.sample(rng);
      const b = space.sample(rng);
      const [ca, cb] = [canonicalGenome(a), canonicalGenome(b)];
      space.mutate(a, rng, 0.5);
      space.crossover(a, b, rng);
      expect([canonicalGenome(a), canonicalGenome(b)]).toEqual([ca, cb]);
    });
  });
}

describe('genome id', () => {
  const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
  it('is 12 hex characters, independent of key order, and changes with any gene', () => {
    const g = space.sample(seedrandom('id'));
    const reordered = JSON.parse(JSON.stringify({ headWidth: g.headWidth, stages: g.stages, stemWidth: g.stemWidth, resolution: g.resolution }));
    expect(genomeId(g)).toMatch(/^[0-9a-f]{12}$/);
    expect(genomeId(reordered)).toBe(genomeId(g));
    const changed = structuredClone(g);
    changed.stages[2].blocks[0].expand = changed.stages[2].blocks[0].expand === 6 ? 4 : 6;
    expect(genomeId(changed)).not.toBe(genomeId(g));
  });
});
