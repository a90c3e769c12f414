/**
 * The marker every pyworkers error carries. `Symbol.for` is one symbol per process, so an error
 * thrown by a second copy of a package (two versions in node_modules) is still recognised,
 * where `instanceof` would say no.
 */
const MARKER = Symbol.for('pyworkers.error');

/** What a package error may be given beyond its code and message. */
export interface PyworkersErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** Overrides the package's default for the code: true when the user can fix it. */
  userError?: boolean;
  /** How to fix it; defaults to the package's hint for the code. */
  hint?: string;
  /** Where the fault is: a file, `file:line`, or a config key. */
  where?: string;
}

/** The fields every pyworkers error has, whichever package (or process) threw it. */
export interface PyworkersErrorLike<C extends string = string> extends Error {
  readonly code: C;
  /** The user can fix it (bad config, bad input, a failing worker): exit 1, no stack trace. */
  readonly userError: boolean;
  readonly hint: string | undefined;
  readonly where: string | undefined;
}

/** What a package declares for each of its codes: whose fault it is and how to fix it. */
export type ErrorCodeTable<C extends string> = Record<C, { user: boolean; hint?: string }>;

/**
 * Base of every package's one error class. A subclass passes its code table, so the package
 * that throws supplies `userError` and `hint` for its own codes.
 * @example
 * class SnapshotError extends PyworkersError<SnapshotErrorCode> {
 *   override readonly name = 'SnapshotError';
 *   constructor(code: SnapshotErrorCode, message: string, options?: PyworkersErrorOptions) {
 *     super(SNAPSHOT_CODES, code, message, options);
 *   }
 * }
 */
export class PyworkersError<C extends string = string>
  extends Error
  implements PyworkersErrorLike<C>
{
  readonly code: C;
  readonly userError: boolean;
  readonly hint: string | undefined;
  readonly where: string | undefined;
  constructor(
    table: Partial<ErrorCodeTable<C>>,
    code: C,
    message: string,
    options: PyworkersErrorOptions = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    const entry = table[code];
    this.code = code;
    this.userError = options.userError ?? entry?.user ?? false;
    this.hint = options.hint ?? entry?.hint;
    this.where = options.where;
    Object.defineProperty(this, MARKER, { value: true });
  }
}

/**
 * Whether `err` is a pyworkers error (from any copy of any package, or revived from IPC by
 * {@link fromErrorData}); with `name`, whether it is that package's error (`'IsolateError'`).
 */
export function isPyworkersError(err: unknown, name?: string): err is PyworkersErrorLike {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as Record<symbol, unknown>)[MARKER] === true &&
    (name === undefined || (err as Error).name === name)
  );
}

/** Marks a revived error so {@link isPyworkersError} knows it. */
export function markPyworkersError(err: Error): void {
  Object.defineProperty(err, MARKER, { value: true });
}
