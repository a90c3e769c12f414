/** Granularity of the zero-page scan: one WebAssembly page. */
export const HEAP_PAGE_BYTES = 65536;

function pageIsZero(words: BigUint64Array, first: number, count: number): boolean {
  for (let i = first; i < first + count; i++) if (words[i] !== 0n) return false;
  return true;
}

/**
 * Byte ranges of `heap` that hold non-zero pages, flattened as [start, end, start, end, ...]
 * (adjacent non-zero pages merged). A restore copies only these and zeroes the rest, which
 * halves the page faults on a bare interpreter's heap (about half of it is zero pages).
 * @example const runs = nonZeroRuns(heap); // [0, 1048576, 2097152, 15728640]
 */
export function nonZeroRuns(heap: Uint8Array): number[] {
  const runs: number[] = [];
  const aligned = heap.byteOffset % 8 === 0;
  const whole = Math.floor(heap.length / 8);
  const words = aligned
    ? new BigUint64Array(heap.buffer, heap.byteOffset, whole)
    : new BigUint64Array(heap.slice(0, whole * 8).buffer);
  const pageWords = HEAP_PAGE_BYTES / 8;
  let runStart = -1;
  for (let off = 0; off < heap.length; off += HEAP_PAGE_BYTES) {
    const end = Math.min(off + HEAP_PAGE_BYTES, heap.length);
    const w0 = off / 8;
    const wn = Math.min(pageWords, whole - w0);
    let zero = wn <= 0 || pageIsZero(words, w0, wn);
    if (zero) for (let b = w0 * 8 + wn * 8; b < end; b++) if (heap[b] !== 0) zero = false;
    if (!zero && runStart < 0) runStart = off;
    if (zero && runStart >= 0) {
      runs.push(runStart, off);
      runStart = -1;
    }
  }
  if (runStart >= 0) runs.push(runStart, heap.length);
  return runs;
}
