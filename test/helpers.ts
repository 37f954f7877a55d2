/** Shared test helpers: seeded arrays and relative error against a reference. */
import seedrandom from 'seedrandom';

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
