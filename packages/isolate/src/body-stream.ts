// Bodies that cross a message hop (parent <-> isolate thread, router <-> host process) in
// chunks, with credit-based backpressure: a sender keeps at most WINDOW bytes unacknowledged,
// and the receiver credits bytes back only as its consumer pulls them. So a consumer that
// stops pulling (a client that stops reading) stops the producer after one window per hop.
import { OutboundBody, type Post } from './body-outbound.js';
import { type BufferPool, isPoolSized } from './buffer-pool.js';
import { lendChunk } from './chunk-owners.js';

export { type ChunkOwner, lendChunk, releaseChunk } from './chunk-owners.js';

/** A body that arrives in chunks. Iterate it once; leaving the loop early cancels the sender. */
export type BodyStream = AsyncIterable<Uint8Array>;

/** A whole body (the fast path: one message) or a stream of chunks. */
export type Body = Uint8Array | BodyStream;

/** Bytes a sender may have in flight per stream before the receiver credits them back. */
export const STREAM_WINDOW_BYTES = 256 * 1024;

/**
 * The window of the router <-> host process hop: a credit there crosses two processes (a
 * serialization and a write each way), so a 256 KiB window kept the stream waiting for
 * credit. 100 MiB streamed through a process host: 59 MiB/s at 256 KiB, 141 MiB/s at 1 MiB.
 */
export const IPC_STREAM_WINDOW_BYTES = 1024 * 1024;

/** Bodies up to this size travel inline, in the message that carries the head. */
export const INLINE_BODY_BYTES = 64 * 1024;

/** The messages of one stream hop; `id` is that hop's request id. */
export type BodyMessage =
  | { type: 'body-chunk'; id: number; chunk: Uint8Array }
  | { type: 'body-end'; id: number; error?: string }
  /** `buffers`: pooled chunk buffers the receiver is done with, going back (./buffer-pool.ts). */
  | { type: 'body-credit'; id: number; bytes: number; buffers?: ArrayBuffer[] }
  | { type: 'body-cancel'; id: number };

/** Whether a message belongs to a body stream (and should go to {@link BodyStreams}). */
export function isBodyMessage(msg: { type: string }): msg is BodyMessage {
  return (
    msg.type === 'body-chunk' ||
    msg.type === 'body-end' ||
    msg.type === 'body-credit' ||
    msg.type === 'body-cancel'
  );
}

/** Whether a body is a stream rather than one buffer. */
export function isBodyStream(body: Body | null | undefined): body is BodyStream {
  return body != null && !(body instanceof Uint8Array);
}

/** Collects a body into one buffer (for callers that want it whole). */
export async function readWhole(body: Body): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The receiving end of one stream: an async iterable fed by `body-chunk` messages. */
class InboundBody implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private error: Error | undefined;
  private waiter: (() => void) | undefined;
  private uncredited = 0;
  private iterated = false;

  constructor(
    private readonly credit: (bytes: number) => void,
    private readonly cancel: () => void,
    private readonly done: () => void,
    private readonly pullStarted: boolean,
    private readonly window: number,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.ended) return;
    this.queue.push(chunk);
    this.wake();
  }

  end(error?: string | Error): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.error = typeof error === 'string' ? new Error(error) : error;
    this.done();
    this.wake();
  }

  /** The consumer is done with this body: drop what is queued and tell the sender to stop. */
  abandon(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.cancel();
    this.done();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterated) throw new TypeError('a body stream can be read only once');
    this.iterated = true;
    // The sender of a pull-started body waits for this first window.
    if (this.pullStarted && !this.ended) this.credit(this.window);
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        for (;;) {
          const chunk = this.queue.shift();
          if (chunk) {
            // Credit in batches (a quarter window) rather than one message per chunk.
            this.uncredited += chunk.byteLength;
            if (this.uncredited >= this.window / 4) {
              const bytes = this.uncredited;
              this.uncredited = 0;
              if (!this.ended) this.credit(bytes);
            }
            return { value: chunk, done: false };
          }
          if (this.error) throw this.error;
          if (this.ended) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            this.waiter = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        this.abandon();
        return { value: undefined, done: true };
      },
    };
  }
}

/**
 * Every stream of one hop, in one direction pair: {@link BodyStreams.receive} makes the
 * iterable for a body that arrives here, {@link BodyStreams.send} pumps a local body to the
 * other side, and {@link BodyStreams.onMessage} routes the hop's body messages to them.
 */
export class BodyStreams {
  private readonly inbound = new Map<number, InboundBody>();
  private readonly outbound = new Map<number, OutboundBody>();
  /** Pooled buffers the consumer is done with, sent back with the next credit. */
  private returns: ArrayBuffer[] = [];

