/** Codes a {@link ResolverError} can carry. */
export type ResolverErrorCode =
  | 'ERR_PYPROJECT'
  | 'ERR_REQUIREMENT'
  // resolve + lock (resolver-b)
  | 'ERR_INDEX_CONFIG'
  | 'ERR_NO_SOLUTION'
  | 'ERR_NO_WHEEL'
  | 'ERR_NOT_FOUND'
  | 'ERR_RESOLVE_BUDGET'
  | 'ERR_LOCK'
  // sources + install (resolver-a)
  | 'ERR_NETWORK'
  | 'ERR_INDEX_RESPONSE'
  | 'ERR_HASH_MISMATCH'
  | 'ERR_OFFLINE'
  | 'ERR_WHEEL'
  | 'ERR_PYODIDE_LOCK'
  | 'ERR_MARKER'
  | 'ERR_INSTALL';

/** The one error class of `@pyworkers/resolver`. `userError` marks faults in the user's input. */
export class ResolverError extends Error {
  override readonly name = 'ResolverError';
  readonly userError: boolean;
  constructor(
    readonly code: ResolverErrorCode,
    message: string,
    options: { cause?: unknown; userError?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.userError = options.userError ?? true;
  }
}
