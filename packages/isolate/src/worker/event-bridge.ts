// Runs inside the worker thread: hands `scheduled` and `queue` events to Python's
// `_pyworkers_runtime.dispatch` and turns what it returns into a message for the host.
import type { PyodideAPI } from 'pyodide';
import { IsolateError } from '../errors.js';
import type { WorkerEventResult } from '../events.js';
import { jsonSafe } from '../internal/host-calls.js';
import type { EventMessage, EventResultMessage } from '../internal/protocol.js';

interface PyProxyLike {
  toJs(opts?: object): unknown;
  destroy(): void;
}

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

/** Runs one event through Python and builds the message for the host. */
export async function runEvent(
  py: PyodideAPI,
  dispatch: PyDispatch,
  msg: EventMessage,
): Promise<EventResultMessage> {
  // Plain data goes as JSON text (json.loads in C: no walk of a JS object from Python, ~0.1 ms
  // of an RPC); anything else as a JS object, which Python converts (to_py).
  const event = jsonSafe(msg.event) ? JSON.stringify(msg.event) : msg.event;
  const result = await settled(dispatch(event));
  if (typeof result === 'string') {
    return toMessage(msg, JSON.parse(result) as unknown[]);
  }
  if (!(result instanceof py.ffi.PyProxy)) {
    throw new TypeError(`the Python runtime returned ${typeof result} for an event`);
  }
  const proxy = result as unknown as PyProxyLike;
  let tuple: unknown[];
  try {
    tuple = proxy.toJs({
      create_pyproxies: false,
      dict_converter: Object.fromEntries,
    }) as unknown[];
  } finally {
    proxy.destroy();
  }
  return toMessage(msg, tuple);
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
