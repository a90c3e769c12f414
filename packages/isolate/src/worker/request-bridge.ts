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
import { hostCall, hostCallSync } from './host-channel.js';

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
 * Node loads `Request`, `Response` and `Headers` (undici) lazily on first use: 80-130 ms in a
 * fresh worker thread on a loaded 2-core box, which would land on the first request after a
 * cold start. Touching them while the isolate boots (or parks) moves that off the request path.
 */
function loadFetchClasses(): void {
  const req = new Request('http://127.0.0.1/', {
    method: 'POST',
    headers: [['x-warm', 'up']],
    body: new Uint8Array(1),
  });
  void req.arrayBuffer();
  const res = new Response('warm', { headers: [['x-warm', 'up']] });
  void [...res.headers];
  void res.arrayBuffer();
}

/**
 * Prepares the worker thread for requests: loads the fetch classes (see above) and installs
 * the object Python's `logging` handler and binding proxies reach as `js.pyworkersHost`, a global rather than a
 * registered module so that no JS object is held on the Python side across a snapshot.
 */
export function installHost(): void {
  loadFetchClasses();
  const port = parentPort;
  (globalThis as { pyworkersHost?: unknown }).pyworkersHost = {
    log(level: LogLevel, logger: string, line: string): void {
      port?.postMessage({ type: 'log', stream: 'logging', level, logger, line });
    },
    // Binding proxies (workers/_bindings.py): the worker's only way to the host's bindings.
    call: hostCall,
    callSync: hostCallSync,
  };
}

const NO_BODY = new Set(['GET', 'HEAD']);

/**
 * Repeated `Cookie` headers as one, joined with `; ` (RFC 9113 8.2.3, what browsers send): a
 * JS `Headers` would join them with `, `, which cookie parsers read as part of a value.
 */
export function joinCookieHeaders(headers: [string, string][]): [string, string][] {
  let first = -1;
  let repeated = false;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]![0].toLowerCase() !== 'cookie') continue;
    if (first < 0) first = i;
    else repeated = true;
  }
  if (!repeated) return headers;
  const crumbs = headers.filter(([k]) => k.toLowerCase() === 'cookie').map(([, v]) => v);
  const out = headers.filter(([k], i) => i === first || k.toLowerCase() !== 'cookie');
  out[out.findIndex(([k]) => k.toLowerCase() === 'cookie')] = ['cookie', crumbs.join('; ')];
  return out;
}

/** The JS `Request` Python sees as `request.js_object`. */
export function toJsRequest(msg: RequestMessage): Request {
  const method = msg.method.toUpperCase();
  const withBody = !NO_BODY.has(method) && msg.body.byteLength > 0;
  return new Request(msg.url, {
    method,
    headers: joinCookieHeaders(msg.headers),
    ...(withBody ? { body: msg.body } : {}),
  });
}

/**
 * Hands the env to Python once per isolate (later requests reuse the Python object), then
 * runs the SDK's request path once on a synthetic request, without the worker's code: in a
 * fresh or swapped-in heap the first request otherwise pays 10-45 ms of first-time work.
 */
export async function setEnv(py: PyodideAPI, msg: EnvMessage): Promise<void> {
  const runtime = py.pyimport('_pyworkers_runtime') as unknown as {
    set_env(values: Record<string, string>): void;
    warm_up: PyHandle & { destroy(): void };
    destroy(): void;
  };
  const warmUp = runtime.warm_up;
  try {
    runtime.set_env(msg.env);
    await runRequest(py, warmUp, {
      type: 'request',
      id: 0,
      method: 'GET',
      url: 'http://127.0.0.1/',
      headers: [['x-warm', 'up']],
      body: new Uint8Array(),
    });
  } finally {
    warmUp.destroy();
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
