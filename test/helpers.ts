/** Shared test helpers: seeded arrays, relative error against a reference, the ONNX checker and a reduced search space. */
import seedrandom from 'seedrandom';
import type { SearchSpaceConfig } from '../space/types.js';

/** Seeded normal-ish values in [-1, 1). */
export function seededArray(length: number, seed: string): Float32Array {
  const rng = seedrandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng() * 2 - 1;
  return out;
}

/** max |a − b| divided by max |b|: error relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (actual.length !== reference.length) throw new Error(`length ${actual.length} != ${reference.length}`);
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return maxDiff / (scale || 1);
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let warnedNoChecker = false;

/** Whether Debian's python3-onnx (ONNX's own checker) is installed. */
export const hasOnnxChecker = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Runs ONNX's own checker with full checks (strict shape inference) through
 * Debian's python3-onnx; throws its message when the model is invalid.
 * Without python3-onnx it is skipped with a warning, unless
 * NAS_REQUIRE_ONNX_CHECKER=1 (CI sets it) makes that a failure.
 */
export function onnxFullCheck(model: Uint8Array | string): void {
  if (!hasOnnxChecker) {
    if (process.env.NAS_REQUIRE_ONNX_CHECKER === '1') throw new Error('ONNX checker unavailable: apt-get install -y python3-onnx');
    if (!warnedNoChecker) console.warn('python3-onnx is not installed: ONNX checker skipped (apt-get install -y python3-onnx)');
    warnedNoChecker = true;
    return;
  }
  let path = model as string;
  if (typeof model !== 'string') {
    path = join(mkdtempSync(join(tmpdir(), 'onnx-check-')), 'model.onnx');
    writeFileSync(path, model);
  }
  const script = 'import onnx, sys\nm = onnx.load(sys.argv[1])\nonnx.checker.check_model(m, full_check=True)\nprint("ok")';
  try {
    execFileSync('/usr/bin/python3', ['-c', script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error);
    if (stderr.includes("No module named 'onnx'")) {
      throw new Error('ONNX checker unavailable: apt-get install -y python3-onnx (CI installs it)');
    }
    throw new Error(`ONNX checker rejected ${path}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
}

/**
 * A reduced `small` space for tests that run the whole pipeline (search,
 * finalize, compress): the same kinds of choices at a fraction of the width
 * and depth, so that a candidate trains and exports in a second or two
 * instead of ten. What those tests check does not depend on model size.
 */
export const TEST_SPACE: SearchSpaceConfig = {
  resolutions: [28],
  stemWidths: [8],
  stemStride: 1,
  stages: [
    { depths: [1], widths: [8], expandRatios: [1], kernelSizes: [3], squeezeExcite: [false], activations: ['relu6'], stride: 1 },
    { depths: [1, 2], widths: [16, 24], expandRatios: [3, 6], kernelSizes: [3, 5], squeezeExcite: [false, true], activations: ['relu6', 'hswish'], stride: 2 },
    { depths: [1, 2], widths: [24, 32], expandRatios: [3, 6], kernelSizes: [3, 5], squeezeExcite: [false, true], activations: ['relu6', 'hswish'], stride: 2 },
  ],
  headWidths: [64],
};
