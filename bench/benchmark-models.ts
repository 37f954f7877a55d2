/**
 * The ONNX models the benchmark scripts measure: sampled candidates of the
 * small space written by this package (random weights), and MobileNetV2
 * written by ONNX's own Python helper when python3-onnx is installed.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { buildOnnxModel } from '../space/build-onnx.js';
import { SMALL_IMAGE_SPACE } from '../space/defaults.js';
import { randomWeights } from '../space/random-weights.js';
import { MobileNetSpace } from '../space/space.js';
import { packageRoot } from '../locations.js';

export interface BenchmarkModel {
  name: string;
  path: string;
  builtBy: 'nas-edge' | 'onnx.helper (Python)';
}

/** `count` seeded candidates of the small space, written to `dir`. */
export function candidateModels(dir: string, count: number, seed: string): BenchmarkModel[] {
  const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
  const rng = seedrandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const genome = space.sample(rng);
    const plan = space.plan(genome);
    const path = join(dir, `candidate-${space.id(genome)}.onnx`);
    writeFileSync(path, buildOnnxModel(plan, randomWeights(plan, i)));
    return { name: `candidate ${space.id(genome)} (${(space.cost(genome).macs / 1e6).toFixed(1)} MMAC)`, path, builtBy: 'nas-edge' as const };
  });
}

/** MobileNetV2 ×1.0 at 224 px and ×0.35 at 32 px, or none (with a note on stderr) without python3-onnx. */
export function mobileNetV2Models(dir: string): BenchmarkModel[] {
  const script = join(packageRoot(), 'bench', 'fixtures', 'make_mobilenetv2.py');
  const models: BenchmarkModel[] = [];
  for (const [resolution, width, classes] of [[224, '1.0', 1000], [32, '0.35', 10]] as const) {
    const path = join(dir, `mobilenetv2-${width}-${resolution}.onnx`);
    try {
      execFileSync('/usr/bin/python3', [script, path, String(resolution), width, String(classes)], { stdio: 'pipe' });
      models.push({ name: `MobileNetV2 ×${width} @${resolution}`, path, builtBy: 'onnx.helper (Python)' });
    } catch {
      process.stderr.write(`skipped MobileNetV2 ×${width} @${resolution}: python3-onnx is not installed\n`);
    }
  }
  return models;
}
