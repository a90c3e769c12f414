// Response bodies of service-binding fetches that the caller pulls: the target's body stays a
// stream here, and the caller's isolate takes it chunk by chunk with host calls on the same
// binding (`__body_read__`), so a body is never held whole on the way and the target is held
// back at the pace the caller reads. A body nobody reads for a while is cancelled.
import { releaseChunk } from '@pyworkers/isolate';
import { RouterError } from '../errors.js';

/** The host-call method that takes the next chunks of a body: args `[id]`, answer bytes or null. */
export const STREAM_READ_METHOD = '__body_read__';
/** The host-call method that cancels a body the caller is done with: args `[id]`. */
export const STREAM_CANCEL_METHOD = '__body_cancel__';

/** One read joins the chunks that are ready up to this many bytes. */
export const READ_JOIN_BYTES = 1024 * 1024;

/**
 * A body not read for this long is cancelled (its target sees the disconnect). Tests set
 * `PYWORKERS_SERVICE_STREAM_IDLE_MS` to make it short.
 */
export const STREAM_IDLE_MS = 30_000;

/** Bodies open at once per table; past it a service fetch fails rather than pile up. */
export const MAX_OPEN_STREAMS = 4096;

// Ids of bodies that are gone, and why, so that a late read says what happened to it.
const GONE_KEPT = 1024;

interface OpenStream {
  /** The worker that made the fetch: only it may read. */
  from: string;
  /** `SERVER.fetch()`, for messages. */
  label: string;
  iterator: AsyncIterator<Uint8Array>;
  /** A `next()` that was not ready when the last read answered: the next read starts there. */
  pending: Promise<IteratorResult<Uint8Array>> | undefined;
  /** Reads asked for and not answered yet; the idle timer runs only while there are none. */
  reads: number;
  /** The last of them: the next one starts after it. */
  turn: Promise<void>;
  timer: NodeJS.Timeout | undefined;
}

/** What {@link ServiceStreams.open} took of a body. */
export interface OpenedBody {
  /** The part that was ready at once (the whole body when `id` is undefined). */
  body: Uint8Array;
  /** Where the rest is read from; undefined when the body ended within `body`. */
  id?: string;
}

const NOT_YET = Symbol('not yet');
// One turn of the event loop: chunks that already arrived (I/O of this turn) are taken too.
const oneTurn = (): Promise<typeof NOT_YET> =>
  new Promise((resolve) => setImmediate(() => resolve(NOT_YET)));

/**
 * The parts as one buffer of their own (not a slice of Node's shared pool, which a message
 * would copy whole): copied, so that a part in a pooled buffer (from an
 * isolate thread) goes back to its pool now, not when the caller's read lets go of it.
 */
function join(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
    releaseChunk(part);
  }
  return out;
}

const idleFromEnv = (): number => {
  const ms = Number(process.env.PYWORKERS_SERVICE_STREAM_IDLE_MS);
  return ms > 0 ? ms : STREAM_IDLE_MS;
};

/** The bodies of service fetches that callers are still reading, by id (one table per process). */
export class ServiceStreams {
  private readonly open_ = new Map<string, OpenStream>();
  private readonly gone = new Map<string, string>();
  private next = 1;

  /**
   * @param prefix starts every id made here (the router's and each host process's differ, so
   *   a host process knows which reads are its own).
   */
  constructor(
    private readonly prefix: string,
    private readonly idleMs = idleFromEnv(),
  ) {}

  /** Bodies open now. */
  get size(): number {
    return this.open_.size;
  }

  /** Whether `id` was made by this table (open or not). */
  owns(id: string): boolean {
    return id.startsWith(this.prefix);
  }

  /**
   * Takes what `body` has ready now, without waiting: a body that ended within it is returned
   * whole (no id); otherwise the rest stays here under a fresh id, for `from` to read.
   */
  async open(body: AsyncIterable<Uint8Array>, from: string, label: string): Promise<OpenedBody> {
    const iterator = body[Symbol.asyncIterator]();
    const stream: OpenStream = {
      from,
      label,
      iterator,
      pending: undefined,
      reads: 0,
      turn: Promise.resolve(),
      timer: undefined,
    };
    const first = await this.take(stream, false);
    if (first.ended) return { body: first.bytes ?? new Uint8Array(0) };
    if (this.open_.size >= MAX_OPEN_STREAMS) {
      this.stop(stream);
      throw new RouterError(
        'ERR_SERVICE_STREAMS_FULL',
        `${label}: ${MAX_OPEN_STREAMS} service response bodies are open and unread; read or drop the bodies of earlier fetches before making more`,
      );
    }
    const id = `${this.prefix}${this.next++}`;
    this.open_.set(id, stream);
    this.arm(id, stream);
    return { body: first.bytes ?? new Uint8Array(0), id };
  }

