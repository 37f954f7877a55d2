import { InvalidArgumentError } from 'commander';
import { CodedError } from '../errors.js';
import { parseDuration } from '../search/config.js';

/**
 * Maps each expected failure's stable `code` to an exit code, in one place,
 * and prints known failures as one line without a stack.
 */

/** Exit codes by error code; anything unknown exits 1 with its stack. */
export const EXIT_CODES: Record<string, number> = {
  E_USAGE: 2,
  E_DATASET: 3,
  E_SPACE_CONFIG: 4,
  E_TEACHER: 5,
  E_BENCH: 6,
  E_SEARCH_CONFIG: 7,
  E_JOURNAL: 8,
  E_COMPRESS: 9,
  E_BACKEND: 10,
  E_PREDICTOR: 11,
  E_QUEUE: 12,
  E_FINALIZE: 13,
  E_RUN_DIRECTORY: 14,
  E_CHECKPOINT: 15,
  E_SUPERNET: 16,
  /** finalize and compress: the run's front has no member with model files (a proxy run, or a search that never finished a generation). */
  E_EMPTY_FRONT: 17,
  /** A second Ctrl-C: the shell's convention for death by SIGINT. */
  E_INTERRUPTED: 130,
  /** A second SIGTERM: the shell's convention for death by SIGTERM. */
  E_TERMINATED: 143,
};

/** A bad flag value: names the flag and what was expected. */
export class UsageError extends CodedError {
  readonly code = 'E_USAGE';
}

/** Prints an error and sets the process exit code. */
export function reportError(error: unknown): void {
  const code = (error as { code?: string }).code;
  if (code && code in EXIT_CODES) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = EXIT_CODES[code];
    return;
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
}

/** Wraps a command action so every failure goes through {@link reportError}. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      reportError(error);
    }
  };
}

/**
 * Parses a positive integer flag; commander reports the failure naming the
 * flag and the value, and exits with the usage code.
 */
export function positiveInt(flag: string): (value: string) => number {
  return numberFlag(flag, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
}

/** Parses an integer flag ≥ 0 (a seed: 0 is the default); see {@link positiveInt}. */
export function nonNegativeInt(flag: string): (value: string) => number {
  return numberFlag(flag, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
}

/** Parses a flag whose value is one of `choices`; a bad value is a usage error naming the flag. */
export function choiceFlag<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`${flag} must be one of ${choices.join(', ')}, got '${value}'.`);
    return value as T;
  };
}

/** Parses a duration flag (`90s`, `30m`, `8h`, `1h30m`, or seconds) to seconds over 0. */
export function durationFlag(flag: string): (value: string) => number {
  return (value) => {
    let seconds: number;
    try {
      seconds = parseDuration(value);
    } catch {
      throw new InvalidArgumentError(`${flag} must be a duration such as 90s, 30m, 8h or 1h30m, got '${value}'.`);
    }
    if (!(seconds > 0)) throw new InvalidArgumentError(`${flag} must be a duration over 0 s, got '${value}'.`);
    return seconds;
  };
}

/** A front with no model files where finalize or compress needs them: one exit code for both. */
export class EmptyFrontError extends CodedError {
  readonly code = 'E_EMPTY_FRONT';
}

/** Parses a number flag checked by `check`; see {@link positiveInt}. */
export function numberFlag(flag: string, check: (n: number) => boolean = () => true, expected = 'a number'): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${flag} must be ${expected}.`);
    return n;
  };
}
