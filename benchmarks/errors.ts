/** The harness's one error type: `code` E_BENCH, message names the model or input. */
export class BenchError extends Error {
  readonly code = 'E_BENCH';
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}
