import {
  type ErrorCodeTable,
  isPyworkersError,
  PyworkersError,
  type PyworkersErrorOptions,
} from '@pyworkers/common';

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

// A fault in the worker's own Python (an exception at top level or in a handler) is passed as
// `userError: true` by the throw that sees it; the codes alone default to "we broke".
const CODES: ErrorCodeTable<IsolateErrorCode> = {
  ERR_ISOLATE_BOOT: { user: false },
  ERR_ISOLATE_CRASHED: { user: false },
  ERR_ISOLATE_CLOSED: { user: false },
  ERR_ISOLATE_HANDLER: { user: false, hint: "fix the exception in the worker's handler" },
  ERR_ISOLATE_SNAPSHOT: { user: false },
  ERR_ISOLATE_UNRESTORABLE: {
    user: false,
    hint: 'move what holds the value (an open file, a socket, a JavaScript object) from the top level into the handler',
  },
  ERR_ISOLATE_ENTROPY: { user: false },
  ERR_ISOLATE_TIMEOUT: {
    user: false,
    hint: 'make the handler faster, or raise the request time limit (request_timeout_ms)',
  },
  ERR_ISOLATE_MEMORY_LIMIT: {
    user: false,
    hint: 'use less memory per request, or raise the isolate memory limit',
  },
  ERR_ISOLATE_PYODIDE_VERSION: {
    user: false,
    hint: 'install the Pyodide version @pyworkers/isolate pins',
  },
  ERR_BUNDLE_INVALID: { user: true, hint: 'build the bundle again from its project' },
  ERR_BUNDLE_VERSION: { user: true, hint: 'build the bundle again with this version' },
  ERR_BUNDLE_BASELINE: {
    user: true,
    hint: 'build the bundle again on the host that serves it (its snapshot is a delta against that baseline)',
  },
};

/** The one error class of `@pyworkers/isolate`. `userError` marks faults in the user's worker or input. */
export class IsolateError extends PyworkersError<IsolateErrorCode> {
  override readonly name = 'IsolateError';
  constructor(code: IsolateErrorCode, message: string, options?: PyworkersErrorOptions) {
    super(CODES, code, message, options);
  }
}

/** Whether `err` is an {@link IsolateError}, from any copy of this package or across IPC. */
export function isIsolateError(err: unknown): err is IsolateError {
  return isPyworkersError(err, 'IsolateError');
}
