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
const pending = new Map<number, (reply: HostReply) => void>();
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

/** Sends a host call; resolves (never rejects) with the host's answer. */
export function hostCall(binding: string, method: string, args: unknown[]): Promise<HostReply> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    try {
      post({ type: 'host-call', id, binding, method, args: plain(args) as unknown[] });
    } catch (err) {
      pending.delete(id);
      resolve({
        ok: false,
        error: {
          code: 'ERR_HOST_CALL_ARGS',
          message: `arguments of ${binding}.${method} cannot be sent to the host: ${(err as Error).message}`,
        },
      });
    }
  });
}

/** Routes an answer from the parent to the call waiting for it. */
export function onHostResult(msg: HostResultMessage): void {
  const resolve = pending.get(msg.id);
  if (!resolve) return;
  pending.delete(msg.id);
  resolve(toReply(msg));
}

/**
 * The blocking variant (synchronous outbound HTTP and the like): the thread waits in
 * `Atomics.wait` until the parent answered on a dedicated port, then takes the answer with
 * `receiveMessageOnPort`, so nothing else the thread was sent is consumed out of order.
 */
export function hostCallSync(
  binding: string,
  method: string,
  args: unknown[],
  timeoutMs = 30_000,
): HostReply {
  if (!syncPort || !syncFlag) {
    const channel = new MessageChannel();
    post({ type: 'host-port', port: channel.port2 }, [channel.port2]);
    syncPort = channel.port1;
    syncFlag = new Int32Array(new SharedArrayBuffer(4));
  }
  const id = nextId++;
  Atomics.store(syncFlag, 0, 0);
  try {
    post({
      type: 'host-call',
      id,
      binding,
      method,
      args: plain(args) as unknown[],
      sync: syncFlag,
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
  const waited = Atomics.wait(syncFlag, 0, 0, timeoutMs);
  const got = receiveMessageOnPort(syncPort);
  if (waited === 'timed-out' || !got) {
    // A late answer must not be taken for the next call's: start over with a new port and flag.
    syncPort.close();
    syncPort = undefined;
    syncFlag = undefined;
    return {
      ok: false,
      error: {
        code: 'ERR_HOST_CALL_TIMEOUT',
        message: `${binding}.${method} got no answer from the host within ${timeoutMs} ms`,
      },
    };
  }
  return toReply(got.message as HostResultMessage);
}
