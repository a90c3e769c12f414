// Request-body chunks reach an isolate thread in buffers that go round: the host copies what
// it read into a pooled buffer, transfers it to the thread (no copy), and once Python has made
// its `bytes` of it (`request.stream()`), the thread transfers it back with its next credit.
// An upload then allocates no memory per chunk on either side: before, each 64 KiB chunk left
// a dead ArrayBuffer in the host and another in the thread, which V8 frees only after ~64 MiB
// of them ("external memory pressure"), so a 100 MiB upload grew a host process by +40 to
// +90 MiB of RSS.

/** The size of the buffers request-body chunks travel in. */
export const POOL_BUFFER_BYTES = 64 * 1024;

/**
 * The size of the buffers a streamed response leaves an isolate thread in: a message, a frame
 * and a write per 256 KiB rather than per 64 KiB, on every hop to the client.
 */
export const RESPONSE_BUFFER_BYTES = 256 * 1024;

/** Bytes of free buffers a pool keeps (more are dropped). */
const POOL_MAX_FREE_BYTES = 4 * 1024 * 1024;

/**
 * Whether a chunk of `length` bytes is too small for a pooled buffer of `bytes`: it gets one of
 * its own size instead. Credit windows count a chunk's bytes, not its buffer's, so a stream of
 * tiny chunks (an SSE feed, a client sending 1-byte chunks) in pooled buffers would hold up to
 * window / length of them, each of `bytes`; this way a window holds at most 4x its bytes.
 */
export function isSmall(length: number, bytes: number): boolean {
  return length < bytes / 4;
}

/** Whether `buf` has the size of a pooled buffer (so that it may go back to a pool). */
export function isPoolSized(buf: ArrayBufferLike): buf is ArrayBuffer {
  return (
    buf instanceof ArrayBuffer &&
    (buf.byteLength === POOL_BUFFER_BYTES || buf.byteLength === RESPONSE_BUFFER_BYTES)
  );
}

/** Buffers of one size, reused once given back. One per thread and size. */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  /** Buffers this pool handed out or took back: a view at offset 0 of one may be transferred whole. */
  private readonly mine = new WeakSet<ArrayBuffer>();
  private readonly maxFree: number;

  /** @param bytes the size of its buffers. */
  constructor(readonly bytes: number = POOL_BUFFER_BYTES) {
    this.maxFree = Math.max(1, Math.floor(POOL_MAX_FREE_BYTES / bytes));
  }

  /** Free buffers held now. */
  get size(): number {
    return this.free.length;
  }

  /** A buffer to fill (contents undefined). */
  take(): ArrayBuffer {
    const buf = this.free.pop() ?? new ArrayBuffer(this.bytes);
    this.mine.add(buf);
    return buf;
  }

  /** Takes a buffer back (one of its size; others are left to the GC). */
  give(buf: ArrayBuffer): void {
    if (buf.byteLength !== this.bytes || this.free.length >= this.maxFree) return;
    this.mine.add(buf);
    this.free.push(buf);
  }

  /** Takes back the buffer of `chunk`, a view of one of its buffers that nothing uses any more. */
  recycle(chunk: Uint8Array): void {
    this.give(chunk.buffer as ArrayBuffer);
  }

  /** Whether `chunk` is the only view of a pooled buffer (it was filled for it alone). */
  owns(chunk: Uint8Array): boolean {
    return chunk.byteOffset === 0 && this.mine.has(chunk.buffer as ArrayBuffer);
  }

  /**
   * `chunk` as views of pooled buffers, which may be transferred: copied (split at the buffer
   * size), unless it is one already.
   */
  copy(chunk: Uint8Array): Uint8Array[] {
    if (this.owns(chunk)) return [chunk];
    if (isSmall(chunk.byteLength, this.bytes)) return [chunk.slice()];
    const out: Uint8Array[] = [];
    for (let at = 0; at < chunk.byteLength; at += this.bytes) {
      const part = chunk.subarray(at, Math.min(at + this.bytes, chunk.byteLength));
      const view = new Uint8Array(this.take(), 0, part.byteLength);
      view.set(part);
      out.push(view);
    }
    return out;
  }
}

/** This thread's pool of request-body buffers (the host's main thread, or an isolate's). */
export const bodyBufferPool = new BufferPool();

/** This thread's pool of response-body buffers (an isolate thread's). */
export const responseBufferPool = new BufferPool(RESPONSE_BUFFER_BYTES);
