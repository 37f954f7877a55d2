import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('analytic params and MACs', () => {
  const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });

  it('params equal the built tfjs model\'s countParams for sampled genomes', () => {
    const rng = seedrandom('cost');
    for (let i = 0; i < 8; i++) {
      const g = space.sample(rng);
      const model = buildTfjsModel(space.plan(g));
      expect(space.cost(g).params, space.id(g)).toBe(model.countParams());
      model.dispose();
    }
  });

  it('MACs of a one-block net match a count by hand', () => {
    const tiny = new MobileNetSpace(
      {
        resolutions: [8],
        stemWidths: [4],
        stemStride: 1,
        stages: [{ depths: [1], widths: [4], expandRatios: [2], kernelSizes: [3], squeezeExcite: [true], activations: ['relu6'], stride: 2 }],
        headWidths: [16],
      },
      { numClasses: 3, inputChannels: 1 },
    );
    const g: Genome = { resolution: 8, stemWidth: 4, headWidth: 16, stages: [{ width: 4, activation: 'relu6', squeezeExcite: true, blocks: [{ kernel: 3, expand: 2 }] }] };
    const stem = 8 * 8 * 3 * 3 * 1 * 4; // 8×8 output, 3×3×1 → 4
    const expand = 8 * 8 * 4 * 8; // 1×1, 4 → 8 at 8×8
    const depthwise = 4 * 4 * 3 * 3 * 8; // stride 2 → 4×4
    const se = 2 * 8 * 8 + 8 * 4 * 4; // reduce + expand (squeeze 8), then scale
    const project = 4 * 4 * 8 * 4;
    const head = 4 * 4 * 4 * 16;
    const fc = 16 * 3;
    expect(tiny.cost(g).macs).toBe(stem + expand + depthwise + se + project + head + fc);
  });
});
