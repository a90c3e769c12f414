// Runs inside the worker thread: turns request messages into JS `Request` objects for the
// Python SDK, and whatever the handler returned into a response message for the host.
import { parentPort } from 'node:worker_threads';
import type { PyodideAPI } from 'pyodide';
import type {
  EnvMessage,
  LogLevel,
  RequestErrorMessage,
  RequestMessage,
  ResponseMessage,
} from '../internal/protocol.js';

interface PyProxyLike {
  toJs(opts?: object): unknown;
  destroy(): void;
}

/** `_pyworkers_runtime.handle`: resolves to a JS Response or a PyProxy of a result tuple. */
export type PyHandle = (request: Request) => Promise<unknown>;

/** What {@link runRequest} produced: a message for the host and the buffers to transfer. */
export interface BridgeOutcome {
  message: ResponseMessage | RequestErrorMessage;
  transfer: ArrayBuffer[];
}

/**
 * The object Python's `logging` handler reaches as `js.pyworkersHost`. A global rather than a
 * registered module so that no JS object is held on the Python side across a snapshot.
 */
export function installHost(): void {
  const port = parentPort;
  (globalThis as { pyworkersHost?: unknown }).pyworkersHost = {
    log(level: LogLevel, logger: string, line: string): void {
      port?.postMessage({ type: 'log', stream: 'logging', level, logger, line });
    },
  };
}

const NO_BODY = new Set(['GET', 'HEAD']);

/** The JS `Request` Python sees as `request.js_object`. */
export function toJsRequest(msg: RequestMessage): Request {
  const method = msg.method.toUpperCase();
  const withBody = !NO_BODY.has(method) && msg.body.byteLength > 0;
  return new Request(msg.url, {
    method,
    headers: msg.headers,
    ...(withBody ? { body: msg.body } : {}),
  });
}

/** Hands the env to Python once per isolate; later requests reuse the Python object. */
export function setEnv(py: PyodideAPI, msg: EnvMessage): void {
  const runtime = py.pyimport('_pyworkers_runtime') as unknown as {
    set_env(values: Record<string, string>): void;
    destroy(): void;
  };
  try {
    runtime.set_env(msg.env);
  } finally {
    runtime.destroy();
  }
}

async function fromJsResponse(id: number, res: Response): Promise<BridgeOutcome> {
  // The Headers iterator yields each set-cookie separately and joins other repeats.
  const headers = [...res.headers] as [string, string][];
  const body = new Uint8Array(await res.arrayBuffer());
  return {
    message: { type: 'response', id, status: res.status, headers, body },
    transfer: [body.buffer],
  };
}

/** Runs one request through Python's `handle` and builds the message for the host. */
export async function runRequest(
  py: PyodideAPI,
  handle: PyHandle,
  msg: RequestMessage,
): Promise<BridgeOutcome> {
  const result = await handle(toJsRequest(msg));
  if (result instanceof Response) return fromJsResponse(msg.id, result);
  if (!(result instanceof py.ffi.PyProxy)) {
    throw new TypeError(`the Python runtime returned ${typeof result} for a request`);
  }
  const proxy = result as unknown as PyProxyLike;
  let tuple: unknown[];
  try {
    tuple = proxy.toJs({ create_pyproxies: false }) as unknown[];
  } finally {
    proxy.destroy();
  }
  if (tuple[0] === 'ok') {
    const [, status, headers, body] = tuple as [string, number, [string, string][], Uint8Array];
    return {
      message: { type: 'response', id: msg.id, status, headers, body },
      transfer: [body.buffer as ArrayBuffer],
    };
  }
  const [, message, traceback] = tuple as [string, string, string];
  return {
    message: { type: 'error', id: msg.id, message, traceback, userError: true },
    transfer: [],
  };
}
