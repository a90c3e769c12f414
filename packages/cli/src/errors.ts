/** Codes a {@link CliError} can carry. */
export type CliErrorCode = 'ERR_CONFIG' | 'ERR_USAGE' | 'ERR_PROJECT' | 'ERR_INTERNAL';

/**
 * The one error class of the CLI. A user error is printed as what is wrong, where, and how
 * to fix it, and exits 1; anything else exits 2.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly where: string | undefined;
  readonly hint: string | undefined;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options: { where?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.where = options.where;
    this.hint = options.hint;
  }
}
