// Freeing a buffer now rather than at V8's next GC. node:http hands a request body over in a
// buffer of its own per piece it parsed (a copy out of its read buffer); once forwarded, the
// piece is dead, but V8 frees an ArrayBuffer's memory only when a GC finds it, and it counts
// that memory against the old generation's limit, so dead pieces piled up to +36 MiB of the
// router's RSS during a 100 MiB upload (router README, "Uploads and memory"). Detaching a buffer
// (`ArrayBuffer.prototype.transfer(0)`) frees its memory at once.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ChunkOwner } from '@pyworkers/isolate';

type Transfer = (this: ArrayBuffer, length: number) => ArrayBuffer;

/**
 * `ArrayBuffer.prototype.transfer` (Node >= 21). Node 20's V8 has it behind a flag, which
 * applies to contexts made after it is set: taken from such a context (the builtin works on any
 * context's ArrayBuffer), with the flag back as it was at once, so nothing else sees it.
 */
function findTransfer(): Transfer | undefined {
  const own = (ArrayBuffer.prototype as { transfer?: Transfer }).transfer;
  if (typeof own === 'function') return own;
  try {
    setFlagsFromString('--harmony-rab-gsab-transfer');
    try {
      const fn = runInNewContext('ArrayBuffer.prototype.transfer') as unknown;
      return typeof fn === 'function' ? (fn as Transfer) : undefined;
    } finally {
      setFlagsFromString('--no-harmony-rab-gsab-transfer');
    }
  } catch {
    return undefined;
  }
}

let transfer: Transfer | undefined | null = null;

/**
 * Frees `buf`'s memory now (it becomes detached: length 0 in every view). Only for a buffer
 * nothing will read again. Without `transfer` (never seen), the GC frees it as before.
 */
export function freeBuffer(buf: ArrayBufferLike): void {
  if (!(buf instanceof ArrayBuffer) || buf.byteLength === 0) return;
  if (transfer === null) transfer = findTransfer();
  transfer?.call(buf, 0);
}

/**
 * The owner of request-body pieces read by node:http: once a piece is forwarded
 * (`releaseChunk`), its buffer is freed.
 */
export const freeOnRelease: ChunkOwner = {
  recycle(chunk: Uint8Array): void {
    freeBuffer(chunk.buffer);
  },
};
