// The sending end of one body stream (see ./body-stream.ts): pulls from its source while the
// receiver has credit and the transport has room.
import type { BodyMessage, BodyStream } from './body-stream.js';
import type { BufferPool } from './buffer-pool.js';
import { releaseChunk } from './chunk-owners.js';

/** Sends a message; `false`: the hop's transport is full, send no more chunks until drained. */
export type Post = (msg: BodyMessage, transfer?: ArrayBuffer[]) => unknown;

const CANCELLED = Symbol('cancelled');

/** The sending end of one stream: pulls from a source while the receiver has credit. */
export class OutboundBody {
  private inflight: number;
  private cancelled = false;
  private touchSource = true;
  private waiter: (() => void) | undefined;
  private onCancel: (() => void) | undefined;
  /** The transport said it was full: wait for {@link OutboundBody.drained}. */
  private full = false;

  /** @param pullStarted send nothing before the receiver's first credit (see {@link BodyStreams.send}). */
  constructor(
    pullStarted: boolean,
    private readonly window: number,
  ) {
    this.inflight = pullStarted ? window : 0;
  }

  credit(bytes: number): void {
    // Never below nothing in flight: a receiver crediting more than it got gains no room.
    this.inflight = Math.max(0, this.inflight - bytes);
    this.wake();
  }

  /** Stops sending; `touchSource: false` leaves an unstarted source untouched for a retry. */
  cancel(touchSource = true): void {
    this.cancelled = true;
    this.touchSource = touchSource;
    this.onCancel?.();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The transport has room again. */
  drained(): void {
    this.full = false;
    this.wake();
  }

  private async hasCredit(): Promise<boolean> {
    while ((this.inflight >= this.window || this.full) && !this.cancelled) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    return !this.cancelled;
  }

  /**
   * The source's next chunk, or {@link CANCELLED} as soon as the stream is cancelled: a cancel
   * must also stop a producer that is waiting for its next chunk (an idle SSE stream). A fresh
   * promise per chunk: racing every chunk against one long-lived "cancelled" promise would
   * leave a reaction on it per chunk, each holding that chunk, so a 100 MiB upload kept ~all
   * of its bytes alive until it ended.
   */
  private nextOrCancel(
    it: AsyncIterator<Uint8Array>,
  ): Promise<IteratorResult<Uint8Array> | typeof CANCELLED> {
    return new Promise((resolve, reject) => {
      this.onCancel = () => resolve(CANCELLED);
      it.next().then(
        (r) => {
          this.onCancel = undefined;
          resolve(r);
        },
        (err: unknown) => {
          this.onCancel = undefined;
          reject(err);
        },
      );
    });
  }

  async pump(
    id: number,
    source: BodyStream,
    post: Post,
    transfer: boolean,
    pool: BufferPool | undefined,
  ): Promise<void> {
    // The source is touched only once the receiver wants it: a pull-started body that the
    // other side refuses can be sent somewhere else, whole.
    if (!(await this.hasCredit())) {
      if (this.touchSource)
        void Promise.resolve(source[Symbol.asyncIterator]().return?.()).catch(() => {});
      return;
    }
    const it = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (!(await this.hasCredit())) break;
        const r = await this.nextOrCancel(it);
        if (r === CANCELLED || this.cancelled) break;
        if (r.done) {
          post({ type: 'body-end', id });
          return;
        }
        const chunk = r.value;
        if (chunk.byteLength === 0) continue;
        this.inflight += chunk.byteLength;
        const owns =
          transfer &&
          chunk.byteOffset === 0 &&
          chunk.byteLength === chunk.buffer.byteLength &&
          chunk.buffer instanceof ArrayBuffer;
        if (pool && !owns) {
          // Into pooled buffers (unless it is one), each transferred: see ./buffer-pool.ts.
          const parts = pool.copy(chunk);
          // Copied: the source's buffer can go back to whoever lent it (../chunk-owners.ts).
          if (parts[0] !== chunk) releaseChunk(chunk);
          for (const part of parts) {
            post({ type: 'body-chunk', id, chunk: part }, [part.buffer as ArrayBuffer]);
          }
          continue;
        }
        // A full transport (a socket whose peer does not read what it credits) holds us back.
        if (
          post({ type: 'body-chunk', id, chunk }, owns ? [chunk.buffer as ArrayBuffer] : []) ===
          false
        ) {
          this.full = true;
        }
      }
      void Promise.resolve(it.return?.()).catch(() => {});
    } catch (err) {
      if (!this.cancelled)
        post({ type: 'body-end', id, error: String((err as Error)?.message ?? err) });
    }
  }
}
