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
