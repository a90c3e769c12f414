// What keeps a host's isolate counted busy after its handler returned: an accepted WebSocket
// until it closes, a streamed body until it ends (neither evicted nor counted idle meanwhile).
import { type BodyStream, isIsolateError, type WebSocketPeer } from '@pyworkers/isolate';

/** Whether `err` means the isolate is gone (not just its handler raising). */
export function isCrash(err: unknown): boolean {
  return !(isIsolateError(err) && err.code === 'ERR_ISOLATE_HANDLER');
}

/** `peer`, calling `release` once either side closed it. */
export function untilClosed(peer: WebSocketPeer, release: () => void): WebSocketPeer {
  return {
    send: (data) => peer.send(data),
    get bufferedAmount() {
      return peer.bufferedAmount;
    },
    close: (code, reason) => {
      peer.close(code, reason);
      release();
    },
    get onmessage() {
      return peer.onmessage;
    },
    set onmessage(fn) {
      peer.onmessage = fn;
    },
    get onclose() {
      return peer.onclose;
    },
    set onclose(fn) {
      peer.onclose = (code, reason) => {
        release();
        fn?.(code, reason);
      };
    },
    get ondrain() {
      return peer.ondrain;
    },
    set ondrain(fn) {
      peer.ondrain = fn;
    },
    pause: () => peer.pause?.(),
    resume: () => peer.resume?.(),
  };
}

/** `body`, calling `release` once it ended, failed or its reader left. */
export async function* untilDone(
  body: BodyStream,
  release: () => void,
  drop: (err: unknown) => void,
): BodyStream {
  try {
    yield* body;
  } catch (err) {
    // The isolate was terminated while streaming (a limit, a crash): forget it.
    if (isCrash(err) && isIsolateError(err)) drop(err);
    throw err;
  } finally {
    release();
  }
}
