// Runs inside the worker thread: hands `scheduled`, `queue` and `rpc` events to Python's
// `_pyworkers_runtime.dispatch` and turns what it returns into a message for the host (and,
// for a fetch answered with a streamed Response, a body to send after it).
import type { PyodideAPI } from 'pyodide';
import type { BodyStream } from '../body-stream.js';
import { IsolateError } from '../errors.js';
import type { WorkerEventResult } from '../events.js';
import { jsonSafe } from '../internal/host-calls.js';
import type { EventMessage, EventResultMessage } from '../internal/protocol.js';
import { type PyProxyLike, pythonChunks, type StreamedProxy } from './python-chunks.js';
import { jsResponseBody } from './request-bridge.js';

/**
 * `_pyworkers_runtime.dispatch_eager`: a PyProxy of the result tuple, or (when the handler
 * waits on I/O) of the asyncio Task to await for one.
 */
export type PyDispatch = (event: unknown) => unknown;

interface Awaitable extends PromiseLike<unknown> {
  destroy?: () => void;
}

/** What {@link PyDispatch} gave, awaited when it is a Task (whose proxy is freed). */
async function settled(result: unknown): Promise<unknown> {
  const pending = result as Awaitable | undefined;
  if (typeof pending?.then !== 'function') return result;
  try {
    return await pending;
  } finally {
    pending.destroy?.();
  }
}

/** `workers._streamed_result.StreamedEvent` as JS sees it. */
interface StreamedEventProxy extends PyProxyLike {
  result: PyProxyLike;
  /** A `StreamedResponse` (Python chunks) or a JS `Response`. */
  body: unknown;
}

/** What {@link runEvent} produced: the message, and a body to send after it (`streamed`). */
export interface EventOutcome {
  message: EventResultMessage;
  stream?: BodyStream;
}

const toJsData = (proxy: PyProxyLike): unknown[] =>
  proxy.toJs({ create_pyproxies: false, dict_converter: Object.fromEntries }) as unknown[];

/** Runs one event through Python and builds the message for the host. */
export async function runEvent(
  py: PyodideAPI,
  dispatch: PyDispatch,
  msg: EventMessage,
): Promise<EventOutcome> {
  // Plain data goes as JSON text (json.loads in C: no walk of a JS object from Python, ~0.1 ms
  // of an RPC); anything else as a JS object, which Python converts (to_py).
  const event = jsonSafe(msg.event) ? JSON.stringify(msg.event) : msg.event;
  const result = await settled(dispatch(event));
  if (typeof result === 'string') {
    return { message: toMessage(msg, JSON.parse(result) as unknown[]) };
  }
  if (!(result instanceof py.ffi.PyProxy)) {
    throw new TypeError(`the Python runtime returned ${typeof result} for an event`);
  }
  const proxy = result as unknown as PyProxyLike;
  if (proxy.type === 'StreamedEvent') return streamedEvent(py, msg, proxy as StreamedEventProxy);
  let tuple: unknown[];
  try {
    tuple = toJsData(proxy);
  } finally {
    proxy.destroy();
  }
  return { message: toMessage(msg, tuple) };
}

/**
 * An RPC answer that is a Response whose body streams (an object's or entrypoint's fetch):
 * its head as the result, its body after it as `body-chunk` messages of the event's id (or
 * inline in the head when it turned out complete at once).
 */
async function streamedEvent(
  py: PyodideAPI,
  msg: EventMessage,
  proxy: StreamedEventProxy,
): Promise<EventOutcome> {
  let tuple: unknown[];
  let body: unknown;
  try {
    const result = proxy.result;
    try {
      tuple = toJsData(result);
    } finally {
      result.destroy();
    }
    body = proxy.body;
    // A Python body's proxy is borrowed from the event's: its own copy outlives it.
    if (body instanceof py.ffi.PyProxy) body = body.copy();
  } finally {
    proxy.destroy();
  }
  const message = toMessage(msg, tuple);
  const head = (message.result as { value?: { body?: unknown } }).value;
  if (!head) throw new TypeError('a streamed event answer has no Response value');
  if (body instanceof Response) {
    const got = await jsResponseBody(body);
    if (!('stream' in got)) {
      head.body = got.body.byteLength > 0 ? got.body : null;
      return { message };
    }
    return { message: { ...message, streamed: true }, stream: got.stream };
  }
  return {
    message: { ...message, streamed: true },
    stream: pythonChunks(py, body as StreamedProxy),
  };
}

/** The host's message for what Python answered (`[outcome, value, traceback?]`). */
function toMessage(msg: EventMessage, tuple: unknown[]): EventResultMessage {
  if (tuple[0] === 'missing') {
    // The user's fault, with how to fix it: the host reports both.
    const hint = typeof tuple[2] === 'string' ? { hint: tuple[2] } : {};
    throw new IsolateError('ERR_ISOLATE_HANDLER', String(tuple[1]), { userError: true, ...hint });
  }
  const [, value, traceback] = tuple as [string, WorkerEventResult, string | undefined];
  return {
    type: 'event-result',
    id: msg.id,
    result: value,
    ...(traceback ? { traceback } : {}),
  };
}
