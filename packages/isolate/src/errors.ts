/** Codes an {@link IsolateError} can carry. */
export type IsolateErrorCode =
  | 'ERR_ISOLATE_BOOT'
  | 'ERR_ISOLATE_CRASHED'
  | 'ERR_ISOLATE_CLOSED'
  | 'ERR_ISOLATE_HANDLER'
  | 'ERR_ISOLATE_SNAPSHOT'
  | 'ERR_ISOLATE_UNRESTORABLE'
  | 'ERR_ISOLATE_ENTROPY'
  | 'ERR_ISOLATE_TIMEOUT'
  | 'ERR_ISOLATE_MEMORY_LIMIT'
  | 'ERR_ISOLATE_PYODIDE_VERSION'
  | 'ERR_BUNDLE_INVALID'
  | 'ERR_BUNDLE_VERSION'
  | 'ERR_BUNDLE_BASELINE';

/** The one error class of `@pyworkers/isolate`. `userError` marks faults in the user's worker or input. */
export class IsolateError extends Error {
  override readonly name = 'IsolateError';
  constructor(
    readonly code: IsolateErrorCode,
    message: string,
    options?: { cause?: unknown; userError?: boolean },
  ) {
    super(message, options);
    this.userError = options?.userError ?? false;
  }
  readonly userError: boolean;
}
