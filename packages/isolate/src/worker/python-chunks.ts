// Runs inside the worker thread: the chunks of a body a Python handler streams, copied out of
// the Python heap into pooled buffers (../buffer-pool.ts) that go to the host transferred and
// come back once it wrote them (releaseChunk in ../body-stream.ts). Before, each chunk was a
// new JS array (`to_js`), dead in the host once written: the host's main thread spent ~40% of
// its time in GCs V8 started for that external memory.
import type { PyodideAPI } from 'pyodide';
import type { BodyStream } from '../body-stream.js';
import { isSmall, RESPONSE_BUFFER_BYTES, responseBufferPool } from '../buffer-pool.js';

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
  chunk_batches: ((chunks: unknown) => PyProxyLike) & { destroy(): void };
  step_buffer: ((size: number) => BytesProxy) & { destroy(): void };
  next_chunks_eager: ((batches: unknown, limit: number) => unknown) & { destroy(): void };
  close_chunks_eager: ((batches: unknown) => unknown) & { destroy(): void };
  destroy(): void;
}

/** A Python list of `bytes` as JS holds it. */
interface BatchProxy extends PyProxyLike {
  length: number;
  get(i: number): BytesProxy;
}

/**
 * Bytes of ready chunks one step takes from Python (`workers._batches`): a step costs more
 * than copying 64 KiB, so 64 KiB chunks go four to a step.
 */
export const BATCH_BYTES = 256 * 1024;

/**
 * The isolate's step buffer (`workers._batches.StepBuffer`): a step's ready chunks, up to
 * twice {@link BATCH_BYTES} (its last chunk may go past the limit), are copied into it in
 * Python and copied out of the heap here right after the call, in place. A `bytes` joined per
 * step, a list and a `bytes` proxy and a buffer view cost more than the bytes: 100 MiB of 64
 * KiB chunks, stepped from JS in Node outside an isolate, 48-59 -> 27-38 ms.
 */
const STEP_BUFFER_BYTES = 2 * BATCH_BYTES;

/** Copies `data` into pooled buffers (see {@link copyOut}). */
function copyBytes(
  data: Uint8Array,
  fill: { buf: Uint8Array; at: number } | null,
  out: Uint8Array[],
): { buf: Uint8Array; at: number } | null {
  for (let from = 0; from < data.byteLength; ) {
    fill ??= { buf: new Uint8Array(responseBufferPool.take()), at: 0 };
    const n = Math.min(data.byteLength - from, fill.buf.byteLength - fill.at);
    fill.buf.set(data.subarray(from, from + n), fill.at);
    fill.at += n;
    from += n;
    if (fill.at === fill.buf.byteLength) {
      out.push(fill.buf);
      fill = null;
    }
  }
  return fill;
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
    return copyBytes(view.data, fill, out);
  } finally {
    view.release();
    bytes.destroy();
  }
}

/** A view of the step buffer, taken again once the heap grew (which detaches the old one). */
class StepView {
  private view: { data: Uint8Array; release(): void };

  constructor(private readonly buffer: BytesProxy) {
    this.view = buffer.getBuffer('u8');
  }

  /** Its first `n` bytes, valid until Python runs again. */
  bytes(n: number): Uint8Array {
    if (this.view.data.byteLength === 0) {
      this.view.release();
      this.view = this.buffer.getBuffer('u8');
    }
    return this.view.data.subarray(0, n);
  }

  release(): void {
    this.view.release();
    this.buffer.destroy();
  }
}

/**
 * Chunks of a Python async iterator of `bytes`, each step run as an eager task that takes
 * every chunk the producer has ready (up to {@link BATCH_BYTES}): no Promise round trip through
 * the event loop per chunk. Small chunks of one step share a pooled buffer (up to its size); a
 * step ends when the producer has to wait (server-sent events), and what it took leaves at
 * once. The proxies are freed at the end.
 */
export async function* pythonChunks(py: PyodideAPI, proxy: StreamedProxy): BodyStream {
  const chunks = proxy.chunks;
  const steps = py.pyimport('_pyworkers_runtime') as unknown as ChunkSteps;
  const open = steps.chunk_batches;
  const next = steps.next_chunks_eager;
  const close = steps.close_chunks_eager;
  const makeBuffer = steps.step_buffer;
  const stepView = new StepView(makeBuffer(STEP_BUFFER_BYTES));
  const batches = open(chunks);
  let done = false;
  try {
    for (;;) {
      const step = next(batches, BATCH_BYTES);
      const out: Uint8Array[] = [];
      let fill: { buf: Uint8Array; at: number } | null = null;
      if (typeof step === 'number') {
        // Copied into the step buffer: out of it now, before Python runs again.
        fill = copyBytes(stepView.bytes(step), fill, out);
      } else {
        const batch = (await settled(step)) as BatchProxy | undefined | null;
        if (batch == null) break;
        try {
          for (let i = 0; i < batch.length; i++) fill = copyOut(batch.get(i), fill, out);
        } finally {
          batch.destroy();
        }
      }
      if (fill && isSmall(fill.at, RESPONSE_BUFFER_BYTES)) {
        // A few bytes (an event): a buffer of their own; the pooled one stays here.
        out.push(fill.buf.slice(0, fill.at));
        responseBufferPool.give(fill.buf.buffer as ArrayBuffer);
      } else if (fill) out.push(fill.buf.subarray(0, fill.at));
      for (const chunk of out) yield chunk;
    }
    done = true;
  } finally {
    // Leaving early closes the Python generator (its `finally` blocks run), after cancelling
    // a wait for its next chunk that the last step left (workers._batches).
    if (!done) await settled(close(batches)).catch(() => undefined);
    stepView.release();
    for (const p of [batches, open, next, close, makeBuffer, steps, chunks, proxy]) p.destroy();
  }
}
