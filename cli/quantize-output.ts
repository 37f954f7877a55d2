/**
 * What `nas quantize` leaves on disk, decided apart from the measuring so it
 * can be tested without a benchmark: the INT8 variant it chose (written by
 * quantizeFile), or, when fp32 won and `--out` names a file, a copy of the
 * fp32 model there: a script that asked for a file gets the model to use,
 * and the output says which one it is. Without `--out` a lost INT8 writes
 * nothing: the input file is the model to use.
 */
import type { Int8Choice } from '../benchmarks/int8-choice.js';

/** What ends up at the output path. */
export type QuantizeOutput =
  | { state: 'int8'; path: string; variant: string }
  | { state: 'fp32-copy'; path: string; reason: string }
  | { state: 'none'; reason: string };

/** The decision, from the choice, the INT8 file quantizeFile wrote (if any) and `--out`. */
export function quantizeOutput(choice: Int8Choice, int8Written: string | null, out: string | undefined): QuantizeOutput {
  if (choice.state === 'int8' && int8Written) return { state: 'int8', path: int8Written, variant: choice.variant };
  const reason = choice.state === 'fp32' ? choice.reason : 'no INT8 file was written';
  return out !== undefined ? { state: 'fp32-copy', path: out, reason } : { state: 'none', reason };
}

/** The line saying what was written. */
export function quantizeOutputLine(o: QuantizeOutput): string {
  if (o.state === 'int8') return `wrote ${o.path}: INT8 (${o.variant})`;
  if (o.state === 'fp32-copy') return `wrote ${o.path}: the fp32 model, unchanged, because INT8 lost (${o.reason})`;
  return `wrote nothing: fp32 is the model to use (${o.reason}); with --out, a copy of it is written there`;
}
