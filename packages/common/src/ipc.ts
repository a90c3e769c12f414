import {
  isPyworkersError,
  markPyworkersError,
  type PyworkersErrorLike,
} from './pyworkers-error.js';

/**
 * An error as plain data: what crosses a process or thread boundary (JSON or structured
 * clone both drop an Error's own fields and every symbol).
 */
export interface ErrorData {
  name: string;
  message: string;
  /** Set for pyworkers errors; a Node error's own code (`ENOENT`) is kept too. */
  code?: string;
  /** Whether a pyworkers package threw it. */
  pyworkers: boolean;
  userError: boolean;
  hint?: string;
  where?: string;
  stack?: string;
  cause?: ErrorData;
}

/** Turns any thrown value into {@link ErrorData}, keeping the contract fields and causes. */
export function toErrorData(err: unknown, depth = 0): ErrorData {
  if (!(err instanceof Error) && !isPyworkersError(err))
    return { name: 'Error', message: String(err), pyworkers: false, userError: false };
  const e = err as Partial<PyworkersErrorLike> & Error;
  const data: ErrorData = {
    name: String(e.name),
    message: String(e.message),
    pyworkers: isPyworkersError(err),
    userError: isPyworkersError(err) && e.userError === true,
  };
  if (typeof e.code === 'string') data.code = e.code;
  if (typeof e.hint === 'string') data.hint = e.hint;
  if (typeof e.where === 'string') data.where = e.where;
  if (typeof e.stack === 'string') data.stack = e.stack;
  // A cycle or a very long chain stops here: the first few causes are what a reader needs.
  if (e.cause !== undefined && depth < 4) data.cause = toErrorData(e.cause, depth + 1);
  return data;
}

/**
 * Rebuilds an error from {@link ErrorData}: same name, message, code, hint and stack, and the
 * pyworkers marker when it had one, so `isPyworkersError(err, 'IsolateError')` holds across IPC.
 */
export function fromErrorData(data: ErrorData): Error {
  const err = new Error(data.message, data.cause ? { cause: fromErrorData(data.cause) } : {});
  Object.defineProperty(err, 'name', { value: data.name, enumerable: false, writable: true });
  const fields = err as unknown as Record<string, unknown>;
  if (data.code !== undefined) fields.code = data.code;
  fields.userError = data.userError;
  fields.hint = data.hint;
  fields.where = data.where;
  if (data.stack !== undefined) err.stack = data.stack;
  if (data.pyworkers) markPyworkersError(err);
  return err;
}
