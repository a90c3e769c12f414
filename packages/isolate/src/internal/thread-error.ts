// Errors from an isolate's thread arrive as data (toErrorData); this turns them back into the
// IsolateError the caller sees, without losing what the thread knew (code, hint, where).
import { type ErrorData, fromErrorData } from '@pyworkers/common';
import { IsolateError, type IsolateErrorCode } from '../errors.js';
import type { ErrorMessage, FromWorker } from './protocol.js';

/**
 * The IsolateError for an error the thread sent. One raised as an IsolateError in the thread
 * keeps its code, userError, hint and where; anything else (a Python exception at top level, a
 * JS bug) becomes `fallback` with the thread's error as its cause. `message` defaults to the
 * thread's.
 */
export function errorFromThread(
  data: ErrorData,
  fallback: IsolateErrorCode,
  message: string = data.message,
): IsolateError {
  if (data.pyworkers && data.name === 'IsolateError' && data.code) {
    return new IsolateError(data.code as IsolateErrorCode, message, {
      userError: data.userError,
      ...(data.hint !== undefined ? { hint: data.hint } : {}),
      ...(data.where !== undefined ? { where: data.where } : {}),
      ...(data.cause ? { cause: fromErrorData(data.cause) } : {}),
    });
  }
  return new IsolateError(fallback, message, {
    userError: data.userError,
    cause: fromErrorData(data),
  });
}

/**
 * The error for a thread that answered `msg` where something else was due: `context` (ending in
 * its separator) and what went wrong (the traceback when Python raised), under the thread's code or `fallback`.
 */
export function threadFailure(
  msg: FromWorker,
  fallback: IsolateErrorCode,
  context: string,
): IsolateError {
  if (msg.type !== 'error') return new IsolateError(fallback, `${context}${msg.type}`);
  return errorFromThread(msg.error, fallback, `${context}${msg.traceback ?? msg.error.message}`);
}

/** The error message of a thread that exited before it answered. */
export function exitedMessage(code: number): ErrorMessage {
  return {
    type: 'error',
    error: {
      name: 'Error',
      message: `exited with code ${code}`,
      pyworkers: false,
      userError: false,
    },
  };
}
