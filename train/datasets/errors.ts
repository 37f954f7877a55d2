import { CodedError } from '../../errors.js';

/** The one error every dataset reader throws: it names the file and what was wrong. */
export class DatasetError extends CodedError {
  readonly code = 'E_DATASET';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}
