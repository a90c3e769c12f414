// Runs inside the worker thread: turns request messages into JS `Request` objects for the
// Python SDK, and whatever the handler returned into a response message for the host.

import { serialize } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { toErrorData } from '@pyworkers/common';
import type { PyodideAPI } from 'pyodide';
import type { BodyStream } from '../body-stream.js';
import { IsolateError } from '../errors.js';
import type {
  EnvMessage,
  ErrorMessage,
  LogLevel,
  RequestMessage,
  ResponseHeadMessage,
  ResponseMessage,
  WebSocketAcceptMessage,
} from '../internal/protocol.js';
import { WORKER_DIR } from '../mount-paths.js';
import {
  acceptedPair,
  acceptHibernatable,
  adoptAccepted,
  hibernationRef,
  hostPost,
  setWebSocketAttachments,
} from './hibernation.js';
import {
  hostCall,
  hostCallFlat,
  hostCallRpc,
  hostCallRpcFlat,
  hostCallStore,
  hostCallStoreFlat,
  hostCallSync,
  hostCallWait,
  hostCallWaitFlat,
} from './host-channel.js';
import { type PyProxyLike, pythonChunks, type StreamedProxy, settled } from './python-chunks.js';
import { PairedWebSocket, WebSocketPair, WebSocketRequestResponsePair } from './websocket-pair.js';

/** `workers._streams.WebSocketUpgrade` as JS sees it. */
interface UpgradeProxy extends PyProxyLike {
  head(): PyProxyLike;
  socket: unknown;
}

/**
 * `_pyworkers_runtime.handle_eager`: a JS Response or a PyProxy of a result tuple, or (when the
 * handler waits on I/O) a PyProxy of the asyncio Task to await for one. `handle` (a coroutine
 * function: always awaited) fits too.
 */
export type PyHandle = (request: IncomingRequest) => unknown;

/**
 * What {@link runRequest} produced: a message for the host and the buffers to transfer, and
 * for a streamed response (`message` is its head) the body to send after it.
 */
export interface BridgeOutcome {
  message: ResponseMessage | ResponseHeadMessage | WebSocketAcceptMessage | ErrorMessage;
  transfer: ArrayBuffer[];
  stream?: BodyStream;
  /** A 101 answer: the `client` end of the worker's WebSocketPair, to connect to the host. */
  webSocket?: PairedWebSocket;
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
export function installHost(body: {
  /** A request-body chunk Python has copied: its buffer may go back to the host (BodyStreams.recycle). */
  recycle(chunk: Uint8Array): void;
}): void {
  loadFetchClasses();
  const port = parentPort;
  // Cloudflare's `from js import WebSocketPair`.
  (globalThis as { WebSocketPair?: unknown }).WebSocketPair = WebSocketPair;
  (globalThis as { WebSocketRequestResponsePair?: unknown }).WebSocketRequestResponsePair =
    WebSocketRequestResponsePair;
  (globalThis as { pyworkersHost?: unknown }).pyworkersHost = {
    log(level: LogLevel, logger: string, line: string): void {
      port?.postMessage({ type: 'log', stream: 'logging', level, logger, line });
    },
    // Binding proxies (workers/_bindings.py): the worker's only way to the host's bindings.
    call: (binding: string, method: string, args: unknown[]) => hostCall(binding, method, args),
    callFlat: hostCallFlat,
    // RPC (Durable Object stubs, service bindings): the answer, or a promise of it
    // (host-channel.ts hostCallWait).
    callWait: (binding: string, method: string, args: unknown[]) =>
      hostCallWait(binding, method, args),
    callWaitFlat: hostCallWaitFlat,
    // The same for RPC, whose plain-data answers come as JSON text (host-channel.ts hostCallRpc).
    callRpc: (binding: string, method: string, args: unknown[]) =>
      hostCallRpc(binding, method, args),
    callRpcFlat: hostCallRpcFlat,
    callSync: hostCallSync,
    // Store calls (KV, D1, Durable Object storage): answered before the coroutine resumes.
    callStore: hostCallStore,
    callStoreFlat: hostCallStoreFlat,
    // `request.stream()` (workers/_request.py), after it made its bytes of a chunk it read
    // from `stream`. Only chunks of a body stream made here and read by that one reader: a
    // tee (Request.clone()) shares chunk objects between its branches.
    recycle: (stream: unknown, chunk: unknown): void => {
      if (ownStreams.has(stream as ReadableStream) && chunk instanceof Uint8Array) {
        body.recycle(chunk);
      }
    },
    // Calls nobody awaits, and Durable Object WebSockets (hibernation.ts).
    post: hostPost,
    wsAccept: acceptHibernatable,
    wsAdopt: adoptAccepted,
    wsAccepted: acceptedPair,
    wsRef: hibernationRef,
    wsAttachments: setWebSocketAttachments,
    // Bytes `value` takes structured-clone serialized (the attachment limit is on that size).
    serializedSize: (value: unknown): number => serialize(value).byteLength,
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

/**
 * A pull-only ReadableStream over a body stream: nothing is read from the host before the
 * handler reads (highWaterMark 0), so a handler that reads slowly slows the client down.
 */
export function toReadableStream(body: BodyStream): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        it ??= body[Symbol.asyncIterator]();
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel() {
        await (it ?? body[Symbol.asyncIterator]()).return?.();
      },
    },
    { highWaterMark: 0 },
  );
  ownStreams.add(stream);
  return stream;
}

