// Runs inside the worker thread: the chunks of a body a Python handler streams, copied out of
// the Python heap into pooled buffers (../buffer-pool.ts) that go to the host transferred and
// come back once it wrote them (releaseChunk in ../body-stream.ts). Before, each chunk was a
// new JS array (`to_js`), dead in the host once written: the host's main thread spent ~40% of
// its time in GCs V8 started for that external memory.
import type { PyodideAPI } from 'pyodide';
import type { BodyStream } from '../body-stream.js';
import { bodyBufferPool } from '../buffer-pool.js';

export interface PyProxyLike {
  type: string;
  toJs(opts?: object): unknown;
  destroy(): void;
}

/** `_pyworkers_runtime.StreamedResponse` as JS sees it: `chunks` yields Python `bytes`. */
export interface StreamedProxy extends PyProxyLike {
  head(): PyProxyLike;
  chunks: PyProxyLike;
}

/** A Task or coroutine (a PyProxy that is awaitable), as an eager step may return. */
type PendingProxy = PyProxyLike & PromiseLike<unknown> & { cancel?: () => unknown };

/** A Python `bytes` as JS holds it. */
interface BytesProxy extends PyProxyLike {
  getBuffer(type: 'u8'): { data: Uint8Array; release(): void };
}

const isPending = (value: unknown): value is PendingProxy =>
  typeof (value as { then?: unknown } | null | undefined)?.then === 'function';

/** What an eager call gave, awaited when it is a Task or coroutine (whose proxy is freed). */
export async function settled(result: unknown): Promise<unknown> {
  if (!isPending(result)) return result;
  try {
    return await result;
  } finally {
    if (typeof result.destroy === 'function') result.destroy();
  }
}

/** `_pyworkers_runtime`'s eager stepping of a streamed body (see `handle_eager`). */
interface ChunkSteps {
  next_chunk_eager: ((chunks: unknown) => unknown) & { destroy(): void };
  close_chunks_eager: ((chunks: unknown) => unknown) & { destroy(): void };
  destroy(): void;
}

/**
 * Copies Python `bytes` into pooled buffers: `fill` is the one being filled (null: take one);
 * full ones go to `out`. Returns the buffer still being filled and its length.
 */
function copyOut(
  bytes: BytesProxy,
  fill: { buf: Uint8Array; at: number } | null,
  out: Uint8Array[],
): { buf: Uint8Array; at: number } | null {
  const view = bytes.getBuffer('u8');
  try {
    const data = view.data;
    for (let from = 0; from < data.byteLength; ) {
      fill ??= { buf: new Uint8Array(bodyBufferPool.take()), at: 0 };
      const n = Math.min(data.byteLength - from, fill.buf.byteLength - fill.at);
      fill.buf.set(data.subarray(from, from + n), fill.at);
      fill.at += n;
      from += n;
      if (fill.at === fill.buf.byteLength) {
        out.push(fill.buf);
        fill = null;
      }
    }
  } finally {
    view.release();
    bytes.destroy();
  }
  return fill;
}

/**
 * Chunks of a Python async iterator of `bytes`, each step run as an eager task: a chunk the
 * producer has ready comes back within the call, without a Promise round trip through the
 * event loop per chunk. Small chunks the producer has ready one after another share a pooled
 * buffer (up to its size); a chunk it had to wait for (server-sent events) leaves at once.
 * The proxies are freed at the end.
 */
export async function* pythonChunks(py: PyodideAPI, proxy: StreamedProxy): BodyStream {
  const chunks = proxy.chunks;
  const steps = py.pyimport('_pyworkers_runtime') as unknown as ChunkSteps;
  const next = steps.next_chunk_eager;
  const close = steps.close_chunks_eager;
  // The producer's next chunk, when it was not ready while filling (a Task to await).
  let waiting: PendingProxy | undefined;
  let done = false;
  try {
    for (;;) {
      const first = (await settled(waiting ?? next(chunks))) as BytesProxy | undefined | null;
      waiting = undefined;
      if (first == null) break;
      const out: Uint8Array[] = [];
      let fill = copyOut(first, null, out);
      let ended = false;
      let failure: { error: unknown } | undefined;
      // Ready chunks join the buffer being filled, until it is full.
      while (fill !== null) {
        let step: unknown;
        try {
          step = next(chunks);
        } catch (error) {
          // The producer raised: what it gave before goes out first.
          failure = { error };
          break;
        }
        if (isPending(step)) {
          waiting = step;
          break;
        }
        if (step == null) {
          ended = true;
          break;
        }
        fill = copyOut(step as BytesProxy, fill, out);
      }
      if (fill) out.push(fill.buf.subarray(0, fill.at));
      for (const chunk of out) yield chunk;
      if (failure) throw failure.error;
      if (ended) break;
    }
    done = true;
  } finally {
    if (waiting) {
      // Left while the producer waits for its next chunk: stop that wait first (a generator
      // cannot be closed while it runs).
      waiting.cancel?.();
      await settled(waiting).catch(() => undefined);
    }
    // Leaving early closes the Python generator (its `finally` blocks run).
    if (!done) await settled(close(chunks)).catch(() => undefined);
    next.destroy();
    close.destroy();
    steps.destroy();
    chunks.destroy();
    proxy.destroy();
  }
}
