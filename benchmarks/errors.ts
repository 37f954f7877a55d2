import { CodedError } from '../errors.js';

/** The harness's one error type: `code` E_BENCH, message names the model or input. */
export class BenchError extends CodedError {
  readonly code = 'E_BENCH';
}