/** Request-body streams made by {@link toReadableStream}, whose chunks may be recycled. */
const ownStreams = new WeakSet<ReadableStream>();

/**
 * A request as Python's `workers.Request` receives it: its method and URL as plain values, and
 * the JS `Request` (`request.js_object`, headers, body) built on first use. Building undici's
 * `Request` was 4.6-7.3 us of a hello request's 29-40 us in the isolate
 * (`bench/request-path.bench.ts`), for a handler that never looked at it.
 */
export class IncomingRequest {
  /** Upper-case, as the JS `Request` has it. */
  readonly method: string;
  /** Parsed and serialized as the JS `Request` has it (a bad URL throws here, as before). */
  readonly url: string;
  private js: Request | undefined;

  constructor(
    private readonly msg: RequestMessage,
    private readonly stream?: ReadableStream<Uint8Array>,
  ) {
    this.method = msg.method.toUpperCase();
    this.url = new URL(msg.url).href;
  }

  /** The JS `Request`, built once. */
  request(): Request {
    this.js ??= toJsRequest(this.msg, this.stream);
    return this.js;
  }
}

/** The JS `Request` Python sees as `request.js_object`; `stream` is a streamed body. */
export function toJsRequest(msg: RequestMessage, stream?: ReadableStream<Uint8Array>): Request {
  const method = msg.method.toUpperCase();
  if (stream && !NO_BODY.has(method)) {
    const headers = joinCookieHeaders(msg.headers);
    return new Request(msg.url, { method, headers, body: stream, duplex: 'half' });
  }
  const withBody = !NO_BODY.has(method) && msg.body.byteLength > 0;
  return new Request(msg.url, {
    method,
    headers: joinCookieHeaders(msg.headers),
    ...(withBody ? { body: msg.body } : {}),
  });
}

/**
 * Hands the env to Python once per isolate (later requests reuse the Python object). In an
 * isolate restored fresh it then runs the SDK's request path once on a synthetic request,
 * without the worker's code: the first request otherwise pays 10-45 ms of first-time work.
 * Not after a swap (`warm: false`): the parked boot ran that path already, and the env comes
 * just before the request a cold start waits for. There, a second warm request cost the first
 * request 1.3-2.1 ms and saved the second 0.4-0.9 ms (A/B in one sitting, load 2).
 */
export async function setEnv(py: PyodideAPI, msg: EnvMessage, warm = true): Promise<void> {
  const runtime = py.pyimport('_pyworkers_runtime') as unknown as {
    set_env(values: Record<string, string>, bindings: [string, string][]): void;
    destroy(): void;
  };
  try {
    runtime.set_env(msg.env, msg.bindings ?? []);
  } finally {
    runtime.destroy();
  }
  if (warm) await warmRequest(py);
}

/**
 * One request through the SDK's warm-up handler (the request path's first-time work, JS and
 * Python): before parking, for the JS realm a swap keeps, and after the env is set.
 */