  /**
   * The next chunks of body `id` (waiting for at least one, joining what is ready up to
   * {@link READ_JOIN_BYTES}), or null at its end. Reads of one body run in the order they
   * came (a caller keeps one ahead, so that a chunk travels while it handles the last one).
   * Rejects for an id that is unknown, gone, or not `from`'s.
   */
  read(id: string, from: string): Promise<Uint8Array | null> {
    const stream = this.open_.get(id);
    if (!stream || stream.from !== from) return Promise.reject(this.unknown(id));
    clearTimeout(stream.timer);
    stream.reads++;
    const run = stream.turn.then(() => this.readNow(id, stream));
    stream.turn = run.then(
      () => this.settled(id, stream),
      () => this.settled(id, stream),
    );
    return run;
  }

  private async readNow(id: string, stream: OpenStream): Promise<Uint8Array | null> {
    // Gone while this read waited for the one before it (the end, a cancel, a failure).
    if (this.open_.get(id) !== stream) throw this.unknown(id);
    let taken: { bytes: Uint8Array | undefined; ended: boolean };
    try {
      taken = await this.take(stream, true);
    } catch (err) {
      this.forget(id, 'it failed');
      throw new RouterError(
        'ERR_SERVICE_STREAM',
        `${stream.label}: the response body failed: ${(err as Error)?.message ?? String(err)}`,
        { cause: err },
      );
    }
    if (!taken.ended) return taken.bytes ?? null;
    // Its end comes with the next read, at once.
    if (taken.bytes) {
      stream.pending = Promise.resolve({ done: true, value: undefined });
      return taken.bytes;
    }
    this.forget(id, 'it was read to its end');
    return null;
  }

  private settled(id: string, stream: OpenStream): void {
    stream.reads--;
    if (stream.reads === 0 && this.open_.get(id) === stream) this.arm(id, stream);
  }

  /** Cancels body `id` (its caller is done with it): the target sees the disconnect. */
  cancel(id: string, from: string, why = 'its reader cancelled it'): void {
    const stream = this.open_.get(id);
    if (!stream || stream.from !== from) return;
    this.forget(id, why);
    this.stop(stream);
  }

  /** Cancels every open body (the router or host process is closing). */
  close(): void {
    for (const [id, stream] of [...this.open_]) {
      this.forget(id, 'the server closed');
      this.stop(stream);
    }
  }

  private async take(
    stream: OpenStream,
    wait: boolean,
  ): Promise<{ bytes: Uint8Array | undefined; ended: boolean }> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const next = stream.pending ?? stream.iterator.next();
      stream.pending = undefined;
      const got = wait && parts.length === 0 ? await next : await Promise.race([next, oneTurn()]);
      if (got === NOT_YET) {
        // Kept for the next read; a failure there is seen then, not reported as unhandled now.
        next.catch(() => {});
        stream.pending = next;
        break;
      }
      if (got.done) return { bytes: parts.length ? join(parts, size) : undefined, ended: true };
      if (got.value.byteLength === 0) continue;
      parts.push(got.value);
      size += got.value.byteLength;
      if (size >= READ_JOIN_BYTES) break;
    }
    return { bytes: parts.length ? join(parts, size) : undefined, ended: false };
  }

  private arm(id: string, stream: OpenStream): void {
    stream.timer = setTimeout(() => {
      this.forget(id, `nobody read it for ${this.idleMs / 1000} s`);
      this.stop(stream);
    }, this.idleMs);
    stream.timer.unref();
  }

  private stop(stream: OpenStream): void {
    clearTimeout(stream.timer);
    stream.pending?.catch(() => {});
    stream.iterator.return?.().catch(() => {});
  }

  private forget(id: string, why: string): void {
    const stream = this.open_.get(id);
    if (!stream) return; // gone already: the first reason stays
    clearTimeout(stream.timer);
    this.open_.delete(id);
    this.gone.set(id, why);
    if (this.gone.size > GONE_KEPT) this.gone.delete(this.gone.keys().next().value!);
  }

  private unknown(id: string): RouterError {
    const why = this.gone.get(id);
    return new RouterError(
      'ERR_SERVICE_STREAM_GONE',
      why
        ? `the response body of a service fetch (stream ${id}) is gone: ${why}`
        : `no open service response body has id ${JSON.stringify(id)} (for this worker)`,
    );
  }
}
