/** Codes a {@link RouterError} can carry. */
export type RouterErrorCode =
  | 'ERR_ROUTER_CONFIG'
  | 'ERR_ROUTER_LISTEN'
  | 'ERR_ROUTER_BODY_TOO_LARGE'
  | 'ERR_ROUTER_CLOSED'
  | 'ERR_ROUTER_HOST_CRASHED'
  | 'ERR_ROUTER_NO_WORKER'
  | 'ERR_ROUTER_NO_EVENTS';

/** The one error class of `@pyworkers/router`. */
export class RouterError extends Error {
  override readonly name = 'RouterError';
  constructor(
    readonly code: RouterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
