// Worker side of the host-call channel: what Python's binding proxies reach through
// `js.pyworkersHost.call` (awaitable) and `js.pyworkersHost.callSync` (blocks the thread).
import {
  MessageChannel,
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
} from 'node:worker_threads';
import type { HostCallError } from '../host-call.js';
import type { FromWorker, HostResultMessage } from '../internal/protocol.js';

/** What Python gets back: it checks `ok` and raises `BindingError` from `error`. */
export type HostReply = { ok: true; value: unknown } | { ok: false; error: HostCallError };

let nextId = 1;
// Calls waiting for their answer (a promise's), by id: given the answer as it came.
const pending = new Map<number, (msg: HostResultMessage) => void>();
let syncPort: MessagePort | undefined;
let syncFlag: Int32Array | undefined;

function post(msg: FromWorker, transfer: MessagePort[] = []): void {
  parentPort?.postMessage(msg, transfer);
}

/**
 * Python's `None` becomes JS `undefined` in `to_js`; a host sees `null` instead (arrays), and
 * object keys holding `undefined` are dropped, so an omitted option stays omitted.
 */
function plain(v: unknown): unknown {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
    return out;
  }
  return v;
}

function toReply(msg: HostResultMessage): HostReply {
  return msg.ok ? { ok: true, value: msg.value } : { ok: false, error: msg.error };
}

/** What a refused call rejects with; Python raises it as `BindingError` (`code`, `message`). */
function refusal(error: HostCallError): Error {
  return Object.assign(new Error(error.message), { name: 'HostCallError', code: error.code });
}

/**
 * Sends a host call; resolves with the host's value, rejects with a `HostCallError` carrying
 * the host's `code`. `flat`: the arguments are primitives (no walk needed).
 */
export function hostCall(
  binding: string,
  method: string,
  args: unknown[],
  flat = false,
): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, (msg) => (msg.ok ? resolve(msg.value) : reject(refusal(msg.error))));
    try {
      const sent = flat ? args : (plain(args) as unknown[]);
      post({ type: 'host-call', id, binding, method, args: sent });
    } catch (err) {
      pending.delete(id);
      reject(
        refusal({
          code: 'ERR_HOST_CALL_ARGS',
          message: `arguments of ${binding}.${method} cannot be sent to the host: ${(err as Error).message}`,
        }),
      );
    }
  });
}

/** {@link hostCall} with the arguments spread (Python passes primitives without converting them). */
export function hostCallFlat(
  binding: string,
  method: string,
  ...args: unknown[]
): Promise<unknown> {
  return hostCall(binding, method, args, true);
}

/** Routes an answer from the parent to the call waiting for it. */
export function onHostResult(msg: HostResultMessage): void {
  const resolve = pending.get(msg.id);
  if (!resolve) return;
  pending.delete(msg.id);
  resolve(msg);
}

/**
 * The port and flag blocking calls are answered on (made on the first blocking call). An
 * answer this thread stopped waiting for ({@link hostCallWait}) arrives there too, later: the
 * port's listener hands it to its promise.
 */
function blockingChannel(): { port: MessagePort; flag: Int32Array } {
  if (!syncPort || !syncFlag) {
    const channel = new MessageChannel();
    post({ type: 'host-port', port: channel.port2 }, [channel.port2]);
    syncPort = channel.port1;
    syncPort.on('message', (msg: HostResultMessage) => onHostResult(msg));
    syncPort.unref();
    syncFlag = new Int32Array(new SharedArrayBuffer(4));
  }
  return { port: syncPort, flag: syncFlag };
}

/**
 * Sends a call and blocks the thread in `Atomics.wait` until the parent answered on the
 * dedicated port, then takes the answer with `receiveMessageOnPort`, so nothing else the
 * thread was sent is consumed out of order ({@link awaitAnswer}).
 */
function blockingCall(
  binding: string,
  method: string,
  args: unknown[],
  timeoutMs: number,
  store?: { argsJson?: string },
): HostReply | HostResultMessage {
  const { port, flag } = blockingChannel();
  const id = nextId++;
  try {
    post({
      type: 'host-call',
      id,
      binding,
      method,
      args,
      sync: flag,
      ...(store ? { store: true, ...store } : {}),
    });
  } catch (err) {
    return {
      ok: false,
      error: {
        code: 'ERR_HOST_CALL_ARGS',
        message: `arguments of ${binding}.${method} cannot be sent to the host: ${(err as Error).message}`,
      },
    };
  }
  const reply = awaitAnswer(port, flag, id, timeoutMs, SPIN_MS);
  if (reply) return store ? reply : toReply(reply);
  return {
    ok: false,
    error: {
      code: 'ERR_HOST_CALL_TIMEOUT',
      message: `${binding}.${method} got no answer from the host within ${timeoutMs} ms`,
    },
  };
}

/**
 * Waits up to `waitMs` for the answer to call `id` on the blocking port; `undefined` when it
 * did not come in time. The parent posts the answer, then sets the flag and notifies: its
 * notify for one call can land while the thread already waits for the next (seen under load
 * with thousands of store calls), so a wake-up is only a hint: the thread takes the answer
 * whose id is its call's, hands other answers (of calls that stopped waiting,
 * {@link hostCallWait}) to their promises, drops late ones, and waits again otherwise.
 */
