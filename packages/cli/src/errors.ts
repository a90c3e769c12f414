import {
  type ErrorCodeTable,
  isPyworkersError,
  PyworkersError,
  type PyworkersErrorOptions,
} from '@pyworkers/common';

/** Codes a {@link CliError} can carry. */
export type CliErrorCode = 'ERR_CONFIG' | 'ERR_USAGE' | 'ERR_PROJECT' | 'ERR_INTERNAL';

const CODES: ErrorCodeTable<CliErrorCode> = {
  ERR_CONFIG: { user: true },
  ERR_USAGE: { user: true, hint: 'see `pyworkers --help`' },
  ERR_PROJECT: { user: true },
  ERR_INTERNAL: { user: false },
};

/**
 * The one error class of the CLI. A user error is printed as what is wrong, where, and how
 * to fix it, and exits 1; anything else exits 2.
 */
export class CliError extends PyworkersError<CliErrorCode> {
  override readonly name = 'CliError';
  constructor(code: CliErrorCode, message: string, options?: PyworkersErrorOptions) {
    super(CODES, code, message, options);
  }
}

/** Whether `err` is a {@link CliError}, from any copy of this package or across IPC. */
export function isCliError(err: unknown): err is CliError {
  return isPyworkersError(err, 'CliError');
}
