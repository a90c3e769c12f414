import { isPyworkersError, PyworkersError, type PyworkersErrorOptions } from '@pyworkers/common';

/** Codes a {@link BindingError} can carry. */
export type BindingErrorCode =
  | 'ERR_BINDING_UNDECLARED'
  | 'ERR_BINDING_METHOD'
  | 'ERR_BINDING_ARGS'
  | 'ERR_BINDING_CONFIG'
  | 'ERR_BINDING_CLOSED'
  | 'ERR_KV_KEY'
  | 'ERR_KV_VALUE'
  | 'ERR_KV_METADATA'
  | 'ERR_KV_EXPIRATION'
  | 'ERR_KV_LIST'
  | 'ERR_KV_JSON'
  | 'ERR_D1_SQL'
  | 'ERR_D1_BIND'
  | 'ERR_D1_MIGRATION'
  | 'ERR_R2_KEY'
  | 'ERR_R2_METADATA'
  | 'ERR_R2_RANGE'
  | 'ERR_R2_CHECKSUM'
  | 'ERR_R2_MULTIPART'
  | 'ERR_R2_LIST'
  | 'ERR_QUEUE_MESSAGE'
  | 'ERR_QUEUE_BATCH'
  | 'ERR_ASSETS_CONFIG'
  | 'ERR_CRON_EXPRESSION'
  | 'ERR_DO_ID'
  | 'ERR_DO_KEY'
  | 'ERR_DO_VALUE'
  | 'ERR_DO_SQL'
  | 'ERR_DO_ALARM'
  | 'ERR_DO_TRANSACTION'
  | 'ERR_STATE_CORRUPT'
  | 'ERR_STATE_IO';

/** Options every {@link BindingError} takes (the contract of `@pyworkers/common`). */
export type BindingErrorOptions = PyworkersErrorOptions;

/**
 * The one error class of `@pyworkers/bindings`. The message always names the binding
 * (`KV binding 'MY_KV': ...`) so the Python exception a worker sees says where it came from.
 * Faults are the worker's or the operator's (a bad key, bad SQL, bad config) unless a throw
 * passes `userError: false`; each throw writes its own hint.
 */
export class BindingError extends PyworkersError<BindingErrorCode> {
  override readonly name = 'BindingError';
  constructor(code: BindingErrorCode, message: string, options: BindingErrorOptions = {}) {
    super({}, code, message, { ...options, userError: options.userError ?? true });
  }

  /** Plain data for a trip across IPC or postMessage. */
  toJSON(): { code: BindingErrorCode; message: string; hint?: string; userError: boolean } {
    return {
      code: this.code,
      message: this.message,
      userError: this.userError,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }
}

/** Recognises a {@link BindingError} by its marker, so a second copy of the package still counts. */
export function isBindingError(value: unknown): value is BindingError {
  return isPyworkersError(value, 'BindingError');
}
