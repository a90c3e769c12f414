// Large buffers a host process reads once at startup (Pyodide's wasm, the baseline snapshot
// file, a worker's decoded heap) are garbage right after use, but V8 frees an ArrayBuffer's
// memory only when a GC collects it: in a host process that was 50-60 MiB of RSS for the
// seconds until the next full GC (router README, "HTTP"). Transferring the buffer into a
// message of a channel whose ports are both closed hands its memory back at once.
import { MessageChannel } from 'node:worker_threads';

/**
 * Frees the memory of `bytes` now, when it is the whole of a (non-shared) ArrayBuffer that
 * nothing else uses: the buffer is detached, so every view of it reads as empty afterwards.
 * Anything else (a slice of a pooled buffer, shared memory) is left alone for the GC.
 */
export function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0) return;
  if (bytes.byteLength !== buffer.byteLength || buffer.byteLength < MIN_RELEASE_BYTES) return;
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [buffer]);
  port1.close();
  port2.close();
}

/** Below this a buffer lives in malloc's heap anyway, and the GC's timing costs little. */
const MIN_RELEASE_BYTES = 1 << 20;
