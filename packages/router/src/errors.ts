import {
  type ErrorCodeTable,
  isPyworkersError,
  PyworkersError,
  type PyworkersErrorOptions,
} from '@pyworkers/common';

/** Codes a {@link RouterError} can carry. */
export type RouterErrorCode =
  | 'ERR_ROUTER_CONFIG'
  | 'ERR_ROUTER_LISTEN'
  | 'ERR_ROUTER_BODY_TOO_LARGE'
  | 'ERR_ROUTER_REQUEST_TIMEOUT'
  | 'ERR_ROUTER_CLOSED'
  | 'ERR_ROUTER_HOST_CRASHED'
  | 'ERR_ROUTER_NO_WORKER'
  | 'ERR_ROUTER_NO_EVENTS'
  | 'ERR_SERVICE_NOT_SERVED'
  | 'ERR_SERVICE_STREAM'
  | 'ERR_SERVICE_STREAM_GONE'
  | 'ERR_SERVICE_STREAMS_FULL'
  | 'ERR_SERVICE_SOCKET_GONE';

const CODES: ErrorCodeTable<RouterErrorCode> = {
  ERR_ROUTER_CONFIG: { user: true, hint: 'fix the router option named' },
  ERR_ROUTER_LISTEN: {
    user: true,
    hint: 'pick another port (0 picks any free one), or stop what is using it',
  },
  ERR_ROUTER_BODY_TOO_LARGE: { user: true, hint: 'send a smaller body, or raise the body limit' },
  ERR_ROUTER_REQUEST_TIMEOUT: {
    user: true,
    hint: 'send the body without pausing, or raise requestTimeoutMs',
  },
  ERR_ROUTER_NO_WORKER: { user: true, hint: 'name one of the workers the router serves' },
  ERR_ROUTER_NO_EVENTS: {
    user: false,
    hint: 'give the router a launcher whose isolates implement dispatch()',
  },
  ERR_SERVICE_NOT_SERVED: {
    user: true,
    hint: "serve the target worker in the same `pyworkers serve`/`dev`, or fix the binding's service name",
  },
  ERR_SERVICE_STREAM: {
    user: true,
    hint: "the target worker's body failed while it was read: its log says why",
  },
  ERR_SERVICE_STREAM_GONE: {
    user: true,
    hint: 'read the body of a service fetch while the request that made it runs, within 30 s of the last read',
  },
  ERR_SERVICE_STREAMS_FULL: {
    user: true,
    hint: 'read the bodies of service fetches (or let their requests end) before making more',
  },
  ERR_SERVICE_SOCKET_GONE: {
    user: true,
    hint: "return the 101 response of a service binding's fetch from the fetch handler that made it, once, within 30 s",
  },
  ERR_ROUTER_CLOSED: { user: false },
  ERR_ROUTER_HOST_CRASHED: { user: false },
};

/** The one error class of `@pyworkers/router`. */
export class RouterError extends PyworkersError<RouterErrorCode> {
  override readonly name = 'RouterError';
  constructor(code: RouterErrorCode, message: string, options?: PyworkersErrorOptions) {
    super(CODES, code, message, options);
  }
}

/** Whether `err` is a {@link RouterError}, from any copy of this package or across IPC. */
export function isRouterError(err: unknown): err is RouterError {
  return isPyworkersError(err, 'RouterError');
}
