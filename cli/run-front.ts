/**
 * finalize and compress both need the front's model files: one check, one
 * error and one exit code for a run whose front has none (a proxy-evaluator
 * run, or a search stopped before its report), before either starts work.
 */
import { join } from 'node:path';
import { readRun, type Run } from '../search/run-directory.js';
import { EmptyFrontError } from './errors.js';

/** Reads the run directory and refuses it when no front member has files in front/. */
export function runWithFrontFiles(runDir: string): Run {
  const run = readRun(runDir);
  if (!run.front.some((r) => r.frontDir !== null)) {
    const why = run.config.evaluator === 'proxy' ? 'the proxy evaluator trains no model' : 'run the search to its end, or nas report';
    throw new EmptyFrontError(`${join(runDir, 'front')}: no front member has model files (${why})`);
  }
  return run;
}
