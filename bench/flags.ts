/** Flag parsers the bench scripts share (commander's argParser form): one message for one mistake. */
import { InvalidArgumentError } from 'commander';

/** A whole number of at least `min`, or commander's error naming what was expected. */
export const atLeast =
  (min: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got '${value}'`);
    return n;
  };

/** A share in (0, 1] (a fraction of a rate), or commander's error naming what was expected. */
export const share = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got '${value}'`);
  return n;
};