function awaitAnswer(
  port: MessagePort,
  flag: Int32Array,
  id: number,
  waitMs: number,
  spinMs: number,
): HostResultMessage | undefined {
  const deadline = performance.now() + waitMs;
  for (;;) {
    // Cleared before looking: an answer posted after this sets it again, so the wait below
    // returns at once instead of missing it.
    Atomics.store(flag, 0, 0);
    const got = receiveMessageOnPort(port);
    if (got) {
      const reply = got.message as HostResultMessage;
      if (reply.id === id) return reply;
      onHostResult(reply);
      continue;
    }
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    // Spin a little before sleeping: the host answers a store call in ~0.02-0.03 ms, and on a
    // VM with idle vCPUs a sleeping thread costs ~0.05 ms more to wake (measured: round trip
    // 0.09 ms sleeping vs 0.03 ms spinning on an idle 2-vCPU box). Bounded, so a slow answer
    // (sync HTTP, a long query) costs at most SPIN_MS of CPU before the thread sleeps.
    if (spinMs > 0) {
      const spinUntil = performance.now() + Math.min(spinMs, left);
      while (Atomics.load(flag, 0) === 0 && performance.now() < spinUntil) {
        // busy-wait
      }
    }
    if (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, left);
  }
}

/**
 * How long an RPC (a Durable Object stub's or a service binding's) blocks the thread for its
 * answer before it lets the event loop run (and awaits it): most RPCs are answered within it
 * (~0.3-1 ms), and then the caller's coroutine resumes without a JS promise and two turns of
 * Pyodide's event loop (~0.1-0.25 ms of the round trip). Bounded, so an object that calls back into this isolate
 * (A -> B -> A), or this isolate's other requests, wait at most this long.
 */
const WAIT_MS = 2;

/**
 * A host call that may be answered at once (an RPC): waits up to
 * {@link WAIT_MS} for the answer and returns its value, or else a promise of it. A refusal
 * answered in time throws a `HostCallError`.
 */
export function hostCallWait(
  binding: string,
  method: string,
  args: unknown[],
  flat = false,
  rpc = false,
): unknown {
  const { port, flag } = blockingChannel();
  const id = nextId++;
  try {
    const sent = flat ? args : (plain(args) as unknown[]);
    post({
      type: 'host-call',
      id,
      binding,
      method,
      args: sent,
      sync: flag,
      ...(rpc ? { rpc: true as const } : {}),
    });
  } catch (err) {
    throw refusal({
      code: 'ERR_HOST_CALL_ARGS',
      message: `arguments of ${binding}.${method} cannot be sent to the host: ${(err as Error).message}`,
    });
  }
  const reply = awaitAnswer(port, flag, id, WAIT_MS, 0);
  const value = rpc ? rpcValue : (msg: HostResultMessage & { ok: true }) => msg.value;
  if (reply) {
    if (!reply.ok) throw refusal(reply.error);
    return value(reply);
  }
  // Not answered yet: the answer comes to the port's listener (blockingChannel).
  return new Promise((resolve, reject) => {
    pending.set(id, (msg) => (msg.ok ? resolve(value(msg)) : reject(refusal(msg.error))));
  });
}

/** An RPC's answer for Python: JSON text when the host sent it so (a string is sent as JSON too). */
function rpcValue(msg: HostResultMessage & { ok: true }): unknown {
  if (msg.json !== undefined) return msg.json;
  return typeof msg.value === 'string' ? JSON.stringify(msg.value) : msg.value;
}

/**
 * An RPC (a Durable Object stub's or a service binding's call): {@link hostCallWait}, with a
 * plain-data answer as JSON text (Python decodes it in C: no JS object walked through proxies),
 * else the answer as a JS value; or a promise of either.
 */
export function hostCallRpc(binding: string, method: string, args: unknown[]): unknown {
  return hostCallWait(binding, method, args, false, true);
}

/** {@link hostCallRpc} with the arguments spread (primitives cross from Python unconverted). */
export function hostCallRpcFlat(binding: string, method: string, ...args: unknown[]): unknown {
  return hostCallWait(binding, method, args, true, true);
}

/** {@link hostCallWait} with the arguments spread (primitives cross from Python unconverted). */
export function hostCallWaitFlat(binding: string, method: string, ...args: unknown[]): unknown {
  return hostCallWait(binding, method, args, true);
}

/** How long a blocking call polls for its answer before it sleeps in `Atomics.wait`. */
const SPIN_MS = 0.2;

/**
 * The blocking variant (synchronous outbound HTTP and the like): the thread waits until the
 * parent answered (see {@link blockingCall}).
 */
export function hostCallSync(
  binding: string,
  method: string,
  args: unknown[],
  timeoutMs = 30_000,
): HostReply {
  return blockingCall(binding, method, plain(args) as unknown[], timeoutMs) as HostReply;
}

/**
 * A store call (KV, D1, Durable Object storage) that blocks the isolate thread until the host
 * answered: no JS promise and no turn of the event loop, so Python's coroutine completes
 * without suspending. `args` is the arguments as JSON text (Python's `json.dumps`, sent to the
 * host as it is) or an array. The answer comes back in the form Python reads fastest:
 * `'s' + text` for a string, `'j' + JSON` for JSON-safe data (the host encodes it),
 * `undefined` for null, else the value itself (bytes, dates). A refusal throws a
 * `HostCallError` (Python raises `BindingError`).
 */
export function hostCallStore(
  binding: string,
  method: string,
  args: string | unknown[],
  timeoutMs = 30_000,
): unknown {
  const reply =
    typeof args === 'string'
      ? blockingCall(binding, method, [], timeoutMs, { argsJson: args })
      : blockingCall(binding, method, plain(args) as unknown[], timeoutMs, {});
  if (!reply.ok) throw refusal(reply.error);
  if ('json' in reply && reply.json !== undefined) return `j${reply.json}`;
  const v = reply.value;
  if (typeof v === 'string') return `s${v}`;
  return v === null || v === undefined ? undefined : v;
}

/** {@link hostCallStore} with the arguments spread: primitives cross from Python unconverted. */
export function hostCallStoreFlat(binding: string, method: string, ...args: unknown[]): unknown {
  return hostCallStore(binding, method, args);
}
