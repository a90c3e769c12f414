// Request-body chunks reach an isolate thread in buffers that go round: the host copies what
// it read into a pooled buffer, transfers it to the thread (no copy), and once Python has made
// its `bytes` of it (`request.stream()`), the thread transfers it back with its next credit.
// An upload then allocates no memory per chunk on either side: before, each 64 KiB chunk left
// a dead ArrayBuffer in the host and another in the thread, which V8 frees only after ~64 MiB
// of them ("external memory pressure"), so a 100 MiB upload grew a host process by +40 to
// +90 MiB of RSS.

/** The size of every pooled buffer. */
export const POOL_BUFFER_BYTES = 64 * 1024;

/** Free buffers a pool keeps (more are dropped): 4 MiB. */
const POOL_MAX_FREE = 64;

/** Buffers of {@link POOL_BUFFER_BYTES}, reused once given back. One per thread. */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  /** Buffers this pool handed out or took back: a view at offset 0 of one may be transferred whole. */
  private readonly mine = new WeakSet<ArrayBuffer>();

  /** Free buffers held now. */
  get size(): number {
    return this.free.length;
  }

  /** A buffer to fill (contents undefined). */
  take(): ArrayBuffer {
    const buf = this.free.pop() ?? new ArrayBuffer(POOL_BUFFER_BYTES);
    this.mine.add(buf);
    return buf;
  }

  /** Takes a buffer back (one of the right size; others are left to the GC). */
  give(buf: ArrayBuffer): void {
    if (buf.byteLength !== POOL_BUFFER_BYTES || this.free.length >= POOL_MAX_FREE) return;
    this.mine.add(buf);
    this.free.push(buf);
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
    const out: Uint8Array[] = [];
    for (let at = 0; at < chunk.byteLength; at += POOL_BUFFER_BYTES) {
      const part = chunk.subarray(at, Math.min(at + POOL_BUFFER_BYTES, chunk.byteLength));
      const view = new Uint8Array(this.take(), 0, part.byteLength);
      view.set(part);
      out.push(view);
    }
    return out;
  }
}

/** This thread's pool (the host's main thread, or an isolate's). */
export const bodyBufferPool = new BufferPool();
