// Who a body chunk's buffer goes back to once its consumer is done with it (a socket wrote it,
// or it was copied into a pooled buffer): the hop it arrived over (a transferred pooled buffer
// goes back with the next credit), the local pool it was lent from, or whatever else lent it
// (the router frees the buffers node:http reads request bodies into).

/** Takes back the buffer of a chunk nothing uses any more. */
export interface ChunkOwner {
  recycle(chunk: Uint8Array): void;
}

/** Lent chunks, by buffer. */
const origins = new WeakMap<ArrayBufferLike, ChunkOwner>();

/**
 * `chunk`, the only view of its buffer that anyone will read, goes to `owner` once its consumer
 * is done with it ({@link releaseChunk}); until then nothing else uses the buffer. Returns
 * `chunk`.
 */
export function lendChunk(chunk: Uint8Array, owner: ChunkOwner): Uint8Array {
  origins.set(chunk.buffer, owner);
  return chunk;
}

/**
 * The consumer of a body chunk is done with it (a socket wrote it, or it was copied): if it came
 * in a pooled buffer from an isolate thread, the buffer goes back there with the next credit; if
 * it was lent ({@link lendChunk}), it goes back to its owner. The chunk must not be used after
 * this. Any other chunk is left alone.
 */
export function releaseChunk(chunk: Uint8Array): void {
  const from = origins.get(chunk.buffer);
  if (!from) return;
  origins.delete(chunk.buffer);
  from.recycle(chunk);
}
