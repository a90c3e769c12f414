// Parent side of the host-call channel: runs the owner's handler and answers the worker thread.
import type { MessagePort, Worker } from 'node:worker_threads';
import { type HostCallHandler, hostCallError } from '../host-call.js';
import type { HostCallMessage, HostResultMessage } from './protocol.js';

/** Where answers go: the worker itself, or (blocking calls) the port the worker waits on. */
export interface HostCallTargets {
  worker: Worker;
  syncPort: MessagePort | undefined;
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
      const { binding, method, args } = msg;
      const value = await handler({ binding, method, args });
      reply = { type: 'host-result', id: msg.id, ok: true, value };
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
