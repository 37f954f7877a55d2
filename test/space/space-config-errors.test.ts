import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SMALL_IMAGE_SPACE, MOBILENET_224_SPACE } from '../../space/defaults.js';
import { parseSearchSpace, SpaceConfigError } from '../../space/schema.js';
import { loadSpaceConfig } from '../../space/space.js';

function errorOf(fn: () => unknown): SpaceConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SpaceConfigError);
    return error as SpaceConfigError;
  }
  throw new Error('expected a SpaceConfigError');
}

describe('a bad space file gets one error naming the field', () => {
  it('accepts both default spaces', () => {
    expect(parseSearchSpace(SMALL_IMAGE_SPACE)).toEqual(SMALL_IMAGE_SPACE);
    expect(parseSearchSpace(MOBILENET_224_SPACE)).toEqual(MOBILENET_224_SPACE);
  });

  it('empty choice list', () => {
    const space = structuredClone(SMALL_IMAGE_SPACE);
    space.stages[2].widths = [];
    const e = errorOf(() => parseSearchSpace(space, 'space.json'));
    expect(e.field).toBe('stages[2].widths');
    expect(e.message).toMatch(/^space\.json: stages\[2\]\.widths: must list at least one choice/);
  });

  it('a stride that makes the feature map vanish', () => {
    const space = structuredClone(SMALL_IMAGE_SPACE);
    space.resolutions = [8];
    space.stemStride = 2; // 8 → 4 → 2 → 1, then stage 3 meets 1×1
    const e = errorOf(() => parseSearchSpace(space));
    expect(e.field).toBe('stages[3].stride');
    expect(e.message).toContain('vanishes');
  });

  it('an unknown field', () => {
    const space = { ...structuredClone(SMALL_IMAGE_SPACE), stages: [{ ...SMALL_IMAGE_SPACE.stages[0], dilation: 2 }] };
    const e = errorOf(() => parseSearchSpace(space));
    expect(e.field).toBe('stages[0].dilation');
    expect(e.problem).toBe('unknown field');
  });

  it('a kernel size the builders do not support', () => {
    const space = structuredClone(SMALL_IMAGE_SPACE) as unknown as { stages: Array<{ kernelSizes: number[] }> };
    space.stages[1].kernelSizes = [3, 4];
    expect(errorOf(() => parseSearchSpace(space)).field).toBe('stages[1].kernelSizes[1]');
  });

  it('a space file that is not JSON names the file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'space-')), 'space.json');
    writeFileSync(file, '{ "resolutions": [28], ');
    const e = errorOf(() => loadSpaceConfig(file));
    expect(e.message).toContain(file);
    expect(e.message).toContain('not valid JSON');
  });
});
