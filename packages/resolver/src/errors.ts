import {
  type ErrorCodeTable,
  isPyworkersError,
  PyworkersError,
  type PyworkersErrorOptions,
} from '@pyworkers/common';

/** Codes a {@link ResolverError} can carry. */
export type ResolverErrorCode =
  | 'ERR_PYPROJECT'
  | 'ERR_REQUIREMENT'
  // resolve + lock
  | 'ERR_INDEX_CONFIG'
  | 'ERR_NO_SOLUTION'
  | 'ERR_NO_WHEEL'
  | 'ERR_NOT_FOUND'
  | 'ERR_RESOLVE_BUDGET'
  | 'ERR_LOCK'
  // sources + install
  | 'ERR_NETWORK'
  | 'ERR_INDEX_RESPONSE'
  | 'ERR_HASH_MISMATCH'
  | 'ERR_OFFLINE'
  | 'ERR_WHEEL'
  | 'ERR_PYODIDE_LOCK'
  | 'ERR_MARKER'
  | 'ERR_INSTALL';

const INDEX =
  'check the index URL ([[tool.uv.index]], UV_INDEX_URL / UV_DEFAULT_INDEX / PIP_INDEX_URL) and your connection';

// Most faults here come from the user's requirements, indexes or files; throws that are ours
// (a wheel we cannot unpack, a cache write) pass `userError: false`.
const CODES: ErrorCodeTable<ResolverErrorCode> = {
  ERR_PYPROJECT: { user: true, hint: 'fix pyproject.toml at the key named' },
  ERR_REQUIREMENT: {
    user: true,
    hint: 'write the requirement as PEP 508 says, e.g. "flask>=3.0" or "requests[socks]==2.32.3"',
  },
  ERR_INDEX_CONFIG: { user: true, hint: `fix the index setting named; ${INDEX}` },
  ERR_NO_SOLUTION: {
    user: true,
    hint: 'loosen or change the conflicting requirements in [project].dependencies',
  },
  ERR_NO_WHEEL: {
    user: true,
    hint: 'only pure-Python wheels and packages built for Pyodide can run; pick another version or package',
  },
  ERR_NOT_FOUND: { user: true, hint: `check the name's spelling, or ${INDEX}` },
  ERR_RESOLVE_BUDGET: {
    user: true,
    hint: 'pin some requirements more tightly so fewer versions need trying',
  },
  ERR_LOCK: { user: true, hint: 'delete the lock file, or resolve again ignoring it (upgrade)' },
  ERR_NETWORK: { user: true, hint: `${INDEX}, or work from the cache in offline mode` },
  ERR_INDEX_RESPONSE: { user: true, hint: INDEX },
  ERR_HASH_MISMATCH: {
    user: true,
    hint: 'if the index really republished the file, resolve again ignoring the lock (upgrade); otherwise check the index',
  },
  ERR_OFFLINE: { user: true, hint: 'run once online so the packages reach the cache' },
  ERR_WHEEL: { user: true, hint: 'the wheel is broken: pick another version, or rebuild it' },
  ERR_PYODIDE_LOCK: { user: true, hint: "check the Pyodide distribution's pyodide-lock.json" },
  ERR_MARKER: {
    user: true,
    hint: 'write the environment marker as PEP 508 says, e.g. python_version >= "3.12"',
  },
  ERR_INSTALL: { user: true, hint: 'delete python_modules/ and sync again' },
};

/** The one error class of `@pyworkers/resolver`. `userError` marks faults in the user's input. */
export class ResolverError extends PyworkersError<ResolverErrorCode> {
  override readonly name = 'ResolverError';
  constructor(code: ResolverErrorCode, message: string, options?: PyworkersErrorOptions) {
    super(CODES, code, message, options);
  }
}

/** Whether `err` is a {@link ResolverError}, from any copy of this package or across IPC. */
export function isResolverError(err: unknown): err is ResolverError {
  return isPyworkersError(err, 'ResolverError');
}
