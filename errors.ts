/**
 * The base of every expected failure. Each subclass carries a stable `code`
 * that scripts may test and that the CLI maps to its exit code in one place
 * (cli/errors.ts); its message names the file, field or flag at fault. A
 * leaf module: every stage imports it, it imports nothing.
 */
export abstract class CodedError extends Error {
  /** Stable across releases, `E_` and the failure's kind: `E_SEARCH_CONFIG`, `E_DATASET`… */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
