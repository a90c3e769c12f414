// Parent side of the host-call channel: runs the owner's handler and answers the worker thread.
import type { MessagePort, Worker } from 'node:worker_threads';
import { type HostCallHandler, hostCallError } from '../host-call.js';
import type { HostCallMessage, HostResultMessage } from './protocol.js';

/** Where answers go: the worker itself, or (blocking calls) the port the worker waits on. */
export interface HostCallTargets {
  worker: Worker;
  syncPort: MessagePort | undefined;
}

/** Arguments a store call sent as JSON text: always a list, as structured-clone ones are. */
function parseArgs(text: string): unknown[] {
  const args = JSON.parse(text) as unknown;
  if (!Array.isArray(args)) throw hostCallArgsError('the arguments are not a list');
  return args;
}

function hostCallArgsError(why: string): Error {
  return Object.assign(new Error(`host call refused: ${why}`), { code: 'ERR_HOST_CALL_ARGS' });
}

/**
 * True for data JSON carries without loss: strings, finite numbers (not -0), booleans, null,
 * arrays and plain objects of them. Not: Uint8Array, Date, bigint, undefined, NaN.
 * `exact`: integers only within 2**53 too (JSON gives Python an `int` where Pyodide's
 * conversion of a larger one gives a `float`).
 */
export function jsonSafe(v: unknown, depth = 0, exact = false): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return (
        Number.isFinite(v) &&
        !Object.is(v, -0) &&
        (!exact || !Number.isInteger(v) || Number.isSafeInteger(v))
      );
    case 'object': {
      if (depth > 64) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          // A hole reads as undefined, which JSON writes as null.
          if (!(i in v) || !jsonSafe(v[i], depth + 1, exact)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k of Object.keys(v)) {
        if (!jsonSafe((v as Record<string, unknown>)[k], depth + 1, exact)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Answers one host call; never throws (a failed call is an answer with `ok: false`). */
export async function answerHostCall(
  handler: HostCallHandler | undefined,
  msg: HostCallMessage,
  targets: HostCallTargets,
  workerName: string,
): Promise<void> {
  let reply: HostResultMessage;
  if (!handler) {
    reply = {
      type: 'host-result',
      id: msg.id,
      ok: false,
      error: {
        code: 'ERR_BINDING_UNAVAILABLE',
        message: `${workerName} has no host bindings wired (the isolate was started without hostCalls)`,
      },
    };
  } else {
    try {
      const { binding, method } = msg;
      const args = msg.argsJson === undefined ? msg.args : parseArgs(msg.argsJson);
      const value = await handler({ binding, method, args });
      reply =
        (msg.store && typeof value !== 'string' && value != null && jsonSafe(value)) ||
        (msg.rpc && typeof value === 'object' && value !== null && jsonSafe(value, 0, true))
          ? { type: 'host-result', id: msg.id, ok: true, value: null, json: JSON.stringify(value) }
          : { type: 'host-result', id: msg.id, ok: true, value };
    } catch (err) {
      reply = { type: 'host-result', id: msg.id, ok: false, error: hostCallError(err) };
    }
  }
  const target = msg.sync ? targets.syncPort : targets.worker;
  try {
    target?.postMessage(reply);
  } catch (err) {
    // A value that is not structured-clone data (a function, a class instance with a symbol...).
    target?.postMessage({
      type: 'host-result',
      id: msg.id,
      ok: false,
      error: {
        code: 'ERR_HOST_CALL_RESULT',
        message: `the result of ${msg.binding}.${msg.method} cannot be sent into the isolate: ${(err as Error).message}`,
      },
    } satisfies HostResultMessage);
  }
  if (msg.sync) {
    Atomics.store(msg.sync, 0, 1);
    Atomics.notify(msg.sync, 0);
  }
}