  /**
   * @param post sends a message to the other side of the hop.
   * @param transfer whether chunks may be transferred (worker_threads) rather than copied.
   * @param window bytes in flight per stream; both ends of a hop must use the same (the
   *   router <-> host process hop uses {@link IPC_STREAM_WINDOW_BYTES}).
   * @param pools with `transfer`: outbound chunks that are not pooled already are copied into
   *   buffers of the first, and buffers the other side gives back (see
   *   {@link BodyStreams.recycle}) return to the one of their size.
   */
  constructor(
    private readonly post: Post,
    private readonly transfer = false,
    private readonly window = STREAM_WINDOW_BYTES,
    private readonly pools: BufferPool[] = [],
  ) {}

  /**
   * The consumer is done with `chunk` (it copied it): its buffer, if it is a pooled one that
   * came over this hop, goes back to the sender's pool with the next credit. The chunk must
   * not be used after this (its buffer is transferred: detached here).
   */
  recycle(chunk: Uint8Array): void {
    const buf = chunk.buffer;
    if (
      !this.transfer ||
      chunk.byteOffset !== 0 ||
      !isPoolSized(buf) ||
      this.returns.length >= 16
    ) {
      return;
    }
    this.returns.push(buf);
  }

  private sendCredit(id: number, bytes: number): void {
    if (this.returns.length === 0) {
      this.post({ type: 'body-credit', id, bytes });
      return;
    }
    const buffers = this.returns;
    this.returns = [];
    this.post({ type: 'body-credit', id, bytes, buffers }, buffers);
  }

  /**
   * The body of request/response `id`, arriving from the other side. `pullStarted` must match
   * the sender's {@link BodyStreams.send} (request bodies: true, response bodies: false).
   */
  receive(id: number, pullStarted = false): BodyStream {
    const body = new InboundBody(
      (bytes) => this.sendCredit(id, bytes),
      () => this.post({ type: 'body-cancel', id }),
      () => this.inbound.delete(id),
      pullStarted,
      this.window,
    );
    this.inbound.set(id, body);
    return body;
  }

  /**
   * Sends `source` as the body of `id`; resolves when it ended, failed or was cancelled.
   * `pullStarted`: send nothing until the receiver starts reading (request bodies, so that a
   * host that refuses a request has not consumed any of its body); otherwise the first window
   * goes at once (response bodies: the first chunk leaves without a round trip).
   */
  async send(id: number, source: BodyStream, pullStarted = false): Promise<void> {
    const out = new OutboundBody(pullStarted, this.window);
    this.outbound.set(id, out);
    try {
      await out.pump(
        id,
        source,
        this.post,
        this.transfer,
        this.transfer ? this.pools[0] : undefined,
      );
    } finally {
      if (this.outbound.get(id) === out) this.outbound.delete(id);
    }
  }

  /** The transport has room again (after a post answered `false`): sending goes on. */
  drained(): void {
    for (const out of this.outbound.values()) out.drained();
  }

  /** Routes one body message; returns false when no stream of that id is open here. */
  onMessage(msg: BodyMessage): boolean {
    switch (msg.type) {
      case 'body-chunk': {
        const body = this.inbound.get(msg.id);
        // A pooled buffer from the other side (transferred: no other view of it here).
        if (
          body &&
          this.pools.length > 0 &&
          this.transfer &&
          msg.chunk.byteOffset === 0 &&
          isPoolSized(msg.chunk.buffer)
        ) {
          lendChunk(msg.chunk, this);
        }
        body?.push(msg.chunk);
        return body !== undefined;
      }
      case 'body-end': {
        const body = this.inbound.get(msg.id);
        body?.end(msg.error);
        return body !== undefined;
      }
      case 'body-credit': {
        if (msg.buffers) {
          for (const buf of msg.buffers)
            this.pools.find((p) => p.bytes === buf.byteLength)?.give(buf);
        }
        const out = this.outbound.get(msg.id);
        out?.credit(msg.bytes);
        return out !== undefined;
      }
      case 'body-cancel': {
        const out = this.outbound.get(msg.id);
        out?.cancel();
        return out !== undefined;
      }
    }
  }

  /** Ends every stream still arriving with `error` (the other side went away). */
  failAll(error: string | Error): void {
    for (const body of [...this.inbound.values()]) body.end(error);
    for (const out of [...this.outbound.values()]) out.cancel();
  }

  /** Cancels the outbound stream `id`, if it is still being sent. */
  cancel(id: number): void {
    this.outbound.get(id)?.cancel();
  }

  /** Stops sending `id` without touching a source it has not started reading (for a retry elsewhere). */
  forget(id: number): void {
    const out = this.outbound.get(id);
    this.outbound.delete(id);
    out?.cancel(false);
  }

  /** Stops receiving `id` (its consumer is done with it); the sender is told to stop. */
  discard(id: number): void {
    this.inbound.get(id)?.abandon();
  }

  /** Ends the inbound stream `id` with an error, if it is still arriving. */
  fail(id: number, error: string | Error): void {
    this.inbound.get(id)?.end(error);
  }
}
