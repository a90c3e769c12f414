import { hostCallError } from '@pyworkers/isolate';
import type { ForwardCall, ForwardedCall } from '../services/types.js';
import type { ToHost } from './protocol.js';

/**
 * Delivers call `id`, made on a service binding by an isolate of host process `host`, through
 * the router's `forward`, and posts the answer back to the process.
 */
export function deliverForwarded(
  host: number,
  forward: ForwardCall | undefined,
  id: number,
  call: ForwardedCall,
  /** Posts to the process; throws on a value IPC cannot carry. */
  post: (msg: ToHost) => void,
): void {
  const answer = (msg: ToHost): void => {
    try {
      post(msg);
    } catch (err) {
      // A value IPC cannot carry: the caller gets an error instead of waiting forever.
      post({ type: 'forward-result', id, ok: false, error: hostCallError(err) });
    }
  };
  const run = forward
    ? forward(call)
    : Promise.reject(
        Object.assign(new Error(`isolate host ${host} has no router to deliver calls`), {
          code: 'ERR_SERVICE_UNAVAILABLE',
        }),
      );
  run.then(
    (value) => answer({ type: 'forward-result', id, ok: true, value }),
    (err: unknown) => answer({ type: 'forward-result', id, ok: false, error: hostCallError(err) }),
  );
}