export async function warmRequest(py: PyodideAPI): Promise<void> {
  const runtime = py.pyimport('_pyworkers_runtime') as unknown as {
    warm_up_eager: PyHandle & { destroy(): void };
    destroy(): void;
  };
  const warmUp = runtime.warm_up_eager;
  try {
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

async function* rest(
  first: Uint8Array,
  pending: Promise<{ done: boolean; value?: Uint8Array }>,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): BodyStream {
  let done = false;
  try {
    yield first;
    let r = await pending;
    while (!r.done) {
      if (r.value) yield r.value;
      r = await reader.read();
    }
    done = true;
  } finally {
    // Leaving early (the client went away) cancels the body's source.
    if (!done) void reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * The body of a JS Response: whole when it is complete after its first read (a buffer, a
 * string), else a stream whose first chunk is there as soon as it exists.
 */
export async function jsResponseBody(
  res: Response,
): Promise<{ body: Uint8Array } | { stream: BodyStream }> {
  if (!res.body) return { body: new Uint8Array(0) };
  const reader = res.body.getReader();
  const first = await reader.read();
  if (first.done) return { body: new Uint8Array(0) };
  const next = reader.read();
  // A buffered body reports its end at once; a macrotask is the most we wait to find out.
  const settled = await Promise.race([
    next.then((r) => (r.done ? 'done' : 'more')),
    new Promise<'later'>((resolve) => setImmediate(() => resolve('later'))),
  ]);
  if (settled === 'done') {
    reader.releaseLock();
    return { body: first.value };
  }
  return { stream: rest(first.value, next, reader) };
}

/** A JS Response: a complete body goes inline; any other body streams. */
async function fromJsResponse(id: number, res: Response): Promise<BridgeOutcome> {
  // The Headers iterator yields each set-cookie separately and joins other repeats.
  const headers = [...res.headers] as [string, string][];
  const got = await jsResponseBody(res);
  if ('stream' in got)
    return {
      message: { type: 'response-head', id, status: res.status, headers },
      transfer: [],
      stream: got.stream,
    };
  const { body } = got;
  const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  return {
    message: { type: 'response', id, status: res.status, headers, body },
    transfer: owns && body.buffer instanceof ArrayBuffer ? [body.buffer] : [],
  };
}

/** Runs one request through Python's `handle` and builds the message for the host. */
export async function runRequest(
  py: PyodideAPI,
  handle: PyHandle,
  msg: RequestMessage,
  body?: ReadableStream<Uint8Array>,
): Promise<BridgeOutcome> {
  const result = await settled(handle(new IncomingRequest(msg, body)));
  if (result instanceof Response) return fromJsResponse(msg.id, result);
  if (!(result instanceof py.ffi.PyProxy)) {
    throw new TypeError(`the Python runtime returned ${typeof result} for a request`);
  }
  const proxy = result as unknown as PyProxyLike;
  // Read once: each read of a PyProxy's `type` asks Python.
  const type = proxy.type;
  if (type.endsWith('WebSocketUpgrade')) {
    const upgrade = proxy as UpgradeProxy;
    const head = upgrade.head();
    const socket = upgrade.socket;
    let headers: [string, string][];
    try {
      headers = head.toJs({ create_pyproxies: false }) as [string, string][];
    } finally {
      head.destroy();
      upgrade.destroy();
    }
    if (typeof socket === 'string') {
      // A Durable Object's hibernatable WebSocket (the ref its stub.fetch answer carried).
      return { message: { type: 'ws-accept', id: msg.id, headers, attach: socket }, transfer: [] };
    }
    if (!(socket instanceof PairedWebSocket)) {
      throw new TypeError(
        'Response(status=101, web_socket=...) needs the client end of a WebSocketPair',
      );
    }
    return {
      message: { type: 'ws-accept', id: msg.id, headers },
      transfer: [],
      webSocket: socket,
    };
  }
  if (type.endsWith('StreamedResponse')) {
    const streamed = proxy as StreamedProxy;
    const head = streamed.head();
    let status: number;
    let headers: [string, string][];
    try {
      [status, headers] = head.toJs({ create_pyproxies: false }) as [number, [string, string][]];
    } finally {
      head.destroy();
    }
    return {
      message: { type: 'response-head', id: msg.id, status, headers },
      transfer: [],
      stream: pythonChunks(py, streamed),
    };
  }
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
  const where = workerFrame(traceback);
  const error = new IsolateError('ERR_ISOLATE_HANDLER', message, {
    userError: true,
    ...(where ? { where } : {}),
  });
  return {
    message: { type: 'error', id: msg.id, error: toErrorData(error), traceback },
    transfer: [],
  };
}

const FRAME = /^\s*File "([^"]+)", line (\d+)/gm;

/** The innermost frame of the worker's own code in a traceback, as `entry.py:12`. */
export function workerFrame(traceback: string | undefined): string | undefined {
  let where: string | undefined;
  for (const m of (traceback ?? '').matchAll(FRAME)) {
    if (m[1]!.startsWith(`${WORKER_DIR}/`)) where = `${m[1]!.slice(WORKER_DIR.length + 1)}:${m[2]}`;
  }
  return where;
}
