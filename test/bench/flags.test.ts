import { describe, expect, it } from 'vitest';
import { atLeast, share } from '../../bench/flags.js';

describe('bench flag parsers', () => {
  it('a share is a number in (0, 1]; anything else is one error naming what was expected', () => {
    expect(share('1')).toBe(1);
    expect(share('0.2')).toBe(0.2);
    for (const bad of ['0', '1.5', '-0.1', 'abc', '', ' ']) expect(() => share(bad), bad).toThrow(`expected a number in (0, 1], got '${bad}'`);
  });

  it('a whole number of at least the minimum', () => {
    expect(atLeast(1)('3')).toBe(3);
    expect(() => atLeast(1)('0')).toThrow("expected a whole number ≥ 1, got '0'");
    expect(() => atLeast(0)('2.5')).toThrow("expected a whole number ≥ 0, got '2.5'");
  });
});
